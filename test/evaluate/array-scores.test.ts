// Scoring labels per position, against hand-computed numbers: every position's logits are (0, ln 3) or (ln 3, 0), so
// softmax gives 3/4 to the larger and a position costs ln(4/3) when the label is the argmax and ln 4 when not.
import { describe, expect, it } from 'vitest';
import { namedArrays } from '../../src/data/index.js';
import { evaluateModelData, evaluationLoader } from '../../src/evaluate/array-scores.js';
import type { ModelData } from '../../src/evaluate/model-data.js';
import type { ClassAxis } from '../../src/compile/losses.js';
import { Tensor } from '../../src/runtime/onnxruntime.js';
import type { Session } from '../../src/runtime/session.js';

const L3 = Math.log(3);
const HIT = Math.log(4 / 3);
const MISS = Math.log(4);

/** A session that returns `logits` whatever it is fed (the data is one batch). */
function fixedSession(logits: number[], dims: number[]): Session {
  return {
    name: 'fixed.onnx',
    provider: 'cpu',
    inputNames: ['x'],
    outputNames: ['logits'],
    inputDims: () => [],
    run: async () => ({ logits: new Tensor('float32', Float32Array.from(logits), dims) }),
    release: async () => {},
  } as Session;
}

function data(labels: number[], labelDims: number[], classAxis?: ClassAxis): ModelData {
  const rows = labelDims[0];
  return {
    arrays: namedArrays({ x: { data: new Float32Array(rows), dims: [rows, 1] }, labels: { data: BigInt64Array.from(labels, BigInt), dims: labelDims } }),
    inputs: ['x'],
    labels: 'labels',
    classAxis,
    numClasses: 2,
    dims: new Map(),
  };
}

describe('evaluateModelData scores every counted position', () => {
  it('classes last [N, T, V]: -100 does not count; loss and accuracy are means over the other positions', async () => {
    // Row 0: argmax 1, 0, 1; row 1: argmax 0, 0, 1. Labels: row 0 = 1 (hit), 1 (miss), -100; row 1 = 0 (hit), 1 (miss), 1 (hit).
    const logits = [0, L3, L3, 0, 0, L3, L3, 0, L3, 0, 0, L3];
    const e = await evaluateModelData(fixedSession(logits, [2, 3, 2]), data([1, 1, -100, 0, 1, 1], [2, 3], -1), { loss: 'cross-entropy', outputName: 'logits' });
    expect(e.kind).toBe('classification');
    if (e.kind !== 'classification') return;
    expect(e.metrics.positions).toBe(5);
    expect(e.metrics.samples).toBe(2);
    expect(e.metrics.accuracy).toBeCloseTo(3 / 5, 12);
    expect(e.metrics.loss).toBeCloseTo((3 * HIT + 2 * MISS) / 5, 6);
    expect(e.metrics.confusion).toEqual([[1, 0], [2, 2]]);
    expect(e.metrics.perplexity).toBeUndefined();
  });

  it('classes on axis 1 [N, C, H, W] with labels [N, H, W]', async () => {
    // One row, 2 classes, 2x2 pixels: class-0 plane then class-1 plane. Argmax per pixel: 1, 0, 1, 0.
    const logits = [0, L3, 0, L3, L3, 0, L3, 0];
    const e = await evaluateModelData(fixedSession(logits, [1, 2, 2, 2]), data([1, 1, -100, 0], [1, 2, 2], 1), { loss: 'cross-entropy', outputName: 'logits' });
    if (e.kind !== 'classification') throw new Error('classification expected');
    expect(e.metrics.positions).toBe(3);
    expect(e.metrics.accuracy).toBeCloseTo(2 / 3, 12);
    expect(e.metrics.loss).toBeCloseTo((2 * HIT + MISS) / 3, 6);
  });

  it('causal-lm: position t predicts label t + 1, the last position none; perplexity is exp(loss)', async () => {
    // Argmax per position: 1, 0, 1 (the last is never scored). Labels 0, 1, 1: position 0 -> 1 (hit), 1 -> 1 (miss).
    const logits = [0, L3, L3, 0, 0, L3];
    const e = await evaluateModelData(fixedSession(logits, [1, 3, 2]), data([0, 1, 1], [1, 3], -1), { loss: 'causal-lm', outputName: 'logits' });
    if (e.kind !== 'classification') throw new Error('classification expected');
    expect(e.metrics.positions).toBe(2);
    expect(e.metrics.accuracy).toBeCloseTo(1 / 2, 12);
    expect(e.metrics.loss).toBeCloseTo((HIT + MISS) / 2, 6);
    expect(e.metrics.perplexity).toBeCloseTo(Math.exp((HIT + MISS) / 2), 6);
  });

  it('one label per sample for [N, C] reports no positions, as before', async () => {
    const e = await evaluateModelData(fixedSession([0, L3, L3, 0], [2, 2]), data([1, 1], [2]), { loss: 'cross-entropy', outputName: 'logits' });
    if (e.kind !== 'classification') throw new Error('classification expected');
    expect(e.metrics.positions).toBeUndefined();
    expect(e.metrics.accuracy).toBe(0.5);
    expect(e.metrics.loss).toBeCloseTo((HIT + MISS) / 2, 6);
  });

  it('one evaluation loader serves every evaluation of the same rows: it never shuffles, and scores as a fresh one does', async () => {
    // Four rows, batches of 3 (the last partial); rows 3, 0, 2 selected in that order. Argmax per row: 1, 0, 1, 0.
    const logits = [0, L3, L3, 0, 0, L3, L3, 0];
    const session: Session = { ...fixedSession([], [0, 2]), run: async (feeds) => {
      // Return the logits of the rows fed, found by their x (x of row r is r).
      const rows = Array.from(feeds.x.data as Float32Array);
      return { logits: new Tensor('float32', Float32Array.from(rows.flatMap((r) => logits.slice(2 * r, 2 * r + 2))), [rows.length, 2]) };
    } } as Session;
    const d: ModelData = {
      ...data([1, 0, 0, 1], [4]),
      arrays: namedArrays({ x: { data: Float32Array.of(0, 1, 2, 3), dims: [4, 1] }, labels: { data: BigInt64Array.of(1n, 0n, 0n, 1n), dims: [4] } }),
    };
    const opts = { loss: 'cross-entropy' as const, outputName: 'logits', batchSize: 3, indices: [3, 0, 2] };
    const loader = evaluationLoader(d, opts);
    for (const epoch of [0, 1, 7]) expect([...loader.epochOrder(epoch)]).toEqual([3, 0, 2]);
    const fresh = await evaluateModelData(session, d, opts);
    const first = await evaluateModelData(session, d, opts, loader);
    const again = await evaluateModelData(session, d, opts, loader);
    expect(first).toEqual(fresh);
    expect(again).toEqual(fresh);
    if (fresh.kind !== 'classification') throw new Error('classification expected');
    // Row 3: label 1, argmax 0 (miss); row 0: label 1, argmax 1 (hit); row 2: label 0, argmax 1 (miss).
    expect(fresh.metrics.samples).toBe(3);
    expect(fresh.metrics.accuracy).toBeCloseTo(1 / 3, 12);
  });
});
