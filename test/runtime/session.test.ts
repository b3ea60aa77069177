import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { createSession, ortFloatTensor, ortInt64Tensor, scalar } from '../../src/runtime/index.js';
import { openWithFallback } from '../../src/runtime/session.js';
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
  const failCuda = async (p: 'cpu' | 'cuda') => {
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
