import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, loadModelFile, saveModelFile } from '../../src/onnx/index.js';
import { encodePieces } from '../../src/onnx/stream-encode.js';
import { cleanup, corpusModels, floatTensor, model, modelBytes, tempFolder } from './helpers.js';
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema } from 'onnx-buf';

function concat(pieces: Uint8Array[]): Uint8Array {
  return Buffer.concat(pieces);
}

describe('lossless round trips over the ONNX backend test corpus', () => {
  let folder: string;
  let files: string[];
  beforeAll(async () => {
    folder = await tempFolder();
    files = await corpusModels();
  });
  afterAll(() => cleanup(folder));

  it('finds all 149 corpus models', () => {
    expect(files).toHaveLength(149);
  });

  it('decode + encode gives back the same bytes', async () => {
    for (const file of files) {
      const bytes = new Uint8Array(await readFile(file));
      expect(Buffer.compare(encodeModel(decodeModel(bytes, file)), bytes), file).toBe(0);
    }
  });

  it('the streaming encoder matches toBinary byte for byte, even when every bytes field is passed through', async () => {
    for (const file of files) {
      const proto = decodeModel(new Uint8Array(await readFile(file)), file);
      const reference = toBinary(ModelProtoSchema, proto);
      for (const passThroughBytes of [1, 64, 64 * 1024]) {
        const encoded = encodePieces(ModelProtoSchema, proto, { passThroughBytes });
        expect(encoded.size, file).toBe(reference.byteLength);
        expect(Buffer.compare(concat(encoded.pieces), reference), `${file} at ${passThroughBytes}`).toBe(0);
      }
    }
  });

  it('loadModelFile + saveModelFile writes the same bytes and leaves no temp files', async () => {
    for (const [i, file] of files.entries()) {
      const out = join(folder, `m${i}.onnx`);
      const loaded = await loadModelFile(file);
      const report = await saveModelFile(loaded.proto, out);
      const original = await readFile(file);
      expect(Buffer.compare(await readFile(out), original), file).toBe(0);
      expect(report).toEqual({ bytes: original.byteLength, externalBytes: 0, externalTensors: 0 });
    }
    expect((await readdir(folder)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('passes large raw_data through by reference instead of copying it', () => {
    const weight = floatTensor('W', 100_000, 1);
    const proto = model(create(GraphProtoSchema, { name: 'g', initializer: [weight] }));
    const encoded = encodePieces(ModelProtoSchema, proto, { passThroughBytes: 1024 });
    expect(encoded.pieces).toContain(weight.rawData);
    expect(Buffer.compare(concat(encoded.pieces), modelBytes(proto))).toBe(0);
  });

  it('keeps unknown fields (newer than the schema) in place when streaming', () => {
    const weight = floatTensor('W', 1000, 2);
    weight.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([7]) }];
    const proto = model(create(GraphProtoSchema, { name: 'g', initializer: [weight] }));
    proto.$unknown = [{ no: 77, wireType: 2, data: new Uint8Array([2, 1, 2]) }];
    const encoded = encodePieces(ModelProtoSchema, proto, { passThroughBytes: 16 });
    const bytes = concat(encoded.pieces);
    expect(Buffer.compare(bytes, modelBytes(proto))).toBe(0);
    expect(decodeModel(bytes, 'x').graph?.initializer[0]?.$unknown).toHaveLength(1);
  });
});
