import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { createSession, ortFloatTensor, ortInt64Tensor, scalar } from '../../src/runtime/index.js';
import type { ExecutionProvider } from '../../src/runtime/execution-provider.js';
import { openWithFallback, startExecutionProvider, startFailureReason } from '../../src/runtime/session.js';
import { reluModelBytes } from './relu-model.js';

describe('createSession', () => {
  it('runs Y = Relu(X) on the CPU from bytes', async () => {
    const session = await createSession(reluModelBytes(), { name: 'relu.onnx' });
    try {
      expect(session.provider).toBe('cpu');
      expect(session.name).toBe('relu.onnx');
      expect(session.inputNames).toEqual(['X']);
      expect(session.outputNames).toEqual(['Y']);
      expect(session.inputDims('X')).toEqual(['N', 3]);
      const out = await session.run({ X: ortFloatTensor(Float32Array.of(-1, 2, -3, 4, 0, -0.5), [2, 3]) });
      expect(out.Y.dims).toEqual([2, 3]);
      expect(Array.from(out.Y.data as Float32Array)).toEqual([0, 2, 0, 4, 0, 0]);
    } finally {
      await session.release();
    }
  });

  it('loads a model from a path and names it in run errors', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'regraft-rt-')), 'relu.onnx');
    writeFileSync(path, reluModelBytes());
    const session = await createSession(path, { intraOpThreads: 2 });
    try {
      expect(() => session.inputDims('Z')).toThrow(/model .*relu\.onnx has no input 'Z'; its inputs are X/);
      const err = await session.run({ X: ortFloatTensor(new Float32Array(4), [1, 4]) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegraftError);
      expect((err as Error).message).toMatch(/^onnxruntime failed to run model .*relu\.onnx: /);
      expect((err as Error).message).not.toContain('\n');
    } finally {
      await session.release();
    }
  });

  it('turns a load failure into a one-line RegraftError naming the model', async () => {
    const err = await createSession(new Uint8Array([1, 2, 3, 4]), { name: 'garbage.onnx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegraftError);
    expect((err as Error).message).toMatch(/^onnxruntime cannot load model garbage\.onnx: .*check that it is a valid ONNX model$/);
    expect((err as Error).message).not.toContain('\n');
    await expect(createSession('/nonexistent/model.onnx')).rejects.toThrow(/cannot load model \/nonexistent\/model\.onnx/);
  });

  it('falls back to CPU when CUDA is requested but absent, logging how to install it', async () => {
    const lines: string[] = [];
    const session = await createSession(reluModelBytes(), {
      ep: 'cuda',
      log: (l) => lines.push(l),
      probe: () => ({ available: false, reason: 'test says no' }),
    });
    await session.release();
    expect(session.provider).toBe('cpu');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  });

  it('rejects bad thread counts', async () => {
    await expect(createSession(reluModelBytes(), { intraOpThreads: 1.5 })).rejects.toThrow(/intraOpThreads 1\.5 must be a whole number/);
  });
});

