/**
 * `regraft run`: plain inference on NPY inputs (or named arrays, as train takes them). Inputs are checked against the model's declared inputs (name,
 * element type, rank and fixed dims) before onnxruntime sees them, so a mistake is reported as the input it is
 * about rather than as an onnxruntime message.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { Tensor } from '../runtime/onnxruntime.js';
import { encodeNpy, npyDescrOf, ortTypeOfNpyDescr, parseNpy, type NpyContents } from '../data/npy.js';
import { RegraftError, UsageError } from '../errors.js';
import { dtypeName, ortTypeName } from '../ir/dtype.js';
import type { Value } from '../ir/value.js';
import type { Model } from '../ir/model.js';
import { isNamedSource, parseDataSpec } from '../data/index.js';
import { loadModelData } from '../evaluate/model-data.js';
import { loadModel, modelToBytes } from '../model-io.js';
import { createSession } from '../runtime/index.js';
import type { CliIo } from './context.js';
import { parseNumber } from './options.js';
import { MC_DROPOUT_NAME } from '../training-interface.js';
import type { Session } from '../runtime/session.js';

/** Values shown per output on the console. */
const PREVIEW_VALUES = 8;

/**
 * A file name for a tensor name: only letters, digits, '.', '_' and '-' survive, and a leading dot is replaced, so
 * the result is one plain, visible path component ('..', '/' and ':' cannot leave or escape the folder).
 */
export function safeFileStem(name: string): string {
  const stem = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length)).slice(0, 200);
  return stem === '' ? 'output' : stem;
}

interface InputArg {
  name: string;
  path: string;
}

function parseInputArg(raw: string, previous: InputArg[]): InputArg[] {
  const eq = raw.indexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new UsageError(`--input expects NAME=FILE.npy, got '${raw}'`);
  return [...previous, { name: raw.slice(0, eq), path: raw.slice(eq + 1) }];
}

async function readInputFile(arg: InputArg): Promise<NpyContents> {
  const bytes = await readFile(arg.path).catch((err: NodeJS.ErrnoException) => {
    throw new RegraftError(`input '${arg.name}': cannot read ${arg.path} (${err.code ?? err.message}); check the path after '${arg.name}='`);
  });
  return parseNpy(bytes, arg.path);
}

/** Checks one NPY array against the model input it feeds and wraps it in a tensor. */
function inputTensor(input: Value, arg: InputArg, npy: NpyContents, modelPath: string): Tensor {
  const where = `input '${input.name}' of model ${modelPath}`;
  const npyType = ortTypeOfNpyDescr(npy.descr);
  if (input.elemType !== undefined) {
    const wanted = ortTypeName(input.elemType);
    if (npyType !== wanted) {
      throw new RegraftError(
        `${where} is ${dtypeName(input.elemType)} but ${arg.path} holds '${npy.descr}'; save it with arr.astype(np.${numpyName(wanted)})`,
      );
    }
  }
  const declared = input.shape;
  const fits =
    declared === undefined ||
    (declared.length === npy.shape.length && declared.every((d, i) => typeof d !== 'number' || d === npy.shape[i]));
  if (!fits) {
    const want = declared!.map((d) => (d === null ? '?' : String(d))).join(', ');
    throw new RegraftError(`${where} has shape [${want}] but ${arg.path} has shape (${npy.shape.join(', ')}); reshape the array to match`);
  }
  return new Tensor(npyType as 'float32', npy.data as Float32Array, npy.shape);
}

function numpyName(ortType: string): string {
  return ortType === 'bool' ? 'bool_' : ortType;
}

