import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORTERS, FINETUNE, FIXTURE_NAMES, transformerFixture } from '../fixtures-npz.js';
import { runCli } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CORPUS = join(ROOT, 'test', 'fixtures', 'onnx-backend');
const CONV = join(CORPUS, 'pytorch-converted', 'test_Conv2d', 'model.onnx');

function onnxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? onnxFiles(p) : name.endsWith('.onnx') ? [p] : [];
  });
}

describe('regraft inspect', () => {
  it('prints inputs, outputs, opsets, op histogram and parameters', async () => {
    const r = await runCli('inspect', CONV);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/inputs:\n\s+\S+: FLOAT\[/);
    expect(text).toMatch(/Conv\s+1/);
    expect(text).toMatch(/parameters: [\d,]+ in \d+ tensors/);
  });

  it('--json gives the same facts as data', async () => {
    const r = await runCli('inspect', CONV, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out.join('\n'));
    expect(s.ops).toEqual({ Conv: 1 });
    expect(s.inputs[0].type).toBe('FLOAT');
    expect(s.parameters.elements).toBeGreaterThan(0);
    expect(s.opsets['ai.onnx']).toBeGreaterThan(0);
    expect(s.training).toBeUndefined();
  });

  it('--trainable says whether the model compiles into a training step, and if not, the way out', async () => {
    const lenet = await runCli('inspect', join(ROOT, 'models', 'lenet5.onnx'), '--trainable');
    expect(lenet.out.at(-1)).toBe('  training: compiles into a training step (10 trainable tensors)');
    const old = await runCli('inspect', CONV, '--trainable', '--json');
    const s = JSON.parse(old.out.join('\n'));
    expect(s.training).toMatchObject({ trainable: false, parameters: 0 });
    expect(s.training.reason).toMatch(/opset 6; .*upgrade it with: regraft convert MODEL -o NEW.onnx --opset 17/);
  });
});

describe('regraft inspect --providers', () => {
  it('lists every provider onnxruntime-node has, whether it is there and whether it starts here', async () => {
    const r = await runCli('inspect', '--providers');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^execution providers of onnxruntime-node 1\.30\.0 \(\w+\/\w+\):$/);
    expect(r.out).toContain('  cpu       bundled        starts');
    if (`${process.platform}/${process.arch}` !== 'linux/x64') return;
    // onnxruntime-node 1.30 on linux/x64: WebGPU inside the package, CUDA and TensorRT only after a download.
    const webgpu = r.out.find((l) => l.startsWith('  webgpu'));
    expect(webgpu).toMatch(/^ {2}webgpu {4}bundled {8}(starts|does not start: Failed to get a WebGPU adapter: .+; run on a machine with a GPU .*)$/);
    expect(r.out.find((l) => l.startsWith('  cuda'))).toMatch(/^ {2}cuda {6}(not installed .*ONNXRUNTIME_NODE_INSTALL=cuda12|installed {6}(starts|does not start: .+))/);
    expect(r.out).toContain('  tensorrt  not installed  regraft --ep does not offer it');
  });

  it('--json gives the same as data; --providers with --trainable is a usage error', async () => {
    const r = await runCli('inspect', '--providers', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out.join('\n'));
    expect(report.providers[0]).toEqual({ name: 'cpu', libraries: 'bundled', offered: true, starts: true, detail: '' });
    expect(report.cudaPlacement).toBeUndefined();
    const bad = await runCli('inspect', CONV, '--providers', '--trainable');
    expect(bad.code).toBe(2);
    expect(bad.err).toEqual(['regraft: inspect --providers takes no --trainable; run `regraft inspect MODEL --trainable` for that']);
    const none = await runCli('inspect');
    expect(none.code).toBe(2);
  });

  it('with a MODEL, also says in one line which of its nodes the CUDA provider has no kernel for', async () => {
    // test_Conv2d: one Conv-1 node, which CUDA has (1-10).
    const placed = await runCli('inspect', CONV, '--providers');
    expect(placed.code, placed.err.join('\n')).toBe(0);
    expect(placed.out[0]).toMatch(/^execution providers of onnxruntime-node/);
    expect(placed.out.at(-1)).toBe(`onnxruntime's CUDA provider has a kernel for every node of ${CONV} (1 node)`);
    const json = JSON.parse((await runCli('inspect', CONV, '--providers', '--json')).out.join('\n'));
    expect(json.cudaPlacement).toEqual({ nodes: 1, unplaced: [], unchecked: {} });
    const missing = await runCli('inspect', '--providers', 'no-such-model.onnx');
    expect(missing.code).not.toBe(0);
  });
});

