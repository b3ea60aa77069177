/**
 * Runs fuzz cases in worker processes, so that what cannot be caught inside a process is caught from outside: a
 * case that takes longer than the timeout (5 s) is a hang and its worker is killed; a worker that dies is a crash,
 * or an out-of-memory when V8 says so or its resident memory passes the cap (the heap is capped with
 * --max-old-space-size; memory outside the heap, such as a huge ArrayBuffer, by watching /proc/PID/status). A
 * replacement worker takes the next case. Every failure carries the seed and case number that reproduce it.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, makeCase, REPO_ROOT } from './cases.js';
import { STAGES } from './targets.js';
export const DEFAULT_OPTIONS = { seed: 1, workers: 2, timeoutMs: 5000, heapMb: 512, rssMb: 1536, trainable: true };
/** The compiled worker (npm run fuzz and the test slice compile fuzz/ into .fuzz/ first). */
export const WORKER_PATH = join(REPO_ROOT, '.fuzz', 'fuzz', 'worker.js');
export async function runFuzz(opts) {
    const corpus = loadCorpus();
    const ids = typeof opts.cases === 'number' ? Array.from({ length: opts.cases }, (_, i) => i) : [...opts.cases];
    const report = { seed: opts.seed, cases: ids.length, seconds: 0, refusedAt: Object.fromEntries(STAGES.map((s) => [s, 0])), passedAll: 0, failures: [] };
    const started = performance.now();
    let next = 0;
    let done = 0;
    await new Promise((finished, failed) => {
        const record = (results) => {
            const refused = STAGES.find((s) => results[s] === 'refused');
            if (refused)
                report.refusedAt[refused]++;
            else if (STAGES.every((s) => results[s] === 'passed'))
                report.passedAll++;
        };
        const fail = (id, failure) => {
            const c = makeCase(corpus, opts.seed, id);
            report.failures.push({ id, model: c.model, mutations: c.mutations, ...failure });
        };
        const caseDone = () => {
            done++;
            if (done % 250 === 0 || done === ids.length)
                opts.onProgress?.(done, ids.length);
            if (done === ids.length)
                finished();
        };
        const feed = (slot) => {
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
            slot.child.send({ type: 'case', id });
        };
        const replace = (slot) => {
            slot.child.removeAllListeners('exit');
            clearInterval(slot.watch);
            slot.child.kill('SIGKILL');
            if (done < ids.length)
                start();
        };
        const start = () => {
            const child = fork(WORKER_PATH, [], { execArgv: [`--max-old-space-size=${opts.heapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
            const slot = { child, stderr: '', overMemory: false };
            child.stderr.on('data', (d) => (slot.stderr = (slot.stderr + d.toString()).slice(-4000)));
            slot.watch = setInterval(() => {
                if (child.pid !== undefined && residentMb(child.pid) > opts.rssMb) {
                    slot.overMemory = true;
                    child.kill('SIGKILL');
                }
            }, 100);
            child.on('message', (message) => {
                if (message.type === 'uncaught') {
                    slot.uncaught = message;
                    return;
                }
                if (!slot.current || slot.current.id !== message.id)
                    return;
                clearTimeout(slot.current.timer);
                slot.current = undefined;
                record(message.results);
                if (message.failure)
                    fail(message.id, { kind: message.failure.kind, stage: message.failure.stage, message: message.failure.message, stack: message.failure.stack });
                caseDone();
                feed(slot);
            });
            child.on('exit', (code, signal) => {
                clearInterval(slot.watch);
                const current = slot.current;
                if (!current)
                    return;
                clearTimeout(current.timer);
                const oom = slot.overMemory || /heap out of memory|Allocation failed|out of memory/i.test(slot.stderr);
                if (slot.uncaught)
                    fail(current.id, { kind: 'stack trace', message: slot.uncaught.message, stack: slot.uncaught.stack });
                else
                    fail(current.id, { kind: oom ? 'out of memory' : 'crash', message: `worker ended (${signal ?? `exit ${code}`})${oom ? '' : `: ${lastLine(slot.stderr)}`}` });
                caseDone();
                if (done < ids.length)
                    start();
            });
            child.on('error', failed);
            child.send({ type: 'start', seed: opts.seed, trainable: opts.trainable });
            feed(slot);
        };
        if (ids.length === 0)
            finished();
        else
            for (let w = 0; w < Math.min(opts.workers, ids.length); w++)
                start();
    });
    report.seconds = (performance.now() - started) / 1000;
    report.failures.sort((a, b) => a.id - b.id);
    return report;
}
function residentMb(pid) {
    try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return kb === undefined ? 0 : Number(kb) / 1024;
    }
    catch {
        return 0; // Not Linux, or the process is gone: the heap cap still holds.
    }
}
function lastLine(text) {
    return text.trim().split('\n').pop() ?? '';
}
/** The report as lines: the counts, then each failure with the command that reproduces it. */
export function formatReport(r, corpus) {
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
