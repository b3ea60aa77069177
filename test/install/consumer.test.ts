import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newcomerEnv, warningLines } from '../../scripts/fresh-clone-check.mjs';

// regraft as a library: the repository is packed, the tarball installed into a fresh project with the README's one
// command, a strict TypeScript file type-checked against the published types, and a tiny train + export run
// through the API. Then onnxruntime-node is broken the two ways users meet (binding gone, package gone) and the CLI
// and the API must say so in one line. The install compiles better-sqlite3 (about a minute on these machines).
const ROOT = join(import.meta.dirname, '..', '..');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const ORT = `onnxruntime-node@${MANIFEST.dependencies['onnxruntime-node']}`;
const scratch = mkdtempSync(join(tmpdir(), 'regraft-consumer-'));
const app = join(scratch, 'app');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: NodeJS.ProcessEnv | undefined;

/** Runs a command as a user's shell would (no npm settings of the outer `npm test`, no Chromium on the PATH). */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): Promise<Run> {
  env ??= newcomerEnv(process.env, join(scratch, 'path'));
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The README's install command (section "Install as a library"), for a package spec other than `regraft`. */
function readmeInstallCommand(spec: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Install as a library'), readme.indexOf('\n## API'));
  const line = section.split('\n').find((l) => l.startsWith('npm pkg set '));
  if (!line?.endsWith(' && npm install regraft')) throw new Error(`README's install section has no 'npm pkg set ... && npm install regraft' line`);
  return line.replace(/ regraft$/, ` ${spec}`);
}

// Published types, strict: a mistyped call must be rejected (the @ts-expect-error lines fail the build if the
// types were `any`), and the result of each call is used with its declared type.
const CONSUMER_TS = `
import { compileTrainStep, evaluateModelFile, exportRun, loadModel, RegraftError, train, type EpochMetrics, type TrainResult } from 'regraft';

const mlp = 'node_modules/regraft/models/mnist-mlp.onnx'; // the sample model the package ships (run from the project)
const step = compileTrainStep(await loadModel(mlp), { loss: 'cross-entropy', l2: 1e-4, optimizer: 'adam' });
const params: string[] = step.params;
const accuracies: number[] = [];
const out = process.argv[2] ?? 'run';
let result: TrainResult;
try {
  result = await train(
    { model: mlp, data: 'mnist:test', limit: 1000, epochs: 2, batchSize: 32, optimizer: 'adam', lr: 0.003, out, dropoutAfter: ['Relu'] },
    {
      onEpoch: (m: EpochMetrics) => {
        accuracies.push(m.val_accuracy ?? Number.NaN);
      },
    },
  );
} catch (err) {
  // The first session is where a broken onnxruntime-node shows up: one line, no stack.
  console.log(JSON.stringify({ error: err instanceof RegraftError ? err.message : String(err) }));
  process.exit(3);
}
await exportRun(result.runDir, \`\${out}.onnx\`);
const test = await evaluateModelFile(\`\${out}.onnx\`, 'mnist:test');
console.log(JSON.stringify({ params, accuracies, accuracy: test.accuracy, samples: test.samples }));

// @ts-expect-error: epochs is a number
void (() => train({ model: mlp, data: 'mnist', out: 'x', epochs: 'two' }));
// @ts-expect-error: there is no such loss
void (() => compileTrainStep(step.model, { loss: 'hinge' }));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmitOnError: true,
    skipLibCheck: false,
    // The consumer's compiler and Node types are the repository's; everything regraft comes from the install.
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    types: ['node'],
    outDir: 'out',
  },
  files: ['consumer.ts'],
};

describe('regraft installed from its tarball into a fresh project', () => {
  let packed: { filename: string; files: string[] };
  let install: Run;

  beforeAll(async () => {
    // dist/ is what `npm test` just built; --ignore-scripts keeps npm pack from rebuilding it under the other tests.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT, 120_000);
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    packed = { filename: join(scratch, info.filename), files: info.files.map((f) => f.path) };

    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
    install = await run('sh', ['-c', readmeInstallCommand(packed.filename)], app);
  }, 900_000);

  it('packs the library, its types, the CLI and the samples, and no benchmarks, fuzz harness or tests', () => {
    expect(packed.files).toContain('dist/index.js');
    expect(packed.files).toContain('dist/index.d.ts');
    expect(packed.files).toContain('bin/regraft.js');
    expect(packed.files).toContain('models/mnist-mlp.onnx');
    const unpublished = ['dist/bench/', 'bench/', 'fuzz/', '.fuzz/', 'dist/fuzz/', 'test/', 'src/'];
    expect(packed.files.filter((f) => unpublished.some((folder) => f.startsWith(folder)))).toEqual([]);
  });

  it("installs with the README's command, without a NuGet download and without npm warnings", () => {
    expect(install.code, install.stderr).toBe(0);
    const output = `${install.stdout}\n${install.stderr}`;
    expect(output).not.toContain('nuget');
    // npm lists the `prepare` script of a tarball (never run for one) as unreviewed; installed from the registry,
    // regraft has no install script at all. Any other warning fails.
    const warnings = warningLines(output).filter((l) => l !== 'npm warn install-scripts');
    expect(warnings).toEqual([
      'npm warn install-scripts 1 package has install scripts not yet covered by allowScripts:',
      `npm warn install-scripts   regraft@${MANIFEST.version} (prepare: npm run build)`,
      'npm warn install-scripts Run `npm install-scripts ls` to review, or `npm install-scripts approve <pkg>` to allow.',
    ]);
  });

  it('type-checks a strict consumer against the published types, then trains and exports through the API', async () => {
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app, 120_000);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);

    const api = await run(process.execPath, ['out/consumer.js'], app, 300_000);
    expect(api.code, api.stderr).toBe(0);
    expect(api.stderr).toBe('');
    const out = JSON.parse(api.stdout.trim());
    expect(out.params).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(out.accuracies).toHaveLength(2);
    expect(out.samples).toBe(10_000);
    expect(out.accuracy).toBeGreaterThan(0.5); // 1000 images, 2 epochs: far above chance (0.1)
  }, 240_000); // tsc plus a training run in a fresh process: 20 s alone, over a minute beside the rest of the suite

  it('says in one line what to do when onnxruntime-node is half-installed, from the CLI and the API', async () => {
    const ort = join(app, 'node_modules', 'onnxruntime-node');
    const binding = join(ort, 'bin', 'napi-v6', process.platform, process.arch, 'onnxruntime_binding.node');
    renameSync(binding, `${binding}.moved`);
    try {
      const expected = `${ORT} at ${ort} is half-installed: its native binding bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node is missing; reinstall it with \`rm -rf ${ort} && npm install\``;
      const cli = await run('npx', ['regraft', 'eval', 'run.onnx', '--data', 'mnist:test'], app);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toBe(`regraft: ${expected}\n`);
      const api = await run(process.execPath, ['out/consumer.js', 'run-half-installed'], app);
      expect(api.code).toBe(3);
      expect(JSON.parse(api.stdout.trim())).toEqual({ error: expected });
      // Commands that run no model do not need onnxruntime-node.
      const inspect = await run('npx', ['regraft', 'inspect', 'run.onnx', '--json'], app);
      expect(inspect.code, inspect.stderr).toBe(0);
    } finally {
      renameSync(`${binding}.moved`, binding);
    }
  });

  it('says in one line what to do when onnxruntime-node is not installed, from the CLI and the API', async () => {
    rmSync(join(app, 'node_modules', 'onnxruntime-node'), { recursive: true });
    const expected = `onnxruntime-node, which regraft runs models with, is not installed (looked for it from ${join(app, 'node_modules', 'regraft', 'dist', 'runtime')}); run \`npm install\` in your project to restore regraft's dependencies (it needs ${ORT})`;
    const cli = await run('npx', ['regraft', 'train', 'node_modules/regraft/models/mnist-mlp.onnx', '--data', 'mnist:test', '--limit', '100', '--out', 'run2'], app);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe(`regraft: ${expected}\n`);
    const api = await run(process.execPath, ['out/consumer.js', 'run-not-installed'], app);
    expect(api.code).toBe(3);
    expect(JSON.parse(api.stdout.trim())).toEqual({ error: expected });
  });
});