/** Feeds for every input the model needs; refuses missing, unknown, repeated and stored (initializer) inputs. */
async function buildFeeds(inputs: readonly Value[], args: InputArg[], modelPath: string): Promise<Record<string, Tensor>> {
  const fed = inputs.filter((v) => !v.initializer);
  const feeds: Record<string, Tensor> = {};
  for (const arg of args) {
    const input = inputs.find((v) => v.name === arg.name);
    if (input === undefined || input.initializer) {
      const names = fed.map((v) => v.name).join(', ') || 'none';
      const why = input ? 'is stored in the model and cannot be fed' : 'is not an input of the model';
      throw new RegraftError(`input '${arg.name}' ${why}; model ${modelPath} takes: ${names}`);
    }
    if (feeds[arg.name] !== undefined) throw new UsageError(`input '${arg.name}' is given twice; pass each --input once`);
    feeds[arg.name] = inputTensor(input, arg, await readInputFile(arg), modelPath);
  }
  const missing = fed.filter((v) => feeds[v.name] === undefined);
  if (missing.length > 0) {
    const hint = missing.map((v) => `--input ${v.name}=FILE.npy`).join(' ');
    throw new RegraftError(`model ${modelPath} needs input '${missing[0].name}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; pass ${hint}`);
  }
  return feeds;
}

/** Feeds from a named-arrays spec: every row at once, each array cast and checked as training would. */
async function dataFeeds(model: Model, spec: string, modelPath: string): Promise<Record<string, Tensor>> {
  if (!isNamedSource(parseDataSpec(spec))) throw new UsageError(`run: --data takes named arrays (npz:FILE.npz or npy:NAME=FILE,...); '${spec}' is not; use --input NAME=FILE.npy`);
  const data = await loadModelData(spec, model, { loss: 'cross-entropy', labels: false, where: 'run', modelName: modelPath });
  return Object.fromEntries(data.inputs.map((name) => {
    const a = data.arrays.arrays.get(name)!;
    return [name, new Tensor(a.type, a.data as Float32Array, a.dims)];
  }));
}

export function describeOutput(name: string, t: Tensor): string {
  const values = Array.from(t.data as ArrayLike<number | bigint | string>).slice(0, PREVIEW_VALUES);
  const shown = values.map((v) => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v))).join(', ');
  const more = t.size > PREVIEW_VALUES ? `, ... (${t.size} values)` : '';
  return `${name}: ${t.type} [${t.dims.join(', ')}]  ${shown}${more}`;
}

/** Writes each output as DIR/<safe name>.npy; never follows a symlink at the target, never leaves DIR. */
async function writeOutputs(dir: string, outputs: [string, Tensor][]): Promise<string[]> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const used = new Set<string>();
  const written: string[] = [];
  for (const [name, t] of outputs) {
    const descr = npyDescrOf(t.type);
    if (descr === undefined) throw new RegraftError(`output '${name}' is ${t.type}, which NPY files cannot hold; it was not written`);
    let stem = safeFileStem(name);
    for (let k = 2; used.has(stem.toLowerCase()); k++) stem = `${safeFileStem(name)}_${k}`;
    used.add(stem.toLowerCase());
    const path = join(root, `${stem}.npy`);
    const rel = relative(root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new RegraftError(`output '${name}' would be written outside ${dir}; refused`);
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch(
      (err: NodeJS.ErrnoException) => {
        throw new RegraftError(`cannot write output '${name}' to ${path} (${err.code ?? err.message}); check the folder and that the file is not a symlink`);
      },
    );
    try {
      await handle.writeFile(encodeNpy(descr, t.dims, t.data as ArrayBufferView));
    } finally {
      await handle.close();
    }
    written.push(path);
  }
  return written;
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run a model on NPY inputs and print (or save) its outputs')
    .argument('<model>', 'ONNX model file')
    .option('--input <name=file.npy>', 'feed this NPY file to this input (repeat for each input)', parseInputArg, [])
    .option('--data <spec>', 'instead of --input: named arrays, one per input, cast to the input types (npz:FILE.npz or npy:input_ids=ids.npy,...; a labels array is left out)')
    .option('--output-dir <dir>', 'also write each output as <dir>/<name>.npy')
    .option('--mc-samples <n>', `Monte-Carlo Dropout: run n passes with '${MC_DROPOUT_NAME}' true and print each output's mean and standard deviation (a model from export/strip --mc-dropout)`, parseNumber('--mc-samples', { min: 2, integer: true }))
    .action(async (modelPath: string, opts: { input: InputArg[]; data?: string; outputDir?: string; mcSamples?: number }) => {
      if (opts.data !== undefined && opts.input.length > 0) throw new UsageError('run: give --data or --input, not both');
      const model = await loadModel(modelPath);
      const feeds = opts.data === undefined ? await buildFeeds(model.graph.inputs, opts.input, modelPath) : await dataFeeds(model, opts.data, modelPath);
      if (opts.mcSamples !== undefined) prepareMcDropout(model, modelPath, feeds);
      const session = await createSession(modelToBytes(model), { name: modelPath });
      let outputs: [string, Tensor][];
      try {
        outputs = opts.mcSamples !== undefined ? await mcDropoutStatistics(session, feeds, opts.mcSamples) : await plainOutputs(session, feeds);
      } finally {
        await session.release();
      }
      for (const [name, t] of outputs) io.out(describeOutput(name, t));
      if (opts.outputDir !== undefined) {
        for (const path of await writeOutputs(opts.outputDir, outputs)) io.out(`wrote ${path}`);
      }
    });
}


