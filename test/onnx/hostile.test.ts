import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SUBGRAPH_DEPTH, decodeModel, encodeModel, loadModelBytes, loadModelFile, saveModelFile } from '../../src/onnx/index.js';
import { Rng } from '../../src/util/rng.js';
import { cleanup, corpusModels, errorOf, externalTensor, model, modelBytes, nestedIfModel, tempFolder } from './helpers.js';
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema } from 'onnx-buf';

describe('decoding broken or hostile bytes', () => {
  let sample: Uint8Array;
  beforeAll(async () => {
    const file = (await corpusModels()).find((f) => f.endsWith('light_squeezenet.onnx'))!;
    sample = new Uint8Array(await readFile(file));
  });

  it('refuses empty input', async () => {
    expect(await errorOf(() => decodeModel(new Uint8Array(0), 'x.onnx'))).toBe(
      'x.onnx: not an ONNX model (the file is empty); pass a .onnx file',
    );
  });

  it('refuses text', async () => {
    const text = new TextEncoder().encode('ir_version: 8\ngraph {\n  node { op_type: "Relu" }\n}\n');
    expect(await errorOf(() => decodeModel(text, 'model.txt'))).toMatch(/^model\.txt: not an ONNX model \(.*\); pass a \.onnx file$/);
  });

  it('refuses truncated models and says at which byte decoding failed', async () => {
    for (const keep of [sample.byteLength - 1, Math.floor(sample.byteLength / 2), 10]) {
      const message = await errorOf(() => decodeModel(sample.subarray(0, keep), 'cut.onnx'));
      expect(message).toMatch(/^cut\.onnx: not an ONNX model \(protobuf decode failed at byte \d+: .+\); pass a \.onnx file$/);
    }
  });

  it('refuses random bytes', async () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const bytes = Uint8Array.from({ length: 1 + rng.int(4096) }, () => rng.int(256));
      expect(await errorOf(() => decodeModel(bytes, 'noise.onnx'))).toMatch(/^noise\.onnx: not an ONNX model/);
    }
  });

  it('refuses a 4 GiB length prefix quickly, without allocating it', async () => {
    // ir_version = 8, then field 7 (graph) claiming 0xFFFFFFFF bytes, followed by two bytes.
    const bytes = Uint8Array.from([0x08, 0x08, 0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00]);
    const started = performance.now();
    const message = await errorOf(() => decodeModel(bytes, 'big.onnx'));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(message).toBe(
      'big.onnx: not an ONNX model (protobuf decode failed at byte 2: ModelProto.graph claims 4294967295 bytes but only 2 remain); pass a .onnx file',
    );
  });

  it('refuses a 4 GiB length prefix on a tensor raw_data deep inside the graph', async () => {
    const good = modelBytes(model(create(GraphProtoSchema, { name: 'g' })));
    // graph { initializer { raw_data (field 9) of 0xFFFFFFFF bytes } }
    const tensor = [0x4a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3];
    const graph = [0x2a, tensor.length, ...tensor];
    const bytes = Uint8Array.from([...good, 0x3a, graph.length, ...graph]);
    expect(await errorOf(() => decodeModel(bytes, 't.onnx'))).toMatch(/TensorProto\.raw_data claims 4294967295 bytes but only 3 remain/);
  });

  it('refuses bytes that parse but lack ir_version or graph', async () => {
    const noGraph = modelBytes(model(create(GraphProtoSchema, { name: 'g' }))).subarray(0, 2);
    expect(await errorOf(() => decodeModel(noGraph, 'a.onnx'))).toBe('a.onnx: not an ONNX model (no graph field); pass a .onnx file');
  });
});

describe('nesting limits', () => {
  it(`accepts ${MAX_SUBGRAPH_DEPTH} levels of nested If`, () => {
    const bytes = modelBytes(nestedIfModel(MAX_SUBGRAPH_DEPTH));
    expect(decodeModel(bytes, 'ok.onnx').graph?.node[0]?.opType).toBe('If');
  });

  it(`refuses ${MAX_SUBGRAPH_DEPTH + 1} levels through regraft's own check (protobuf-es alone would accept them)`, async () => {
    const bytes = modelBytes(nestedIfModel(MAX_SUBGRAPH_DEPTH + 1));
    expect(fromBinary(ModelProtoSchema, bytes, { recursionLimit: 10_000 }).graph?.name).toBe('g0');
    expect(await errorOf(() => decodeModel(bytes, 'deep.onnx'))).toBe(
      `deep.onnx: subgraphs (If/Loop/Scan bodies) nest deeper than ${MAX_SUBGRAPH_DEPTH} levels, regraft's limit; flatten the nested control flow before using this model`,
    );
  });

  it('refuses 200 (and 5000) nested If quickly, on decode and on encode, without overflowing the stack', async () => {
    for (const levels of [200, 5000]) {
      const deep = nestedIfModel(levels);
      const started = performance.now();
      expect(await errorOf(() => encodeModel(deep))).toMatch(/nest deeper than 64 levels/);
      if (levels === 200) {
        const bytes = modelBytes(deep);
        expect(await errorOf(() => decodeModel(bytes, 'deep.onnx'))).toMatch(/^deep\.onnx: subgraphs .* nest deeper than 64 levels/);
      }
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it('refuses to save a too-deep model and writes nothing', async () => {
    const folder = await tempFolder();
    try {
      const out = join(folder, 'deep.onnx');
      expect(await errorOf(() => saveModelFile(nestedIfModel(200), out))).toMatch(/^.*deep\.onnx: subgraphs/);
      expect(await readdir(folder)).toEqual([]);
    } finally {
      await cleanup(folder);
    }
  });
});

describe('model paths', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await tempFolder();
  });
  afterAll(() => cleanup(folder));

  it('names a missing model file', async () => {
    const path = join(folder, 'missing.onnx');
    expect(await errorOf(() => loadModelFile(path))).toBe(`${path}: no such file; check the model path`);
  });

  it('names a model path that is a folder', async () => {
    const path = join(folder, 'dir.onnx');
    await mkdir(path);
    expect(await errorOf(() => loadModelFile(path))).toBe(`${path}: is a folder, not a model file; pass the .onnx file inside it`);
  });

  it('loadModelBytes refuses external data it cannot resolve', async () => {
    const proto = model(create(GraphProtoSchema, { name: 'g', initializer: [externalTensor('W', 4, { location: 'w.bin' })] }));
    expect(await errorOf(() => loadModelBytes(modelBytes(proto), '<memory>'))).toBe(
      "<memory>: tensor 'W' keeps its data in an external file; load the model from its file with loadModelFile",
    );
  });
});
