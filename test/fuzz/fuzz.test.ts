/**
 * The fuzz harness (fuzz/, `npm run fuzz`): a seeded 1,000-case slice of the mutations through load, inspect,
 * convert and compile must give no failure; the pool must catch, from outside the process, each way a case can fail
 * (a hang, a crash, an out-of-memory in and outside V8's heap, an uncaught throw, a stack trace) and print the seed
 * and case that replay it; and the cases the 20,000-case runs of seeds 1 and 2 found stay fixed.
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
 * Seed 1's first 20,000-case run failed 136 cases, all refusals whose message spanned lines because a name or op
 * type read from the damaged file held a newline (`no upgrade rule for Sig<newline>moid`): 3 in load, 103 in convert,
 * 30 in compile. RegraftError now escapes control characters. Replayed here: the load ones and the first six of the
 * others (10 more are in the slice); test/cli/fuzz-findings.test.ts reproduces the fix on edited corpus models.
 */
const FOUND_BY_SEED_1 = { load: [4243, 6180, 7169], convert: [142, 185, 502, 654, 657, 738], compile: [383, 456, 736, 956, 1359, 1703] };

/**
 * Seed 2's 20,000 cases found 5 stack traces: an opset version of 2^63 - 1 that save could not write (5530, 14877,
 * 18530), now refused at load; a pads list one short whose NaN dimension shape inference wrote (4398, 4698), now
 * left unknown. test/cli/fuzz-findings.test.ts reproduces each on an edited corpus model.
 */
const FOUND_BY_SEED_2 = [4398, 4698, 5530, 14877, 18530];

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

  it('replays multi-line refusals seed 1 found in load, convert and compile: each is a one-line refusal now', async () => {
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 1, cases: Object.values(FOUND_BY_SEED_1).flat() });
    expect(report.failures).toEqual([]);
    // Refused, in one line, at some stage (a refusal may now come at an earlier stage than the one that failed).
    expect(report.refusedAt.load + report.refusedAt.convert + report.refusedAt.compile).toBe(Object.values(FOUND_BY_SEED_1).flat().length);
  }, 60_000);

  it('replays the 5 stack traces seed 2 found: refusals of one line now, or accepted', async () => {
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 2, cases: FOUND_BY_SEED_2 });
    expect(report.failures).toEqual([]);
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
    const report = await runFuzz({ ...DEFAULT_OPTIONS, seed: 3, cases: 8, workers: 2, heapMb: 64, rssMb: 100, workerPath: MISBEHAVING_WORKER });
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
    expect(lines).toContain('FAIL case 1: hang: no answer within 5 s');
    // The killed workers' files went with the pool's folder.
    expect(fuzzFolders().filter((f) => !before.includes(f))).toEqual([]);
  }, 60_000);
});
