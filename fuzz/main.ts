/**
 * `npm run fuzz`: seeded mutations of the corpus models through load, inspect, convert and compile, in worker
 * processes (see pool.ts). Exit 1 when any case failed; each failure prints the command that reproduces it.
 *
 *   npm run fuzz                               20,000 cases, seed 1, 2 workers
 *   npm run fuzz -- --cases 1000 --seed 7      another slice
 *   npm run fuzz -- --seed 1 --case 1234       one case again, with its stack trace
 *   npm run fuzz -- --save failures/           also write each failing input there (case-<n>.onnx)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCorpus, makeCase } from './cases.js';
import { DEFAULT_OPTIONS, formatReport, runFuzz } from './pool.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '20000' },
    seed: { type: 'string', default: String(DEFAULT_OPTIONS.seed) },
    case: { type: 'string', multiple: true },
    workers: { type: 'string', default: String(DEFAULT_OPTIONS.workers) },
    timeout: { type: 'string', default: String(DEFAULT_OPTIONS.timeoutMs) },
    heap: { type: 'string', default: String(DEFAULT_OPTIONS.heapMb) },
    save: { type: 'string' },
  },
});

const seed = Number(values.seed);
const cases = values.case ? values.case.map(Number) : Number(values.cases);
const corpus = loadCorpus();
const report = await runFuzz({
  ...DEFAULT_OPTIONS,
  seed,
  cases,
  workers: Number(values.workers),
  timeoutMs: Number(values.timeout),
  heapMb: Number(values.heap),
  onProgress: (done, total) => process.stderr.write(`\r${done}/${total} cases`),
});
process.stderr.write('\n');
for (const line of formatReport(report, corpus)) console.log(line);
if (values.case) {
  for (const id of values.case.map(Number)) {
    const c = makeCase(corpus, seed, id);
    console.log(`case ${id}: ${c.model}, ${c.bytes.length} bytes, loss ${c.loss}, after ${c.mutations.join(', then ')}`);
  }
  for (const f of report.failures) if (f.stack) console.log(f.stack);
}
if (values.save && report.failures.length > 0) {
  mkdirSync(values.save, { recursive: true });
  for (const f of report.failures) writeFileSync(join(values.save, `case-${f.id}.onnx`), makeCase(corpus, seed, f.id).bytes);
  console.log(`failing inputs written to ${values.save}`);
}
process.exitCode = report.failures.length > 0 ? 1 : 0;
