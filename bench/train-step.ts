/**
 * Train-step benchmark: the step regraft compiles for the article's MLP (784-128-10, ReLU, Dropout 0.5,
 * cross-entropy, L2, SGD) against a hand-written step graph of the same math, both run by onnxruntime-node on one
 * thread, alternating in one process so that machine noise hits both alike.
 */
import { Tensor } from '../src/runtime/onnxruntime.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { DataType } from '../src/ir/dtype.js';
import type { Model } from '../src/ir/model.js';
import { boolTensor } from '../src/ir/tensor.js';
import { modelToBytes } from '../src/model-io.js';
import { buildMlp } from '../src/models/builders.js';
import { insertDropout } from '../src/passes/insert-dropout.js';
import { randomFloats, randomInts } from '../src/check/random-inputs.js';
import { createSession, type Session } from '../src/runtime/session.js';
import { scalar } from '../src/runtime/tensors.js';
import { compileTrainStep } from '../src/compile/compile.js';
import { carriedOf, feedableStep } from '../src/compile/step-io.js';
import { LABELS_NAME, LOSS_NAME, LR_NAME, UPDATED_SUFFIX } from '../src/training-interface.js';
import { Rng } from '../src/util/rng.js';

const L2 = 1e-4;
/** Target from the compiler issue: the compiled step reaches at least this share of the hand-written one's speed. */
export const TARGET_RATIO = 0.95;

interface StepUnderTest {
  session: Session;
  feeds: Record<string, Tensor>;
  carried: [string, string][];
}

/** The same step written by hand, node by node: what an expert would emit for this network. */
export function handWrittenStep(): Model {
  const model = buildMlp({ hidden: [128], seed: 0 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const [x] = g.inputs;
  const w1 = g.requireValue('fc1.weight');
  const b1 = g.requireValue('fc1.bias');
  const w2 = g.requireValue('fc2.weight');
  const b2 = g.requireValue('fc2.bias');
  for (const n of [...g.nodes].reverse()) {
    g.removeOutput(n.output(0));
    g.removeNode(n);
  }
  const labels = g.addInput(LABELS_NAME).setTensorType(DataType.INT64, ['N']);
  const lr = g.addInput(LR_NAME).setTensorType(DataType.FLOAT, []);
  const h1 = b.op('Gemm', [x, w1, b1], { transB: 1 });
  const a1 = b.op('Relu', [h1]);
  const [d1, mask] = b.ops('Dropout', [a1, b.scalar(0.5), g.addInitializer(boolTensor('training_on', [true], []))], { seed: 7 }, 2);
  const logits = b.op('Gemm', [d1, w2, b2], { transB: 1 });
  const [lossData, logProb] = b.ops('SoftmaxCrossEntropyLoss', [logits, labels], { reduction: 'mean' }, 2);
  const penalty = b.mul(b.add(b.op('ReduceSumSquare', [w1], { keepdims: 0 }), b.op('ReduceSumSquare', [w2], { keepdims: 0 })), b.scalar(L2 / 2));
  const loss = b.op('Add', [lossData, penalty], {}, { output: LOSS_NAME });
  // dlogits = (softmax - onehot) / N
  const n = b.op('Cast', [b.op('Size', [labels])], { to: DataType.FLOAT });
  const onehot = b.op('OneHot', [labels, b.ints([10]), b.floatInit('onehot_values', [0, 1], [2])], { axis: -1 });
  const dLogits = b.div(b.sub(b.op('Exp', [logProb]), onehot), n);
  const dW2 = b.op('Gemm', [dLogits, d1], { transA: 1 });
  const dB2 = b.reduceSum(dLogits, [0], false);
  const dD1 = b.op('Gemm', [dLogits, w2]);
  const dA1 = b.mul(b.mul(dD1, b.op('Cast', [mask], { to: DataType.FLOAT })), b.scalar(2));
  const dH1 = b.op('Where', [b.op('Greater', [h1, b.scalar(0)]), dA1, b.scalar(0)]);
  const dW1 = b.op('Gemm', [dH1, x], { transA: 1 });
  const dB1 = b.reduceSum(dH1, [0], false);
  const lam = b.scalar(L2);
  const updates: [typeof w1, typeof w1][] = [
    [w1, b.add(dW1, b.mul(w1, lam))],
    [b1, dB1],
    [w2, b.add(dW2, b.mul(w2, lam))],
    [b2, dB2],
  ];
  g.addOutput(loss);
  for (const [p, grad] of updates) {
    g.exposeAsInput(p);
    g.addOutput(b.op('Sub', [p, b.mul(lr, grad)], {}, { output: `${p.name}${UPDATED_SUFFIX}` }));
  }
  g.toposort();
  return model;
}

/** The compiled step for the same network and settings. */
export function compiledStep(): Model {
  const model = buildMlp({ hidden: [128], seed: 0 });
  insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 7 });
  return compileTrainStep(model, { loss: 'cross-entropy', l2: L2, optimizer: 'sgd' }).model;
}

