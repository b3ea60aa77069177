/**
 * Writes the sample models in models/ and the regression example's data in examples/:
 * `node dist/models/build-samples.js [MODELS_DIR] [EXAMPLES_DIR]` (npm run models).
 * The files are committed; this script is how they were made and how to make them again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '../data/npy.js';
import { saveModel } from '../model-io.js';
import { buildLeNet, buildMlp } from './builders.js';
import { sineData } from './sine-data.js';

const modelsDir = process.argv[2] ?? 'models';
const examplesDir = process.argv[3] ?? 'examples';
await mkdir(modelsDir, { recursive: true });
await mkdir(examplesDir, { recursive: true });
// The article's network: 784 -> 128 -> 10 with a ReLU (Dropout is inserted at training time: --dropout-after Relu).
await saveModel(buildMlp({ hidden: [128], seed: 0 }), join(modelsDir, 'mnist-mlp.onnx'));
await saveModel(buildLeNet({ seed: 0 }), join(modelsDir, 'lenet5.onnx'));
// Regression: 1 -> 32 -> 1, trained with --loss mse on y = sin(x) + noise.
await saveModel(buildMlp({ inputs: 1, hidden: [32], classes: 1, seed: 0, output: 'prediction' }), join(modelsDir, 'sine-mlp.onnx'));
for (const [name, n, seed] of [['sine-train', 2000, 1], ['sine-test', 500, 2]] as const) {
  const { x, y } = sineData(n, seed);
  await writeFile(join(examplesDir, `${name}-x.npy`), encodeNpy('<f4', [n, 1], x));
  await writeFile(join(examplesDir, `${name}-y.npy`), encodeNpy('<f4', [n], y));
}
console.log(`wrote mnist-mlp.onnx, lenet5.onnx, sine-mlp.onnx in ${modelsDir} and sine-{train,test}-{x,y}.npy in ${examplesDir}`);
