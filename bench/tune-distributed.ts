/**
 * Distributed tuning on PostgreSQL (a throwaway cluster started here): the same 16-trial study run by 1 worker
 * process and by 4, wall time side by side, and the store's overhead per trial (claiming it, its heartbeats, its
 * epoch reports and ASHA rungs, recording the result), median over a study's trials, against a 20 ms target.
 * Trials wait rather than compute (sleep-trial.ts), as trials on other hosts would from this machine's view.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startThrowawayPostgres } from '../test/postgres.js';
import type { ClaimedTrial } from '../src/tune/store/study-store.js';
import { tune } from '../src/tune/study.js';
import { runTrial } from './sleep-trial.js';

const TRIALS = 16;

function studyConfig(parallel: number) {
  return {
    space: { x: { uniform: [0, 1] } },
    objective: { metric: 'score', mode: 'max' as const },
    strategy: 'tpe',
    trials: TRIALS,
    parallel,
    seed: 0,
    pruner: { asha: { minEpochs: 1, eta: 3, maxEpochs: 3, minTrialsAtRung: 100 } },
  };
}

async function timeWorkers(url: string, name: string, workers: number): Promise<number> {
  const script = fileURLToPath(new URL('./distributed-worker.js', import.meta.url));
  const t0 = performance.now();
  // Every worker gets the config: the first to arrive creates the study, the others join it.
  await Promise.all(Array.from({ length: workers }, () => new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [script, url, name, JSON.stringify(studyConfig(1))], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench worker exited with ${code}`))));
  })));
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Store time attributed to each trial: its claim, its reports and result, and its share of every heartbeat. */
async function storeOverheadPerTrial(url: string): Promise<number[]> {
  const perTrial = new Map<number, number>();
  const add = (dbId: number, ms: number) => perTrial.set(dbId, (perTrial.get(dbId) ?? 0) + ms);
  let unclaimed = 0;
  await tune({
    config: studyConfig(1),
    storage: url,
    studyName: 'overhead',
    trialFunction: runTrial,
    heartbeatSeconds: 1,
    storeTiming: (method, ms, args, result) => {
      if (method === 'claimWaiting' || method === 'createTrial') {
        unclaimed += ms;
        if (result) {
          add((result as ClaimedTrial).dbId, unclaimed);
          unclaimed = 0;
        }
      } else if (method === 'recordEpoch' || method === 'reachRung' || method === 'finishTrial') {
        add(args[0] as number, ms);
      } else if (method === 'heartbeat') {
        const ids = args[0] as number[];
        for (const id of ids) add(id, ms / ids.length);
      }
    },
  });
  return [...perTrial.values()];
}

export async function benchTuneDistributed(): Promise<string> {
  const pg = await startThrowawayPostgres();
  try {
    const one = await timeWorkers(pg.url, 'one-worker', 1);
    const four = await timeWorkers(pg.url, 'four-workers', 4);
    const overhead = await storeOverheadPerTrial(pg.url);
    const med = median(overhead);
    return [
      `tune-distributed: ${TRIALS} trials (3 epochs of 150 ms each, TPE, ASHA) on PostgreSQL ${pg.port}, worker processes side by side`,
      `  1 worker: ${one.toFixed(1)} s, 4 workers: ${four.toFixed(1)} s, speed-up ${(one / four).toFixed(2)}x`,
      `  store overhead per trial (claim, heartbeats, epoch reports, rungs, result): median ${med.toFixed(1)} ms, max ${Math.max(...overhead).toFixed(1)} ms ` +
        `(target median < 20 ms: ${med < 20 ? 'yes' : 'NO'})`,
    ].join('\n');
  } finally {
    await pg.destroy();
  }
}