async function prepare(step: Model, batch: number, rng: Rng): Promise<StepUnderTest> {
  const carried = carriedOf(step).map((c): [string, string] => [c.input, c.output]);
  const feedable = feedableStep(step, carried.map(([input]) => input));
  const feeds: Record<string, Tensor> = {};
  for (const [name, t] of feedable.initial) feeds[name] = new Tensor('float32', t.data, t.dims);
  feeds.input = randomFloats([batch, 784], () => rng.next());
  feeds[LABELS_NAME] = randomInts(rng, [batch], 10);
  feeds[LR_NAME] = scalar(0.01);
  const session = await createSession(modelToBytes(feedable.model), { intraOpThreads: 1, name: 'bench step' });
  return { session, feeds, carried };
}

async function runSteps(s: StepUnderTest, steps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const out = await s.session.run(s.feeds);
    for (const [input, output] of s.carried) s.feeds[input] = out[output];
  }
  return performance.now() - t0;
}

export async function benchTrainStep(opts: { rounds?: number; stepsPerRound?: number } = {}): Promise<string> {
  const rounds = opts.rounds ?? 30;
  const steps = opts.stepsPerRound ?? 50;
  const lines = ['train step (784-128-10, ReLU, Dropout 0.5, cross-entropy, L2, SGD; 1 thread; alternating rounds):'];
  const compiled = compiledStep();
  const hand = handWrittenStep();
  lines.push(`  nodes: compiled ${compiled.graph.nodes.length}, hand-written ${hand.graph.nodes.length}`);
  for (const batch of [64, 256]) {
    const rng = new Rng(batch);
    const a = await prepare(compiled, batch, rng);
    const h = await prepare(hand, batch, rng);
    await runSteps(a, 20);
    await runSteps(h, 20);
    // Each round times both back to back, in alternating order. On a shared VM single rounds swing by 2x, so the
    // headline compares each step's fastest round (the least disturbed: the usual microbenchmark estimator); the
    // median of per-round ratios is printed beside it.
    const ratios: number[] = [];
    let ta = 0;
    let th = 0;
    let bestA = Infinity;
    let bestH = Infinity;
    for (let r = 0; r < rounds; r++) {
      let x: number;
      let y: number;
      if (r % 2 === 0) {
        x = await runSteps(a, steps);
        y = await runSteps(h, steps);
      } else {
        y = await runSteps(h, steps);
        x = await runSteps(a, steps);
      }
      ta += x;
      th += y;
      bestA = Math.min(bestA, x);
      bestH = Math.min(bestH, y);
      ratios.push(y / x);
    }
    ratios.sort((p, q) => p - q);
    const median = ratios[Math.floor(ratios.length / 2)];
    const ratio = bestH / bestA;
    const rate = (ms: number, n: number) => (n * steps * batch) / (ms / 1000);
    const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
    lines.push(
      `  batch ${String(batch).padStart(3)}: best round compiled ${fmt(rate(bestA, 1))} vs hand-written ${fmt(rate(bestH, 1))} samples/s, ratio ${ratio.toFixed(3)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}); ` +
        `all rounds ${fmt(rate(ta, rounds))} vs ${fmt(rate(th, rounds))}, median per-round ratio ${median.toFixed(3)}`,
    );
    await a.session.release();
    await h.session.release();
  }
  return lines.join('\n');
}