async function plainOutputs(session: Session, feeds: Record<string, Tensor>): Promise<[string, Tensor][]> {
  const fetched = await session.run(feeds);
  return session.outputNames.map((name) => [name, fetched[name]]);
}

/**
 * Makes the model's `mc_dropout` switch a plain input fed true. onnxruntime-node feeds only the session's input
 * names, which leave out inputs with a stored default, so a feed for the initializer-backed switch would be ignored.
 */
function prepareMcDropout(model: Model, modelPath: string, feeds: Record<string, Tensor>): void {
  const mc = model.graph.inputs.find((v) => v.name === MC_DROPOUT_NAME);
  if (!mc) {
    throw new RegraftError(`model ${modelPath} has no '${MC_DROPOUT_NAME}' input, so --mc-samples cannot switch its Dropout on; export it with 'regraft export RUN -o OUT --mc-dropout' or 'regraft strip MODEL -o OUT --mc-dropout'`);
  }
  if (mc.initializer) model.graph.initializerToInput(mc);
  feeds[MC_DROPOUT_NAME] = new Tensor('bool', [true], []);
}

/**
 * `samples` passes with Dropout on; per output element the mean and the sample standard deviation (n - 1), in
 * float64 (Welford's update), returned as `<output>_mean` and `<output>_std` float32 tensors.
 */
async function mcDropoutStatistics(session: Session, feeds: Record<string, Tensor>, samples: number): Promise<[string, Tensor][]> {
  const stats = new Map<string, { dims: readonly number[]; mean: Float64Array; m2: Float64Array }>();
  for (let pass = 1; pass <= samples; pass++) {
    const fetched = await session.run(feeds);
    for (const name of session.outputNames) {
      const t = fetched[name];
      if (!(t.data instanceof Float32Array)) throw new RegraftError(`--mc-samples: output '${name}' is ${t.type}; a mean and standard deviation need float32 outputs`);
      let s = stats.get(name);
      if (!s) stats.set(name, (s = { dims: t.dims, mean: new Float64Array(t.size), m2: new Float64Array(t.size) }));
      for (let i = 0; i < t.size; i++) {
        const delta = t.data[i] - s.mean[i];
        s.mean[i] += delta / pass;
        s.m2[i] += delta * (t.data[i] - s.mean[i]);
      }
    }
  }
  return [...stats].flatMap(([name, s]) => [
    [`${name}_mean`, new Tensor('float32', Float32Array.from(s.mean), s.dims)],
    [`${name}_std`, new Tensor('float32', Float32Array.from(s.m2, (m2) => Math.sqrt(m2 / (samples - 1))), s.dims)],
  ] as [string, Tensor][]);
}
