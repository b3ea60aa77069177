/** One worker process of the distributed-tuning benchmark: `node distributed-worker.js URL STUDY CONFIG_JSON`. */
import { fileURLToPath } from 'node:url';
import { tune } from '../src/tune/study.js';

const [storage, studyName, config] = process.argv.slice(2);
await tune({ storage, studyName, config: JSON.parse(config) as unknown, join: true, trialModule: fileURLToPath(new URL('./sleep-trial.js', import.meta.url)), heartbeatSeconds: 1 });
