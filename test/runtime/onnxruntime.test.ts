import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { bindingFile, explainLoadFailure, onnxruntimeNode, ONNXRUNTIME_VERSION, Tensor } from '../../src/runtime/onnxruntime.js';

// regraft loads onnxruntime-node in one place, on first use, so that a missing or half-installed copy is one line
// saying what to do. These tests check the lines against fake installs on disk; test/install/consumer.test.ts
// breaks a real install and runs the CLI and the API.
const ROOT = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'regraft-ort-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder shaped like an installed onnxruntime-node, with bindings for the given platform/arch pairs. */
function fakeInstall(name: string, bindings: string[]): string {
  const dir = join(scratch, name, 'node_modules', 'onnxruntime-node');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version: '1.30.0' }));
  for (const pair of bindings) {
    const [platform, arch] = pair.split('/');
    const file = bindingFile(dir, platform, arch);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
  }
  return dir;
}

describe('loading onnxruntime', () => {
  it('uses the Tensor class onnxruntime-node itself uses (no second copy of onnxruntime-common)', () => {
    expect(Tensor).toBe(ortNode.Tensor);
    expect(onnxruntimeNode().Tensor).toBe(Tensor);
    expect(new Tensor('float32', new Float32Array(2), [2])).toBeInstanceOf(ortNode.Tensor);
  });

  it('names the version package.json pins both packages to', () => {
    const deps = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies;
    expect(deps['onnxruntime-node']).toBe(ONNXRUNTIME_VERSION);
    expect(deps['onnxruntime-common']).toBe(ONNXRUNTIME_VERSION);
  });

  it('does not load onnxruntime-node when the package is imported, only when a model runs', () => {
    const script = join(ROOT, `.ort-lazy-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/onnxruntime-node/'));
const regraft = await import('regraft');
const before = loaded();
const m = regraft.newModel({ opset: 17 });
const x = m.graph.addInput('x').setTensorType(regraft.DataType.FLOAT, [1]);
m.graph.addOutput(new regraft.GraphBuilder(m.graph).op('Relu', [x], {}, { output: 'y' }));
const session = await regraft.createSession(regraft.modelToBytes(m));
await session.release();
console.log(JSON.stringify({ before, after: loaded() }));
`,
    );
    try {
      const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual({ before: false, after: true });
    } finally {
      rmSync(script, { force: true });
    }
  });
});

describe('explainLoadFailure', () => {
  const where = { platform: 'linux', arch: 'x64', searchedFrom: '/srv/app/node_modules/regraft/dist/runtime' };

  it('says how to restore a missing onnxruntime-node', () => {
    expect(explainLoadFailure(new Error("Cannot find module 'onnxruntime-node'"), undefined, where)).toBe(
      "onnxruntime-node, which regraft runs models with, is not installed (looked for it from /srv/app/node_modules/regraft/dist/runtime); run `npm install` in your project to restore regraft's dependencies (it needs onnxruntime-node@1.30.0)",
    );
  });

  it('says how to reinstall one whose native binding is missing', () => {
    const dir = fakeInstall('half', []);
    expect(explainLoadFailure(new Error('Cannot find module'), dir, where)).toBe(
      `onnxruntime-node@1.30.0 at ${dir} is half-installed: its native binding bin/napi-v6/linux/x64/onnxruntime_binding.node is missing; reinstall it with \`rm -rf ${dir} && npm install\``,
    );
  });

  it("calls a binding missing from its platform's folder half-installed, even when other platforms have theirs", () => {
    const dir = fakeInstall('half-with-others', ['darwin/arm64']);
    mkdirSync(dirname(bindingFile(dir, 'linux', 'x64')), { recursive: true });
    expect(explainLoadFailure(new Error('Cannot find module'), dir, where)).toMatch(/ is half-installed: its native binding bin\/napi-v6\/linux\/x64\/onnxruntime_binding\.node is missing; /);
  });

  it('tells an unsupported platform from a half install', () => {
    const dir = fakeInstall('other-platforms', ['darwin/arm64', 'win32/x64']);
    expect(explainLoadFailure(new Error('Cannot find module'), dir, where)).toBe(
      'onnxruntime-node@1.30.0 has no native binding for linux/x64 (it ships darwin/arm64, win32/x64), so regraft cannot run models on this machine',
    );
  });

  it('passes on why a present binding failed to load, in one line', () => {
    const dir = fakeInstall('broken', ['linux/x64']);
    const err = new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory\n    at Module._extensions..node');
    expect(explainLoadFailure(err, dir, where)).toBe(
      `onnxruntime-node@1.30.0 at ${dir} cannot be loaded (libonnxruntime.so.1: cannot open shared object file: No such file or directory); reinstall it with \`rm -rf ${dir} && npm install\``,
    );
  });
});
