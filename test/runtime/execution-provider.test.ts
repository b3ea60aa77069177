import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { checkCudaInstallation, checkWebgpuBuild, chooseExecutionProvider, executionProvidersFor, onnxruntimeBindingFolders, probeBundledWebgpu } from '../../src/runtime/index.js';

const absent = () => ({ available: false as const, reason: 'the CUDA provider library libonnxruntime_providers_cuda.so is not installed' });
const present = () => ({ available: true as const });

describe('chooseExecutionProvider', () => {
  it('keeps CPU without probing', () => {
    const probe = () => {
      throw new Error('must not probe for CPU');
    };
    expect(chooseExecutionProvider('cpu', { probe })).toBe('cpu');
  });

  it('chooses CUDA when the probe finds it', () => {
    const lines: string[] = [];
    expect(chooseExecutionProvider('cuda', { probe: present, log: (l) => lines.push(l) })).toBe('cuda');
    expect(lines).toEqual([]);
  });

  it('falls back to CPU with one line saying how to install CUDA', () => {
    const lines: string[] = [];
    expect(chooseExecutionProvider('cuda', { probe: absent, log: (l) => lines.push(l) })).toBe('cpu');
    expect(lines).toEqual([
      'CUDA unavailable (the CUDA provider library libonnxruntime_providers_cuda.so is not installed); running on CPU. ' +
        'To use the GPU, install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --dangerously-allow-all-scripts` (needs CUDA 12 and cuDNN 9)',
    ]);
  });

  it('throws when strict', () => {
    expect(() => chooseExecutionProvider('cuda', { probe: absent, strict: true })).toThrow(RegraftError);
    expect(() => chooseExecutionProvider('cuda', { probe: absent, strict: true })).toThrow(
      /^CUDA was requested but the CUDA provider library .* is not installed; install it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --dangerously-allow-all-scripts`.*, or use --ep cpu$/,
    );
  });
});

describe('chooseExecutionProvider for WebGPU', () => {
  it('chooses WebGPU when the build has it, asking the probe about webgpu', () => {
    const asked: string[] = [];
    expect(chooseExecutionProvider('webgpu', { probe: (p) => (asked.push(p), { available: true }) })).toBe('webgpu');
    expect(asked).toEqual(['webgpu']);
  });

  it('falls back (or fails when strict) with WebGPU named and what to do', () => {
    const absentWebgpu = () => ({ available: false as const, reason: 'this onnxruntime-node build for darwin/x64 has no WebGPU provider' });
    const lines: string[] = [];
    expect(chooseExecutionProvider('webgpu', { probe: absentWebgpu, log: (l) => lines.push(l) })).toBe('cpu');
    expect(lines).toEqual([expect.stringMatching(/^WebGPU unavailable \(this onnxruntime-node build for darwin\/x64 has no WebGPU provider\); running on CPU\. To use the GPU, run on a machine with a GPU/)]);
    expect(() => chooseExecutionProvider('webgpu', { probe: absentWebgpu, strict: true })).toThrow(/^WebGPU was requested but .*, or use --ep cpu$/);
  });
});

describe('checkWebgpuBuild', () => {
  it('finds the bundled provider, and says when a build lacks it', () => {
    expect(checkWebgpuBuild('linux/x64', [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }])).toEqual({ available: true });
    expect(checkWebgpuBuild('darwin/x64', [{ name: 'cpu', bundled: true }])).toEqual({ available: false, reason: 'this onnxruntime-node build for darwin/x64 has no WebGPU provider' });
    expect(checkWebgpuBuild('x/y', [{ name: 'webgpu', bundled: false }]).available).toBe(false);
  });

  it('sees the WebGPU provider onnxruntime-node 1.30 bundles on linux/x64', () => {
    if (`${process.platform}/${process.arch}` === 'linux/x64') expect(probeBundledWebgpu()).toEqual({ available: true });
  });
});

describe('executionProvidersFor', () => {
  it('puts CPU after the GPU provider so ops without a GPU kernel still run', () => {
    expect(executionProvidersFor('cuda')).toEqual(['cuda', 'cpu']);
    expect(executionProvidersFor('webgpu')).toEqual(['webgpu', 'cpu']);
    expect(executionProvidersFor('cpu')).toEqual(['cpu']);
  });
});

describe('checkCudaInstallation', () => {
  const withFiles = (files: string[]): string => {
    const dir = mkdtempSync(join(tmpdir(), 'regraft-ep-'));
    for (const f of files) writeFileSync(join(dir, f), '');
    return dir;
  };
  const cudaBuild = [{ name: 'cpu' }, { name: 'cuda' }];
  const both = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

  it('finds CUDA when both provider libraries sit next to the binding', () => {
    const folders = [withFiles([]), withFiles(both)];
    expect(checkCudaInstallation({ platform: 'linux/x64', backends: cudaBuild, bindingFolders: folders })).toEqual({ available: true });
  });

  it('reports the missing provider library', () => {
    const folder = withFiles(['libonnxruntime_providers_shared.so']);
    expect(checkCudaInstallation({ platform: 'linux/x64', backends: cudaBuild, bindingFolders: [folder] })).toEqual({
      available: false,
      reason: "the CUDA provider library libonnxruntime_providers_cuda.so is not installed next to onnxruntime-node's binding",
    });
  });

  it('reports builds and platforms without CUDA', () => {
    const folder = withFiles(both);
    expect(checkCudaInstallation({ platform: 'linux/x64', backends: [{ name: 'cpu' }], bindingFolders: [folder] }).available).toBe(false);
    expect(checkCudaInstallation({ platform: 'darwin/arm64', backends: cudaBuild, bindingFolders: [folder] })).toMatchObject({
      available: false,
      reason: expect.stringMatching(/not darwin\/arm64/),
    });
  });
});

describe('onnxruntimeBindingFolders', () => {
  it("finds the folder of this platform's native binding", () => {
    const folders = onnxruntimeBindingFolders();
    expect(folders.length).toBeGreaterThan(0);
    expect(folders.some((f) => existsSync(join(f, 'onnxruntime_binding.node')))).toBe(true);
  });
});
