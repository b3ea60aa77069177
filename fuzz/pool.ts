/**
 * Runs fuzz cases in worker processes, so that what cannot be caught inside a process is caught from outside: a
 * case that takes longer than the timeout (5 s) is a hang and its worker is killed; a worker that dies is a crash,
 * or an out-of-memory when V8 says so or its resident memory passes the cap (the heap is capped with
 * --max-old-space-size; memory outside the heap, such as a huge ArrayBuffer, by watching /proc/PID/status). A
 * replacement worker takes the next case. Every failure carries the seed and case number that reproduce it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, makeCase, REPO_ROOT, type Corpus } from './cases.js';
import type { ToPool, ToWorker } from './protocol.js';
import { STAGES, type Stage, type StageResults } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** Case numbers to run: a count (0 .. n-1) or a list. */
  cases: number | readonly number[];
  workers: number;
  /** Per case (the issue's hang bound: 5 s). */
  timeoutMs: number;
  /** V8 heap cap of a worker (--max-old-space-size), and the resident-memory cap that counts as out of memory. */
  heapMb: number;
  rssMb: number;
  /** The worker script to fork (the compiled worker.ts; the harness's own tests pass one that misbehaves on purpose). */
  workerPath?: string;
  /** Called now and then with the cases done so far. */
  onProgress?(done: number, total: number): void;
}

export const DEFAULT_OPTIONS: Omit<FuzzOptions, 'cases'> = { seed: 1, workers: 2, timeoutMs: 5000, heapMb: 512, rssMb: 1536 };

export type FailureKind = 'stack trace' | 'multi-line error' | 'crash' | 'hang' | 'out of memory';

export interface FuzzFailure {
  id: number;
  kind: FailureKind;
  stage?: Stage;
  model: string;
  mutations: string[];
  message: string;
  stack?: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  seconds: number;
  /** Cases refused at each stage (a one-line RegraftError), and cases every stage accepted. */
  refusedAt: Record<Stage, number>;
  passedAll: number;
  failures: FuzzFailure[];
}

/** The compiled worker (npm run fuzz and the test slice compile fuzz/ into .fuzz/ first). */
export const WORKER_PATH = join(REPO_ROOT, '.fuzz', 'fuzz', 'worker.js');

interface Slot {
  child: ChildProcess;
  stderr: string;
  current?: { id: number; timer: NodeJS.Timeout };
  overMemory: boolean;
  watch?: NodeJS.Timeout;
  uncaught?: { message: string; stack: string };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const corpus = loadCorpus();
  const ids = typeof opts.cases === 'number' ? Array.from({ length: opts.cases }, (_, i) => i) : [...opts.cases];
  const report: FuzzReport = { seed: opts.seed, cases: ids.length, seconds: 0, refusedAt: Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>, passedAll: 0, failures: [] };
  const started = performance.now();
  // The workers' files, removed at the end even when a worker was killed mid-case.
  const folder = mkdtempSync(join(tmpdir(), 'regraft-fuzz-'));
  let next = 0;
  let done = 0;

