/**
 * `npm run bench`: every speed and memory target, measured side by side in one run and printed as ratios.
 * Pick sections with arguments: `npm run bench -- step trainer`. Sections: step, trainer, compile, tune,
 * tune-quality (search quality on MNIST: minutes), tune-distributed (PostgreSQL workers), codec, vs-pytorch (five
 * workloads against PyTorch on CPU: minutes), transformer (a BERT-like classifier against PyTorch).
 */
import { benchCodec } from './codec.js';
import { benchCompile } from './compile.js';
import { benchTrainer } from './trainer.js';
import { benchTrainStep } from './train-step.js';
import { benchTune } from './tune.js';
import { benchTuneDistributed } from './tune-distributed.js';
import { benchTuneQuality } from './tune-quality.js';
import { benchVsPytorch, TRANSFORMER_WORKLOADS, VS_PYTORCH_WORKLOADS } from './vs-pytorch.js';

const SECTIONS: Record<string, () => Promise<string>> = {
  step: () => benchTrainStep(),
  trainer: () => benchTrainer(),
  compile: () => benchCompile(),
  tune: () => benchTune(),
  'tune-quality': () => benchTuneQuality(),
  'tune-distributed': () => benchTuneDistributed(),
  codec: () => benchCodec(),
  'vs-pytorch': () => benchVsPytorch(VS_PYTORCH_WORKLOADS, 'vs-pytorch'),
  transformer: () => benchVsPytorch(TRANSFORMER_WORKLOADS, 'transformer (issue 12)'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in SECTIONS));
if (unknown.length > 0) {
  console.error(`bench: unknown section ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(SECTIONS)) {
  const t0 = performance.now();
  console.log(await SECTIONS[name]());
  console.log(`  (${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