describe('regraft convert', () => {
  it('re-encodes every corpus model byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-convert-'));
    const files = onnxFiles(CORPUS);
    expect(files.length).toBe(149);
    for (const [i, file] of files.entries()) {
      const out = join(dir, `m${i}.onnx`);
      const r = await runCli('convert', file, '-o', out);
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(Buffer.compare(readFileSync(out), readFileSync(file)), file).toBe(0);
    }
  });

  it('moves large tensors to one external file and back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-convert-'));
    const ext = join(dir, 'ext.onnx');
    expect((await runCli('convert', CONV, '-o', ext, '--external-data', 'weights.bin', '--size-threshold', '16')).code).toBe(0);
    expect(existsSync(join(dir, 'weights.bin'))).toBe(true);
    const back = join(dir, 'back.onnx');
    expect((await runCli('convert', ext, '-o', back)).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(CONV))).toBe(0);
  });

  it.each([
    ['empty file', Buffer.alloc(0)],
    ['text', Buffer.from('hello, this is not a model\n')],
    ['random bytes', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) % 256))],
  ])('refuses %s with one line, exit 1 and no output', async (_label, bytes) => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-bad-'));
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, bytes);
    const out = join(dir, 'out.onnx');
    const r = await runCli('convert', bad, '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^regraft: .*bad\.onnx/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['bad.onnx']);
  });

  it('a missing file and a directory are one-line errors', async () => {
    for (const path of ['/nonexistent/model.onnx', tmpdir()]) {
      const r = await runCli('inspect', path);
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).not.toMatch(/\n|at .*\.ts/);
    }
  });

  it('usage errors exit 2', async () => {
    expect((await runCli('convert', CONV)).code).toBe(2); // missing -o
    expect((await runCli('inspect', CONV, '--frobnicate')).code).toBe(2);
    expect((await runCli('no-such-command')).code).toBe(2);
  });
});

describe('the installed bin', () => {
  it('regraft --help lists the commands', () => {
    const out = execFileSync('node', [join(ROOT, 'bin', 'regraft.js'), '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/inspect/);
    expect(out).toMatch(/convert/);
  });

  it('a bad model gives exit 1 and one line on stderr, no stack trace', () => {
    const r = spawnSync('node', [join(ROOT, 'bin', 'regraft.js'), 'inspect', '/nonexistent.onnx'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

describe('regraft inspect on exported transformers', () => {
  // Every fixture from both exporters: shape analysis follows the TorchScript exports' Reshape chains and the
  // recurrent layers' outputs; a recurrent layer over the dynamic sequence axis compiles for one length per step.
  it.each(FIXTURE_NAMES.flatMap((n) => EXPORTERS.map((e) => [n, e] as const)))('%s (%s) --trainable --json: trains one tensor per PyTorch parameter; ties and constants listed', async (name, exporter) => {
    const fixture = transformerFixture(name);
    const info = fixture.meta.exports[exporter];
    const r = await runCli('inspect', fixture.model(exporter), '--trainable', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out.join('\n'));
    const copies = info.tied.map((t) => t[1]);
    expect(s.tied).toEqual(info.tied.map(([parameter, copy, relation]) => ({ parameter, copy, relation })));
    expect(s.constants.map((c: { name: string }) => c.name).sort()).toEqual(info.non_parameters.map((p) => p.initializer).sort());
    expect(s.training).toMatchObject({ trainable: true, parameters: info.parameters.length - copies.length, fixedPerStep: name === 'gru' || name === 'lstm' ? ['sequence'] : [] });
    expect(s.training.trained.sort()).toEqual(info.parameters.map((p) => p.initializer).filter((n) => !copies.includes(n)).sort());
  });

  it('a recurrent layer over a dynamic sequence axis: one length per step, and the flag that gives it', async () => {
    const lstm = await runCli('inspect', transformerFixture('lstm').model('torchscript'), '--trainable');
    expect(lstm.out.at(-1)).toBe('  training: compiles into a training step (8 trainable tensors, 2 recurrent layers unrolled, for one size of sequence per step: --dim sequence=SIZE)');
  });

  it('the text form says which copy is tied and why a constant is not trained', async () => {
    const gpt2 = await runCli('inspect', transformerFixture('gpt2').model('dynamo'), '--trainable');
    expect(gpt2.out).toContain('  tied weights (trained as one tensor; --untie trains them apart):');
    expect(gpt2.out).toContain('    val_271 = transpose(lm_head.weight)');
    expect(gpt2.out.at(-1)).toBe('  training: compiles into a training step (28 trainable tensors)');
    const encoder = await runCli('inspect', transformerFixture('transformer-encoder').model('dynamo'), '--trainable');
    expect(encoder.out).toContain("    val_100 [1]: one element read only by Mul (a constant factor, not a layer's parameter)");
    expect(encoder.out.at(-1)).toBe('  training: compiles into a training step (27 trainable tensors)');
  });

  it.each(EXPORTERS)('one-element PyTorch parameters train (%s)', async (exporter) => {
    const r = await runCli('inspect', join(FINETUNE, `size-one.${exporter}.onnx`), '--trainable');
    expect(r.out.at(-1)).toBe('  training: compiles into a training step (5 trainable tensors)');
  });
});