  try {
    await new Promise<void>((finished, failed) => {
      const record = (results: StageResults) => {
        const refused = STAGES.find((s) => results[s] === 'refused');
        if (refused) report.refusedAt[refused]++;
        else if (STAGES.every((s) => results[s] === 'passed')) report.passedAll++;
      };
      const fail = (id: number, failure: Omit<FuzzFailure, 'id' | 'model' | 'mutations'>) => {
        const c = makeCase(corpus, opts.seed, id);
        report.failures.push({ id, model: c.model, mutations: c.mutations, ...failure });
      };
      const caseDone = () => {
        done++;
        if (done % 250 === 0 || done === ids.length) opts.onProgress?.(done, ids.length);
        if (done === ids.length) finished();
      };
      const feed = (slot: Slot) => {
        if (next >= ids.length) {
          slot.child.disconnect();
          return;
        }
        const id = ids[next++];
        slot.current = {
          id,
          timer: setTimeout(() => {
            fail(id, { kind: 'hang', message: `no answer within ${opts.timeoutMs / 1000} s` });
            slot.current = undefined;
            caseDone();
            replace(slot);
          }, opts.timeoutMs),
        };
        slot.child.send({ type: 'case', id } satisfies ToWorker);
      };
      const replace = (slot: Slot) => {
        slot.child.removeAllListeners('exit');
        clearInterval(slot.watch);
        slot.child.kill('SIGKILL');
        if (done < ids.length) start();
      };
      const start = () => {
        const child = fork(opts.workerPath ?? WORKER_PATH, [], { execArgv: [`--max-old-space-size=${opts.heapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        const slot: Slot = { child, stderr: '', overMemory: false };
        child.stderr!.on('data', (d: Buffer) => (slot.stderr = (slot.stderr + d.toString()).slice(-4000)));
        slot.watch = setInterval(() => {
          if (child.pid !== undefined && residentMb(child.pid) > opts.rssMb) {
            slot.overMemory = true;
            child.kill('SIGKILL');
          }
        }, 100);
        child.on('message', (message: ToPool) => {
          if (message.type === 'uncaught') {
            slot.uncaught = message;
            return;
          }
          if (!slot.current || slot.current.id !== message.id) return;
          clearTimeout(slot.current.timer);
          slot.current = undefined;
          record(message.results);
          if (message.failure) fail(message.id, { kind: message.failure.kind, stage: message.failure.stage, message: message.failure.message, stack: message.failure.stack });
          caseDone();
          feed(slot);
        });
        child.on('exit', (code, signal) => {
          clearInterval(slot.watch);
          const current = slot.current;
          if (!current) return;
          clearTimeout(current.timer);
          // V8's "heap out of memory" may still be in the stderr pipe when the exit is seen: read it to the end first
          // (a grandchild holding the pipe open cannot stall the run: half a second at most).
          afterStderr(child, () => {
            const oom = slot.overMemory || /heap out of memory|Allocation failed|out of memory/i.test(slot.stderr);
            if (slot.uncaught) fail(current.id, { kind: 'stack trace', message: slot.uncaught.message, stack: slot.uncaught.stack });
            else fail(current.id, { kind: oom ? 'out of memory' : 'crash', message: `worker ended (${signal ?? `exit ${code}`})${oom ? '' : `: ${lastLine(slot.stderr)}`}` });
            caseDone();
            if (done < ids.length) start();
          });
        });
        child.on('error', failed);
        child.send({ type: 'start', seed: opts.seed, folder } satisfies ToWorker);
        feed(slot);
      };
      if (ids.length === 0) finished();
      else for (let w = 0; w < Math.min(opts.workers, ids.length); w++) start();
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  report.seconds = (performance.now() - started) / 1000;
  report.failures.sort((a, b) => a.id - b.id);
  return report;
}

function residentMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0; // Not Linux, or the process is gone: the heap cap still holds.
  }
}

/** Calls `then` once the child's stderr has ended, or after 500 ms. */
function afterStderr(child: ChildProcess, then: () => void): void {
  const stderr = child.stderr!;
  if (stderr.readableEnded || stderr.destroyed) return then();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(once, 500);
  stderr.once('end', once);
  stderr.once('close', once);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** The report as lines: the counts, then each failure with the command that reproduces it. */
export function formatReport(r: FuzzReport, corpus?: Corpus): string[] {
  const lines = [
    `${r.cases} cases (seed ${r.seed}) in ${r.seconds.toFixed(1)} s, ${(r.cases / r.seconds).toFixed(0)} cases/s${corpus ? ` over ${corpus.names.length} corpus models` : ''}`,
    `  refused with one line: ${STAGES.map((s) => `${r.refusedAt[s]} at ${s}`).join(', ')}; accepted by every stage: ${r.passedAll}`,
    `  failures: ${r.failures.length}`,
  ];
  for (const f of r.failures) {
    lines.push(`FAIL case ${f.id}: ${f.kind}${f.stage ? ` in ${f.stage}` : ''}: ${f.message}`);
    lines.push(`  ${f.model} after ${f.mutations.join(', then ')}`);
    lines.push(`  reproduce: npm run fuzz -- --seed ${r.seed} --case ${f.id}`);
  }
  return lines;
}
