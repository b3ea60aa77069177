/**
 * The fuzz harness (fuzz/, `npm run fuzz`): a seeded 1,000-case slice of the mutations through load, inspect,
 * convert and compile must give no failure; the pool must catch, from outside the process, each way a case can fail
 * (a hang, a crash, an out-of-memory in and outside V8's heap, an uncaught throw, a stack trace) and print the seed
 * and case that replay it; and the cases the first 20,000-case run found stay fixed.
 *
 * The pool forks the compiled worker in .fuzz/ (`npm test` builds it first, as it builds dist/ for the CLI tests).
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus, makeCase } from '../../fuzz/cases.js';
import { DEFAULT_OPTIONS, formatReport, runFuzz, WORKER_PATH } from '../../fuzz/pool.js';
import { classify, STAGES } from '../../fuzz/targets.js';
import { RegraftError } from '../../src/errors.js';

const MISBEHAVING_WORKER = join(import.meta.dirname, 'fixtures', 'misbehaving-worker.mjs');

/**
 * The 136 cases of seed 1 that the first 20,000-case run failed: all refusals whose message spanned lines, because
 * a name or op type read from the damaged file held a newline (`no upgrade rule for Sig<newline>moid`), in load (3),
 * convert (103) and compile (30). RegraftError now escapes control characters, so every refusal is one line.
 */
const FOUND_BY_THE_FIRST_RUN = [
  142, 185, 383, 456, 502, 654, 657, 736, 738, 956, 1359, 1378, 1480, 1703, 1969, 2738, 3054, 3343, 3526, 3607, 3815, 3983, 4018, 4030,
  4135, 4243, 4657, 4757, 4837, 4868, 4909, 5266, 5316, 5662, 5986, 6007, 6021, 6180, 6192, 6465, 6533, 6574, 6597, 6650, 6909, 6953,
  6978, 7132, 7149, 7169, 7239, 7373, 7394, 7500, 7575, 7744, 7755, 7962, 8170, 8429, 8463, 8541, 8574, 8588, 8626, 8753, 8804, 8873,
  9095, 9151, 9234, 9420, 9457, 9489, 10080, 10178, 10314, 10548, 10711, 10738, 10779, 10840, 11237, 11512, 11521, 11628, 11669, 11820,
  11982, 12127, 12174, 12241, 12850, 12942, 12991, 13072, 13179, 13206, 13354, 13722, 13903, 13943, 14047, 14377, 14935, 15011, 15175,
  15176, 15453, 15522, 15777, 15966, 16000, 16065, 16172, 16322, 16727, 16780, 16857, 16864, 16995, 17090, 17129, 17206, 17433, 17677,
  17860, 18073, 18220, 18547, 18798, 19054, 19253, 19477, 19487, 19857,
];

function fuzzFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('regraft-fuzz-'));
}

describe('npm run fuzz', () => {
  it('is built: the worker the pool forks exists (npm test compiles fuzz/ into .fuzz/; alone: npm run build:fuzz)', () => {
    expect(existsSync(WORKER_PATH), `${WORKER_PATH} is missing: run npm run build:fuzz`).toBe(true);
  });

  it('the seeded 1,000-case slice (seed 1, cases 0-999) fails nowhere, and its cases reach every stage', async () => {
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 1, cases: 1000 });
    expect(formatReport(report).slice(3)).toEqual([]);
    expect(report.failures).toEqual([]);
    // Every case is accounted for: refused at one stage (one line) or accepted by all four.
    expect(STAGES.reduce((n, s) => n + report.refusedAt[s], report.passedAll)).toBe(1000);
    // A slice refused wholesale at load would test only the decoder: the mutations must reach the later stages too.
    for (const stage of STAGES) expect(report.refusedAt[stage], `refused at ${stage}`).toBeGreaterThan(0);
    expect(report.passedAll).toBeGreaterThan(0);
  }, 120_000);

  it('replays the 136 cases the first 20,000-case run found (multi-line refusals): every one is a one-line refusal now', async () => {
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 1, cases: FOUND_BY_THE_FIRST_RUN });
    expect(report.failures).toEqual([]);
    expect(report.refusedAt.load + report.refusedAt.convert + report.refusedAt.compile).toBe(FOUND_BY_THE_FIRST_RUN.length);
  }, 60_000);

  it('a case is the same bytes on every run: the seed and case number replay it', () => {
    const corpus = loadCorpus();
    const a = makeCase(corpus, 7, 1234);
    const b = makeCase(corpus, 7, 1234);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.mutations).toEqual(b.mutations);
    expect(Buffer.from(makeCase(corpus, 8, 1234).bytes).equals(Buffer.from(a.bytes))).toBe(false);
  });
});

describe('what counts as a failure', () => {
  it('inside a case: any throw but a one-line RegraftError', () => {
    expect(classify(new RegraftError("m.onnx: node 'a': input 0 'x' is not defined"), 'compile')).toBeUndefined();
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'dims')"), 'inspect')).toMatchObject({
      stage: 'inspect', kind: 'stack trace', message: "TypeError: Cannot read properties of undefined (reading 'dims')",
    });
    expect(classify(new RangeError('Maximum call stack size exceeded'), 'load')).toMatchObject({ kind: 'stack trace' });
    const multiLine = new RegraftError('placeholder');
    multiLine.message = 'first line\nsecond line';
    expect(classify(multiLine, 'convert')).toMatchObject({ kind: 'multi-line error', message: 'first line' });
  });

  it('from outside the process: a hang (past the timeout), a crash, out of memory in and outside the heap, an uncaught throw; each with its replay command, and the next case still runs', async () => {
    const before = fuzzFolders();
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 3, cases: 8, workers: 2, timeoutMs: 3000, heapMb: 64, rssMb: 150, workerPath: MISBEHAVING_WORKER });
    const kinds = Object.fromEntries(report.failures.map((f) => [f.id, f.kind]));
    expect(kinds).toEqual({ 1: 'hang', 2: 'crash', 3: 'out of memory', 4: 'out of memory', 5: 'stack trace', 6: 'stack trace' });
    expect(report.failures.find((f) => f.id === 5)!.message).toBe('RangeError: Maximum call stack size exceeded');
    expect(report.failures.find((f) => f.id === 6)!.stage).toBe('inspect');
    // Cases 0 and 7 ran in workers started after others were killed.
    expect(report.passedAll).toBe(1);
    expect(report.refusedAt.load).toBe(1);
    const lines = formatReport(report);
    expect(lines[2]).toBe('  failures: 6');
    for (const id of [1, 2, 3, 4, 5, 6]) expect(lines).toContain(`  reproduce: npm run fuzz -- --seed 3 --case ${id}`);
    expect(lines).toContain('FAIL case 1: hang: no answer within 3 s');
    // The killed workers' files went with the pool's folder.
    expect(fuzzFolders().filter((f) => !before.includes(f))).toEqual([]);
  }, 60_000);
});
