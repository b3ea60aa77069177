/**
 * A fuzz worker process: told the seed once, then case numbers one at a time; it rebuilds each case, runs it
 * through the stages and answers with what happened. The pool that forked it watches its time and memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, makeCase } from './cases.js';
import { runStages } from './targets.js';
const corpus = loadCorpus();
const folder = mkdtempSync(join(tmpdir(), 'regraft-fuzz-'));
let settings;
function send(message) {
    process.send(message);
}
process.on('message', (message) => {
    if (message.type === 'start') {
        settings = message;
        return;
    }
    const { seed, trainable } = settings;
    const started = performance.now();
    const fuzzCase = makeCase(corpus, seed, message.id);
    void runStages(fuzzCase.bytes, folder, { loss: fuzzCase.loss, trainable }).then(({ results, failure }) => send({ type: 'result', id: message.id, results, failure, ms: performance.now() - started }), (err) => send({ type: 'result', id: message.id, results: {}, failure: { stage: 'load', kind: 'stack trace', message: String(err), stack: err?.stack ?? '' }, ms: 0 }));
});
// Something regraft started and did not await (a stray promise, a timer) that throws: a failure of this case.
process.on('uncaughtException', (err) => {
    send({ type: 'uncaught', message: `${err.name}: ${err.message.split('\n')[0]}`, stack: err.stack ?? '' });
    process.exit(70);
});
process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    send({ type: 'uncaught', message: `unhandled rejection: ${err.message.split('\n')[0]}`, stack: err.stack ?? '' });
    process.exit(70);
});
process.on('disconnect', () => {
    rmSync(folder, { recursive: true, force: true });
    process.exit(0);
});
