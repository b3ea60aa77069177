import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochMetrics, StepRecord } from '../../src/training/run-dir.js';
import { metricTag, STEP_TAGS } from '../../src/training/tensorboard-log.js';
import { train } from '../../src/training/trainer.js';
import { encodeEvent, frameRecord } from '../../src/util/tensorboard/index.js';
import { pythonWith, type PythonEnv } from '../python.js';
import { readWithTensorBoard, type ReadBack } from '../tensorboard-reader.js';
import { MNIST_SUBSET, readMetrics, tempDir, writeSmallMlp } from './fixtures/runs.js';

// A run's RUN/tb/ read back by TensorBoard's own reader: every step's loss and rate and every epoch's metrics, as
// steps.jsonl and metrics.jsonl hold them (as float32, TensorBoard's scalar type); a run resumed after a crash that
// left records past its checkpoint holds every step once, with the values of an uninterrupted run.
const dir = tempDir('tensorboard');
const MLP = writeSmallMlp(dir);
/** 240 training samples in batches of 32: 8 optimizer steps an epoch. */
const settings = async (out: string, epochs: number) => ({ model: await MLP, data: MNIST_SUBSET, limit: 300, valSplit: 0.2, batchSize: 32, epochs, lr: 0.1, out: join(dir, out) });
const STEPS_PER_EPOCH = 8;

const readSteps = (run: string) => readFileSync(join(run, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
const f32 = Math.fround;

/** The scalars TensorBoard should hold for a run, by tag, from its jsonl files. */
function expectedScalars(steps: StepRecord[], metrics: EpochMetrics[]): Record<string, [number, number][]> {
  const byEpoch = (name: keyof EpochMetrics) => metrics.map((m) => [m.step, f32(m[name] as number)] as [number, number]);
  return {
    [STEP_TAGS.loss]: steps.map((s) => [s.step, f32(s.loss)]),
    [STEP_TAGS.lr]: steps.map((s) => [s.step, f32(s.lr)]),
    'train/epoch_loss': byEpoch('train_loss'),
    'val/loss': byEpoch('val_loss'),
    'val/accuracy': byEpoch('val_accuracy'),
    'perf/samples_per_sec': byEpoch('samples_per_sec'),
    'perf/epoch_seconds': byEpoch('seconds'),
  };
}

describe('metricTag', () => {
  it('puts each metrics.jsonl name under the tag TensorBoard users know', () => {
    expect(['train_loss', 'val_loss', 'val_accuracy', 'val_mae', 'val_rmse', 'samples_per_sec', 'seconds', 'lr', 'epoch', 'step', 'custom'].map(metricTag)).toEqual([
      'train/epoch_loss', 'val/loss', 'val/accuracy', 'val/mae', 'val/rmse', 'perf/samples_per_sec', 'perf/epoch_seconds', null, null, null, 'epoch/custom',
    ]);
  });
});

describe('RUN/tb/ read back by TensorBoard', () => {
  let env: PythonEnv;
  let full: string;
  let resumed: string;
  let read: ReadBack | undefined;

  beforeAll(async () => {
    env = await pythonWith(['tensorboard']);
    full = (await train(await settings('full', 3))).runDir;
    // Two epochs, then what a crash during epoch 3 leaves in the event file: steps past the checkpoint and a
    // record cut short. The resume cuts them off and writes epoch 3 to a new file.
    resumed = (await train(await settings('resumed', 2))).runDir;
    const [file] = readdirSync(join(resumed, 'tb'));
    const stray = (step: number) => frameRecord(encodeEvent({ wallTime: 1, step, summary: [{ tag: STEP_TAGS.loss, scalar: 99 }] }));
    appendFileSync(join(resumed, 'tb', file), Buffer.concat([stray(17), stray(18), stray(19).subarray(0, 20)]));
    await train(await settings('resumed', 3), {}, { resume: true });
    if (env.python !== undefined) read = await readWithTensorBoard(env.python, dir);
  }, 600_000);

  it('has TensorBoard to read them with (under CI=true a missing reader fails instead)', ({ skip }) => {
    if (env.missing !== undefined) skip(`TensorBoard's reader cannot be installed here: ${env.missing}`);
    expect(read).toBeDefined();
  });

  it('holds every step\'s train/loss and train/lr and every epoch\'s metrics, at the step that ended the epoch', ({ skip }) => {
    if (read === undefined) return skip(env.missing ?? 'no reader');
    const run = read.runs[join('full', 'tb')];
    const steps = readSteps(full);
    const metrics = readMetrics(full);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 3 * STEPS_PER_EPOCH }, (_, i) => i + 1));
    expect(metrics.map((m) => m.step)).toEqual([8, 16, 24]);
    expect(run.first_event.file_version).toBe('brain.Event:2');
    expect(run.raw_scalars).toEqual(expectedScalars(steps, metrics));
    // The accumulator (what the Scalars tab plots) serves the same points.
    for (const [tag, points] of Object.entries(run.raw_scalars)) expect(run.scalars[tag].map(([s, v]) => [s, v]), tag).toEqual(points);
    // The epoch's loss is the sample-weighted mean of its steps (the last step of an epoch has fewer samples).
    expect(metrics[0].train_loss).toBeCloseTo(steps.slice(0, 8).reduce((a, s, i) => a + s.loss * (i === 7 ? 16 : 32), 0) / 240, 6);
  });

  it('a resumed run holds every step once: the crash\'s strays are cut, and its values are the uninterrupted run\'s', ({ skip }) => {
    if (read === undefined) return skip(env.missing ?? 'no reader');
    const run = read.runs[join('resumed', 'tb')];
    expect(run.files).toHaveLength(2);
    const expected = expectedScalars(readSteps(full), readMetrics(full));
    const timing = ['perf/samples_per_sec', 'perf/epoch_seconds'];
    for (const [tag, points] of Object.entries(expected)) {
      const got = run.raw_scalars[tag];
      if (timing.includes(tag)) expect(got.map(([s]) => s), tag).toEqual(points.map(([s]) => s));
      else expect(got, tag).toEqual(points);
    }
    expect(expectedScalars(readSteps(resumed), readMetrics(resumed))).toEqual(run.raw_scalars);
  });

  it('--no-tensorboard (tensorboard: false) writes no tb/', async () => {
    const off = await train({ ...(await settings('off', 1)), limit: 100, tensorboard: false });
    expect(existsSync(join(off.runDir, 'tb'))).toBe(false);
    expect(existsSync(join(off.runDir, 'steps.jsonl'))).toBe(true);
  });
});
