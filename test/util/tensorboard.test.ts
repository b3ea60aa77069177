import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { crc32c, EventFileWriter, eventFileName, frameRecord, maskedCrc32c, type ExperimentSpec } from '../../src/util/tensorboard/index.js';
import { pythonWith, type PythonEnv } from '../python.js';
import { readWithTensorBoard, type ReadBack } from '../tensorboard-reader.js';

// TensorBoard event files, read back by TensorBoard itself: its event file loader and EventAccumulator for every
// scalar, its HParams plugin for the experiment, each trial's session start and end, and the session groups its
// HParams tab shows. A wrong checksum makes TensorBoard drop records without a word, so the CRC is also checked
// against published vectors, and a corrupted file is shown to lose records.
const scratch = mkdtempSync(join(tmpdir(), 'regraft-tensorboard-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);

describe('CRC-32C', () => {
  it('matches the published check value and the iSCSI test vectors of RFC 3720', () => {
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("masks as TensorFlow does: rotate right by 15 bits, add 0xa282ead8", () => {
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
    const crc = 0xe3069283;
    expect(maskedCrc32c(bytes('123456789'))).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });
});

describe('TFRecord framing', () => {
  it('is length, masked CRC of the length, data, masked CRC of the data, little-endian', () => {
    const data = bytes('event');
    const record = frameRecord(data);
    const view = new DataView(record.buffer);
    expect(record.length).toBe(8 + 4 + data.length + 4);
    expect(view.getBigUint64(0, true)).toBe(5n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect([...record.subarray(12, 17)]).toEqual([...data]);
    expect(view.getUint32(17, true)).toBe(maskedCrc32c(data));
  });
});

describe('EventFileWriter', () => {
  it("names files as TensorBoard's writer does", () => {
    expect(eventFileName(1_700_000_000.7, 'box', 42, 3)).toBe('events.out.tfevents.1700000000.box.42.3');
    expect(eventFileName(7, 'box', 1, 0)).toBe('events.out.tfevents.0000000007.box.1.0');
    const writer = EventFileWriter.create(join(scratch, 'naming'));
    writer.close();
    expect(readdirSync(join(scratch, 'naming'))).toEqual([expect.stringMatching(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/\./g, '\\.')}\\.${process.pid}\\.\\d+$`))]);
  });

  it('refuses bad steps, values and hparams in one line, and writes after close', () => {
    const writer = EventFileWriter.create(join(scratch, 'refusals'));
    expect(() => writer.writeScalars(-1, { 'train/loss': 1 })).toThrow(new RegraftError('TensorBoard step -1 must be a whole number >= 0'));
    expect(() => writer.writeScalars(1.5, { 'train/loss': 1 })).toThrow('TensorBoard step 1.5 must be a whole number >= 0');
    expect(() => writer.writeScalars(1, { 'train/loss': '1' as unknown as number })).toThrow("TensorBoard scalar 'train/loss' is string, not a number");
    expect(() => writer.writeHParamsExperiment({ timeCreatedSecs: 0, hparams: [{ name: 'x', values: [1, 'a'] }], metrics: [] })).toThrow(
      "hparam 'x' mixes value types (float, string); give values of one type",
    );
    expect(() => writer.writeHParamsExperiment({ timeCreatedSecs: 0, hparams: [{ name: 'lr', interval: { min: 1, max: 0 } }], metrics: [] })).toThrow(
      "hparam 'lr' has interval [1, 0]; give finite bounds with min <= max",
    );
    expect(() => writer.writeSessionEnd({ status: 'done' as 'success', endTimeSecs: 0 })).toThrow("session status 'done' is not one of unknown, success, failure, running");
    writer.close();
    expect(() => writer.writeScalars(1, { 'train/loss': 1 })).toThrow(/is closed; open a new writer$/);
  });

  it('cannot create a file in a folder it cannot make, and says where', () => {
    writeFileSync(join(scratch, 'a-file'), '');
    expect(() => EventFileWriter.create(join(scratch, 'a-file', 'tb'))).toThrow(
      new RegExp(`^cannot create ${join(scratch, 'a-file', 'tb')}/events\\.out\\.tfevents\\..*: a part of the path is a file, not a folder$`),
    );
  });
});

// --- Read back by TensorBoard -----------------------------------------------------------------------------------

/** A clock for the writers: each reading is 0.25 s after the last, from 2026-01-01. */
function clock(): () => number {
  let ms = Date.UTC(2026, 0, 1);
  return () => (ms += 250);
}

const EXPERIMENT: ExperimentSpec = {
  name: 'mnist <mlp> study',
  description: 'lr and batch size',
  timeCreatedSecs: 1_767_225_600.5,
  hparams: [
    { name: 'lr', interval: { min: 0.003, max: 0.3 }, description: 'learning rate' },
    { name: 'batchSize', values: [32, 64, 128] },
    { name: 'optimizer', values: ['adam', 'momentum'] },
    { name: 'nesterov', values: [true, false] },
  ],
  metrics: [
    { tag: 'val/accuracy', dataset: 'validation', displayName: 'validation accuracy' },
    { tag: 'train/loss', dataset: 'training' },
  ],
};

const TRIALS = [
  { id: 1, hparams: { lr: 0.01, batchSize: 32, optimizer: 'adam', nesterov: false }, status: 'success' as const },
  { id: 2, hparams: { lr: 0.2, batchSize: 128, optimizer: 'momentum', nesterov: true }, status: 'failure' as const },
];

/** Per trial: train/loss and train/lr per step, val/loss and val/accuracy per epoch (at the epoch's last step). */
function trialScalars(id: number): { step: number; values: Record<string, number> }[] {
  const out: { step: number; values: Record<string, number> }[] = [];
  for (let step = 1; step <= 6; step++) {
    out.push({ step, values: { 'train/loss': 2.3 / step + id / 7, 'train/lr': 0.003 * (1 - step / 10) } });
    if (step % 3 === 0) out.push({ step, values: { 'val/loss': 1.1 / step + id / 9, 'val/accuracy': 0.6 + step / 30 + id / 1000 } });
  }
  return out;
}

describe('event files read back by TensorBoard', () => {
  let env: PythonEnv;
  let logdir: string;
  let readBack: ReadBack | undefined;
  const written = new Map<string, { file: string; scalars: Map<string, [number, number, number][]> }>();

  beforeAll(async () => {
    env = await pythonWith(['tensorboard']);
    logdir = join(scratch, 'study', 'tb');
    const study = EventFileWriter.create(logdir, { now: clock() });
    study.writeHParamsExperiment(EXPERIMENT);
    study.close();
    for (const trial of TRIALS) {
      const now = clock();
      const writer = EventFileWriter.create(join(logdir, `trial-${trial.id}`), { now });
      writer.writeSessionStart({ hparams: trial.hparams, groupName: `trial-${trial.id}`, startTimeSecs: 1_767_225_700 + trial.id });
      const scalars = new Map<string, [number, number, number][]>();
      for (const { step, values } of trialScalars(trial.id)) {
        const wallTime = 1_767_225_700 + trial.id + step / 4; // given explicitly, as a trainer stamps its steps
        writer.writeScalars(step, values, wallTime);
        for (const [tag, value] of Object.entries(values)) scalars.set(tag, [...(scalars.get(tag) ?? []), [step, Math.fround(value), wallTime]]);
      }
      writer.writeSessionEnd({ status: trial.status, endTimeSecs: 1_767_225_800 + trial.id });
      // Trial 2 is left open, as a running or crashed trainer leaves it: every record must already be readable.
      if (trial.id === 1) writer.close();
      written.set(`trial-${trial.id}`, { file: writer.path.split('/').pop()!, scalars });
    }
    if (env.python !== undefined) readBack = await readWithTensorBoard(env.python, logdir);
  }, 600_000);

  const reader = () => {
    if (readBack === undefined) throw new Error('unreachable: the tests below skip without a reader');
    return readBack;
  };

  it('has TensorBoard to read them with (under CI=true a missing reader fails instead)', ({ skip }) => {
    if (env.missing !== undefined) skip(`TensorBoard's reader cannot be installed here: ${env.missing}`);
    expect(readBack).toBeDefined();
  });

  it('starts every file with the file version, and every scalar arrives with its tag, step, value and time', ({ skip }) => {
    if (env.missing !== undefined) skip(env.missing);
    const { runs } = reader();
    expect(Object.keys(runs).sort()).toEqual(['.', 'trial-1', 'trial-2']);
    for (const [run, { file, first_event, event_count, scalars }] of Object.entries(runs)) {
      expect(first_event.file_version, run).toBe('brain.Event:2');
      if (run === '.') {
        expect(event_count).toBe(2); // file version, experiment
        expect(scalars).toEqual({});
        continue;
      }
      const ours = written.get(run)!;
      expect(file).toBe(ours.file);
      // file version, session start, one event per writeScalars call (6 steps + 2 epochs), session end
      expect(event_count).toBe(1 + 1 + 8 + 1);
      expect(Object.keys(scalars).sort()).toEqual(['train/loss', 'train/lr', 'val/accuracy', 'val/loss']);
      for (const [tag, points] of ours.scalars) expect(scalars[tag], `${run} ${tag}`).toEqual(points);
    }
  });

  it('gives the HParams plugin the experiment, each trial\'s values and how each trial ended', ({ skip }) => {
    if (env.missing !== undefined) skip(env.missing);
    const { runs } = reader();
    expect(runs['.'].hparams).toEqual({
      '_hparams_/experiment': {
        name: 'mnist <mlp> study',
        description: 'lr and batch size',
        time_created_secs: 1_767_225_600.5,
        hparam_infos: [
          { name: 'lr', description: 'learning rate', type: 'DATA_TYPE_FLOAT64', domain_interval: { min_value: 0.003, max_value: 0.3 } },
          { name: 'batchSize', type: 'DATA_TYPE_FLOAT64', domain_discrete: [32, 64, 128] },
          { name: 'optimizer', type: 'DATA_TYPE_STRING', domain_discrete: ['adam', 'momentum'] },
          { name: 'nesterov', type: 'DATA_TYPE_BOOL', domain_discrete: [true, false] },
        ],
        metric_infos: [
          { name: { tag: 'val/accuracy' }, display_name: 'validation accuracy', dataset_type: 'DATASET_VALIDATION' },
          { name: { tag: 'train/loss' }, dataset_type: 'DATASET_TRAINING' },
        ],
      },
    });
    for (const trial of TRIALS) {
      expect(runs[`trial-${trial.id}`].hparams).toEqual({
        '_hparams_/session_start_info': { hparams: trial.hparams, group_name: `trial-${trial.id}`, start_time_secs: 1_767_225_700 + trial.id },
        '_hparams_/session_end_info': { status: trial.status === 'success' ? 'STATUS_SUCCESS' : 'STATUS_FAILURE', end_time_secs: 1_767_225_800 + trial.id },
      });
    }
  });

  it('makes the HParams tab compare the trials by their searched parameters and objective', ({ skip }) => {
    if (env.missing !== undefined) skip(env.missing);
    const { experiment, session_groups } = reader();
    expect((experiment.hparam_infos as { name: string }[]).map((h) => h.name).sort()).toEqual(['batchSize', 'lr', 'nesterov', 'optimizer']);
    expect(session_groups.map((g) => g.name)).toEqual(['trial-1', 'trial-2']);
    for (const [i, group] of session_groups.entries()) {
      const trial = TRIALS[i];
      expect(group.hparams).toEqual(trial.hparams);
      const last = trialScalars(trial.id).filter((s) => 'val/accuracy' in s.values).at(-1)!;
      const lastLoss = trialScalars(trial.id).filter((s) => 'train/loss' in s.values).at(-1)!;
      expect(Object.fromEntries(group.metric_values.map((m) => [m.name.tag, [m.value, m.training_step]]))).toEqual({
        'val/accuracy': [Math.fround(last.values['val/accuracy']), 6],
        'train/loss': [Math.fround(lastLoss.values['train/loss']), 6],
      });
      expect(group.sessions.map((s) => [s.name, s.status])).toEqual([[`trial-${trial.id}`, trial.status === 'success' ? 'STATUS_SUCCESS' : 'STATUS_FAILURE']]);
    }
  });

  it("computes the masked CRC-32C exactly as TensorBoard's reader checks it", ({ skip }) => {
    if (env.missing !== undefined) skip(env.missing);
    const samples = [0, 1, 7, 100, 255].map((n) => {
      const one = Uint8Array.from({ length: n }, (_, i) => i);
      return Uint8Array.from({ length: n * 3 }, (_, i) => one[i % n]);
    });
    expect(samples.map(maskedCrc32c)).toEqual(reader().masked_crc32c);
  });

  it('loses only the record a crash cut short', async ({ skip }) => {
    if (env.python === undefined) return skip(env.missing);
    const run = join(scratch, 'crash', 'run');
    mkdirSync(run, { recursive: true });
    const file = readFileSync(join(logdir, 'trial-1', written.get('trial-1')!.file));
    writeFileSync(join(run, written.get('trial-1')!.file), file.subarray(0, file.length - 5)); // the session end, cut
    const { runs } = await readWithTensorBoard(env.python, join(scratch, 'crash'));
    expect(runs.run.event_count).toBe(1 + 1 + 8);
    expect(runs.run.scalars).toEqual(reader().runs['trial-1'].scalars);
  });

  it('loses the records from a corrupted one on: what a wrong checksum would do, silently', async ({ skip }) => {
    if (env.python === undefined) return skip(env.missing);
    const run = join(scratch, 'corrupt', 'run');
    mkdirSync(run, { recursive: true });
    const source = join(logdir, 'trial-1', written.get('trial-1')!.file);
    const target = join(run, written.get('trial-1')!.file);
    copyFileSync(source, target);
    const file = readFileSync(target);
    // The file version record, the session start record, then the first scalars: flip a byte of its data.
    let offset = 0;
    for (let i = 0; i < 2; i++) offset += 16 + Number(file.readBigUInt64LE(offset));
    file[offset + 12 + 3] ^= 0xff;
    writeFileSync(target, file);
    const { runs } = await readWithTensorBoard(env.python, join(scratch, 'corrupt'));
    expect(runs.run.event_count).toBe(2);
    expect(runs.run.scalars).toEqual({});
  });
});
