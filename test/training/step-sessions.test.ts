/**
 * One step session per run for steps without random ops, one per epoch (with its own Dropout seeds) for the rest;
 * and a run on one session ends with the weights of the same run resumed after every epoch (a fresh session each
 * time), bit for bit: reusing the session changes no result.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { buildMlp } from '../../src/models/builders.js';
import { insertDropout } from '../../src/passes/insert-dropout.js';
import { StepSessions } from '../../src/training/step-sessions.js';
import { stepModels } from '../../src/training/step-runner.js';
import { train } from '../../src/training/trainer.js';
import { bytesOf, checkpointTensors, MNIST_SUBSET, tempDir, writeSmallMlp } from './fixtures/runs.js';

const dir = tempDir('step-sessions');

function feedableStep(withDropout: boolean) {
  const model = buildMlp({ hidden: [8], seed: 0 });
  if (withDropout) insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 1 });
  return stepModels(compileTrainStep(model, { loss: 'cross-entropy', optimizer: 'sgd' })).step;
}

describe('StepSessions', () => {
  it('keeps one session across epochs when the step has no random op', async () => {
    const sessions = new StepSessions(feedableStep(false), 0, {});
    const first = await sessions.forEpoch(0);
    await sessions.endEpoch();
    expect(await sessions.forEpoch(1)).toBe(first);
    await sessions.release();
  });

  it('opens a session per epoch, with that epoch\'s Dropout seeds, when the step has Dropout', async () => {
    const model = feedableStep(true);
    const sessions = new StepSessions(model, 0, {});
    const seedOf = () => model.graph.nodes.find((n) => n.opType === 'Dropout')!.attrs.int('seed');
    const first = await sessions.forEpoch(0);
    const seed0 = seedOf();
    await sessions.endEpoch();
    const second = await sessions.forEpoch(1);
    expect(second).not.toBe(first);
    expect(seedOf()).not.toEqual(seed0);
    await sessions.release();
  });
});

describe('train() on one session', () => {
  it('ends with the weights of the same run resumed after every epoch', async () => {
    const model = await writeSmallMlp(dir);
    const settings = { model, data: MNIST_SUBSET, limit: 300, valSplit: 0, batchSize: 32, lr: 0.05, optimizer: 'adam' as const };
    await train({ ...settings, epochs: 3, out: join(dir, 'whole') });
    const stepwise = join(dir, 'stepwise');
    await train({ ...settings, epochs: 1, out: stepwise });
    await train({ ...settings, epochs: 2, out: stepwise }, {}, { resume: true });
    await train({ ...settings, epochs: 3, out: stepwise }, {}, { resume: true });
    const a = await checkpointTensors(join(dir, 'whole'));
    const b = await checkpointTensors(stepwise);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, t] of a) expect(bytesOf(b.get(name)!.data).equals(bytesOf(t.data)), name).toBe(true);
  });
});
