/**
 * Writes the sample models in models/: `node dist/models/build-samples.js [OUT_DIR]` (npm run models).
 * The files are committed; this script is how they were made and how to make them again.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { saveModel } from '../model-io.js';
import { buildLeNet, buildMlp } from './builders.js';

const outDir = process.argv[2] ?? 'models';
await mkdir(outDir, { recursive: true });
// The article's network: 784 -> 128 -> 10 with a ReLU (Dropout is inserted at training time: --dropout-after Relu).
await saveModel(buildMlp({ hidden: [128], seed: 0 }), join(outDir, 'mnist-mlp.onnx'));
await saveModel(buildLeNet({ seed: 0 }), join(outDir, 'lenet5.onnx'));
console.log(`wrote ${join(outDir, 'mnist-mlp.onnx')} and ${join(outDir, 'lenet5.onnx')}`);
