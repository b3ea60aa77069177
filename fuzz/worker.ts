/**
 * A fuzz worker process: told the seed once, then case numbers one at a time; it rebuilds each case, runs it
 * through the stages and answers with what happened. The pool that forked it watches its time and memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, makeCase } from './cases.js';
import { runStages } from './targets.js';
import type { ToPool, ToWorker } from './protocol.js';

const corpus = loadCorpus();
let settings: Extract<ToWorker, { type: 'start' }> | undefined;
/** Where each case is written (as a user's file would be); inside the pool's folder, which the pool removes. */
let folder = '';

function send(message: ToPool): void {
  process.send!(message);
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    settings = message;
    folder = mkdtempSync(join(message.folder, 'worker-'));
    return;
  }
  const { seed } = settings!;
  const started = performance.now();
  const fuzzCase = makeCase(corpus, seed, message.id);
  void runStages(fuzzCase.bytes, folder, { loss: fuzzCase.loss }).then(
    ({ results, failure }) => send({ type: 'result', id: message.id, results, failure, ms: performance.now() - started }),
    (err: unknown) => send({ type: 'result', id: message.id, results: {}, failure: { stage: 'load', kind: 'stack trace', message: String(err), stack: (err as Error)?.stack ?? '' }, ms: 0 }),
  );
});

// Something regraft started and did not await (a stray promise, a timer) that throws: a failure of this case.
process.on('uncaughtException', (err) => {
  reportAndExit({ type: 'uncaught', message: `${err.name}: ${err.message.split('\n')[0]}`, stack: err.stack ?? '' });
});
process.on('unhandledRejection', (reason) => {
  const err = reason instanceof Error ? reason : new Error(String(reason));
  reportAndExit({ type: 'uncaught', message: `unhandled rejection: ${err.message.split('\n')[0]}`, stack: err.stack ?? '' });
});
/** Exits once the message is sent: an exit right after process.send() can drop it. */
function reportAndExit(message: ToPool): void {
  process.send!(message, () => process.exit(70));
}

process.on('disconnect', () => {
  rmSync(folder, { recursive: true, force: true });
  process.exit(0);
});
