import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProviderReport, providerReport } from '../../src/runtime/provider-status.js';

describe('providerReport', () => {
  const backends = [
    { name: 'cpu', bundled: true },
    { name: 'webgpu', bundled: true },
    { name: 'cuda', bundled: false },
    { name: 'tensorrt', bundled: false },
  ];

  it('starts only offered providers whose libraries are there, and gives the reason and the fix for the rest', async () => {
    const started: string[] = [];
    const report = await providerReport({
      backends,
      platform: 'linux/x64',
      bindingFolders: [],
      start: async (p) => {
        started.push(p);
        if (p === 'webgpu') throw new Error('/src/webgpu_context.cc:136 f() ok was false. Failed to get a WebGPU adapter: No supported adapters\n');
      },
    });
    expect(started).toEqual(['cpu', 'webgpu']);
    expect(report.providers).toEqual([
      { name: 'cpu', libraries: 'bundled', offered: true, starts: true, detail: '' },
      { name: 'webgpu', libraries: 'bundled', offered: true, starts: false, detail: expect.stringMatching(/^Failed to get a WebGPU adapter: No supported adapters; run on a machine with a GPU/) },
      { name: 'cuda', libraries: 'not installed', offered: true, detail: expect.stringMatching(/^the CUDA provider library .* is not installed .*; install it with `ONNXRUNTIME_NODE_INSTALL=cuda12/) },
      { name: 'tensorrt', libraries: 'not installed', offered: false, detail: 'regraft --ep does not offer it' },
    ]);
    expect(formatProviderReport(report)[2]).toBe(
      '  webgpu    bundled        does not start: Failed to get a WebGPU adapter: No supported adapters; run on a machine with a GPU and its Vulkan driver (libvulkan.so.1 and the vendor ICD)',
    );
  });

  it('finds CUDA libraries installed beside the binding and then starts it; elsewhere than linux/x64 it says why not', async () => {
    const binding = mkdtempSync(join(tmpdir(), 'regraft-binding-'));
    for (const lib of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) writeFileSync(join(binding, lib), '');
    const started: string[] = [];
    const installed = await providerReport({ backends, platform: 'linux/x64', bindingFolders: [binding], start: async (p) => void started.push(p) });
    expect(started).toEqual(['cpu', 'webgpu', 'cuda']);
    expect(installed.providers[2]).toEqual({ name: 'cuda', libraries: 'installed', offered: true, starts: true, detail: '' });

    const mac = await providerReport({ backends, platform: 'darwin/arm64', bindingFolders: [binding], start: async () => {} });
    expect(mac.providers[2]).toEqual({
      name: 'cuda',
      libraries: 'not installed',
      offered: true,
      detail: expect.stringMatching(/^onnxruntime-node offers CUDA on linux\/x64 only, not darwin\/arm64; install it with /),
    });
  });
});
