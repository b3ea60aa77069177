/**
 * The child side of the process pool: forked once per trial (dist/tune/worker.js), it imports the trial module,
 * runs `runTrial`, relays every epoch report to the parent and waits for its continue/stop answer, then sends the
 * result and exits. It exits on its own as soon as the parent goes away, so a killed study leaves no trial running.
 */
import { pathToFileURL } from 'node:url';
import { describeError } from '../errors.js';
import type { ParentMessage, WorkerMessage } from './ipc.js';
import type { EpochDecision, TrialContext, TrialFunction } from './types.js';

const pendingDecisions = new Map<number, (decision: EpochDecision) => void>();
let nextSeq = 0;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function loadTrialFunction(modulePath: string): Promise<TrialFunction> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { runTrial?: unknown };
  if (typeof mod.runTrial !== 'function') {
    throw new Error(`trial module ${modulePath} does not export a function runTrial(params, ctx)`);
  }
  return mod.runTrial as TrialFunction;
}

async function runJob(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const { job } = message;
  const ctx: TrialContext = {
    trialId: job.trialId,
    runDir: job.runDir,
    seed: job.seed,
    threads: message.threads,
    report: (epoch, metrics) =>
      new Promise<EpochDecision>((resolve) => {
        const seq = nextSeq++;
        pendingDecisions.set(seq, resolve);
        void send({ type: 'epoch', seq, epoch, metrics });
      }),
  };
  try {
    const runTrial = await loadTrialFunction(message.modulePath);
    const metrics = await runTrial(job.params, ctx);
    await send({ type: 'result', metrics });
  } catch (err) {
    await send({ type: 'error', message: describeError(err) });
  }
  // Trainers may hold native handles (sessions, thread pools) that would keep the process alive.
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'run') {
    void runJob(message);
  } else if (message.type === 'decision') {
    pendingDecisions.get(message.seq)?.(message.decision);
    pendingDecisions.delete(message.seq);
  }
});

process.on('disconnect', () => process.exit(1));

// Ctrl-C in a terminal signals the whole process group: the study driver decides what happens to this trial (it
// kills this process and puts the trial back), so dying on the signal first would only make it look failed.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

process.on('uncaughtException', (err) => {
  void send({ type: 'error', message: `uncaught exception: ${describeError(err)}` }).then(() => process.exit(1));
});
process.on('unhandledRejection', (reason) => {
  void send({ type: 'error', message: `unhandled rejection: ${describeError(reason)}` }).then(() => process.exit(1));
});