describe('openWithFallback', () => {
  const failCuda = async (p: ExecutionProvider) => {
    if (p === 'cuda') throw new Error('libcudnn.so.9: cannot open shared object file\nmore detail');
    return 'cpu-handle';
  };

  it('retries on CPU when the CUDA provider fails to start', async () => {
    const lines: string[] = [];
    const opened = await openWithFallback('cuda', failCuda, 'm.onnx', { log: (l) => lines.push(l) });
    expect(opened).toEqual({ handle: 'cpu-handle', provider: 'cpu' });
    expect(lines).toEqual(['CUDA failed to start for m.onnx (libcudnn.so.9: cannot open shared object file); running on CPU']);
  });

  it('throws instead when strict', async () => {
    await expect(openWithFallback('cuda', failCuda, 'm.onnx', { strict: true })).rejects.toThrow(
      /^CUDA failed to start for m\.onnx: libcudnn\.so\.9: cannot open shared object file; install it with/,
    );
  });

  it('opens CUDA directly when it works', async () => {
    expect(await openWithFallback('cuda', async (p) => p, 'm.onnx', {})).toEqual({ handle: 'cuda', provider: 'cuda' });
  });

  // onnxruntime-node 1.30's message on a machine without a GPU, as it comes (one line, newline-terminated).
  const noAdapter =
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> ' +
    'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
  const failWebgpu = async (p: ExecutionProvider) => {
    if (p === 'webgpu') throw new Error(noAdapter);
    return 'cpu-handle';
  };

  it('retries on CPU when WebGPU finds no adapter, saying so in one line without the source location', async () => {
    expect(startFailureReason(new Error(noAdapter))).toBe('Failed to get a WebGPU adapter: No supported adapters');
    const lines: string[] = [];
    expect(await openWithFallback('webgpu', failWebgpu, 'm.onnx', { log: (l) => lines.push(l) })).toEqual({ handle: 'cpu-handle', provider: 'cpu' });
    expect(lines).toEqual(['WebGPU failed to start for m.onnx (Failed to get a WebGPU adapter: No supported adapters); running on CPU']);
    await expect(openWithFallback('webgpu', failWebgpu, 'm.onnx', { strict: true })).rejects.toThrow(
      /^WebGPU failed to start for m\.onnx: Failed to get a WebGPU adapter: No supported adapters; run on a machine with a GPU and its Vulkan driver .*, or use --ep cpu$/,
    );
  });
});

describe('startExecutionProvider', () => {
  it('starts CPU without probing', async () => {
    const probe = () => {
      throw new Error('must not probe for CPU');
    };
    expect(await startExecutionProvider('cpu', { probe })).toBe('cpu');
  });

  it('falls back to CPU before starting anything when the build has no such provider', async () => {
    const lines: string[] = [];
    const probe = () => ({ available: false as const, reason: 'this onnxruntime-node build for test/x64 has no WebGPU provider' });
    expect(await startExecutionProvider('webgpu', { probe, log: (l) => lines.push(l) })).toBe('cpu');
    expect(lines).toEqual([
      'WebGPU unavailable (this onnxruntime-node build for test/x64 has no WebGPU provider); running on CPU. To use the GPU, run on a machine with a GPU and its Vulkan driver (libvulkan.so.1 and the vendor ICD)',
    ]);
  });

  // The real bundled provider, up to its adapter request: on a machine without a GPU (CI, these VMs) it must fall back
  // with onnxruntime's reason; with a GPU it starts and says nothing. No assertion depends on having a GPU.
  it('asks onnxruntime-node for a WebGPU adapter and says why it fell back to CPU', async () => {
    const lines: string[] = [];
    const provider = await startExecutionProvider('webgpu', { log: (l) => lines.push(l) });
    if (provider === 'webgpu') expect(lines).toEqual([]);
    else {
      expect(provider).toBe('cpu');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^WebGPU failed to start for a one-node test model \(Failed to get a WebGPU adapter: [^)]+\); running on CPU$/);
    }
  });
});

describe('tensor helpers', () => {
  it('wrap typed arrays without copying and check the element count', () => {
    const data = new Float32Array(6);
    const t = ortFloatTensor(data, [2, 3]);
    expect(t.type).toBe('float32');
    expect(t.data).toBe(data);
    expect(() => ortFloatTensor(data, [4, 2])).toThrow(/float32 tensor of dims \[4,2\] needs 8 values, got 6/);
    const labels = ortInt64Tensor(BigInt64Array.of(1n, 2n), [2]);
    expect(labels.type).toBe('int64');
    expect(() => ortInt64Tensor(BigInt64Array.of(1n), [2])).toThrow(/int64 tensor of dims \[2\] needs 2 values, got 1/);
    const lr = scalar(0.1);
    expect(lr.dims).toEqual([]);
    expect(lr.data).toEqual(Float32Array.of(0.1));
  });
});
