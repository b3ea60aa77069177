import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  NodeProtoSchema,
  SparseTensorProtoSchema,
  TensorProto_DataLocation,
  type ModelProto,
} from 'onnx-buf';
import { link, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeModel, loadModelFile, saveModelFile } from '../../src/onnx/index.js';
import { cleanup, errorOf, externalTensor, floatTensor, ifNode, model, modelBytes, tempFolder } from './helpers.js';

/** main graph: W (16 KiB), b (16 B, stays inline); If -> then_branch with initializer V (2 KiB). */
function modelWithWeights(): ModelProto {
  const body = create(GraphProtoSchema, { name: 'then', initializer: [floatTensor('V', 512, 3)] });
  return model(
    create(GraphProtoSchema, {
      name: 'main',
      initializer: [floatTensor('W', 4096, 1), floatTensor('b', 4, 2)],
      node: [ifNode(body)],
    }),
  );
}

let folder: string;
beforeEach(async () => {
  folder = await tempFolder();
});
afterEach(() => cleanup(folder));

describe('saving with external data', () => {
  it('moves large initializers (subgraphs too) to one 4 KiB-aligned file and loads them back equal', async () => {
    const proto = modelWithWeights();
    const before = modelBytes(proto);
    const out = join(folder, 'm.onnx');
    const report = await saveModelFile(proto, out, { externalData: 'weights.bin' });
    expect(Buffer.compare(modelBytes(proto), before)).toBe(0); // the caller's proto is untouched
    expect(report.externalTensors).toBe(2);
    expect(report.externalBytes).toBe(4096 * 4 + 512 * 4); // W at 0 (16384 bytes), V at 16384 (already aligned)
    expect(report.bytes).toBe((await stat(out)).size);
    expect((await stat(join(folder, 'weights.bin'))).size).toBe(report.externalBytes);

    const stored = decodeModel(new Uint8Array(await readFile(out)), out);
    const w = stored.graph!.initializer[0]!;
    expect(w.dataLocation).toBe(TensorProto_DataLocation.EXTERNAL);
    expect(w.rawData.byteLength).toBe(0);
    expect(w.externalData.map((e) => [e.key, e.value])).toEqual([
      ['location', 'weights.bin'],
      ['offset', '0'],
      ['length', '16384'],
    ]);
    expect(stored.graph!.initializer[1]!.rawData.byteLength).toBe(16); // under the threshold: inline

    const loaded = await loadModelFile(out);
    expect(loaded.externalData.map(({ tensor, location, offset, length }) => ({ tensor, location, offset, length }))).toEqual([
      { tensor: 'W', location: 'weights.bin', offset: 0, length: 16384 },
      { tensor: 'V', location: 'weights.bin', offset: 16384, length: 2048 },
    ]);
    for (const ref of loaded.externalData) expect(ref.offset % 4096).toBe(0);
    // Loaded back inline, the model encodes exactly like the original.
    expect(Buffer.compare(modelBytes(loaded.proto), before)).toBe(0);
  });

  it('pads between tensors so that every offset is a multiple of 4096', async () => {
    const proto = model(create(GraphProtoSchema, { name: 'g', initializer: [floatTensor('A', 300, 1), floatTensor('B', 300, 2), floatTensor('C', 300, 3)] }));
    const out = join(folder, 'm.onnx');
    const report = await saveModelFile(proto, out, { externalData: 'data/w.bin', sizeThreshold: 1000 }).catch((e: Error) => e);
    expect(report).toBeInstanceOf(Error); // the data/ folder does not exist yet
    expect(await readdir(folder)).toEqual([]);
    await mkdir(join(folder, 'data'));
    const ok = await saveModelFile(proto, out, { externalData: 'data/w.bin', sizeThreshold: 1000 });
    expect(ok.externalBytes).toBe(2 * 4096 + 1200);
    const loaded = await loadModelFile(out, { loadExternalData: false });
    expect(loaded.externalData.map((r) => r.offset)).toEqual([0, 4096, 8192]);
    expect(loaded.proto.graph!.initializer[0]!.dataLocation).toBe(TensorProto_DataLocation.EXTERNAL);
  });

  it('refuses to replace the data file the source model still points into', async () => {
    const source = join(folder, 'src.onnx');
    await saveModelFile(modelWithWeights(), source, { externalData: 'weights.bin' });
    const dataBefore = await readFile(join(folder, 'weights.bin'));
    const loaded = await loadModelFile(source);
    const out = join(folder, 'out.onnx');
    const message = await errorOf(() =>
      saveModelFile(loaded.proto, out, { externalData: './weights.bin', sourceExternalData: loaded.externalData }),
    );
    expect(message).toBe(
      `${out}: external data file './weights.bin' holds tensor 'W' of the source model; replacing it would break that model, so choose another name`,
    );
    expect(Buffer.compare(await readFile(join(folder, 'weights.bin')), dataBefore)).toBe(0);
    expect((await readdir(folder)).sort()).toEqual(['src.onnx', 'weights.bin']);
    await saveModelFile(loaded.proto, out, { externalData: 'other.bin', sourceExternalData: loaded.externalData });
  });

  it('refuses unsafe data file names and leaves no files behind', async () => {
    await mkdir(join(folder, 'adir'));
    await writeFile(join(folder, 'real.bin'), 'x');
    await symlink('real.bin', join(folder, 'link.bin'));
    await link(join(folder, 'real.bin'), join(folder, 'hard.bin'));
    const cases: Array<[string, RegExp]> = [
      ['../escape.bin', /contains '\.\.'/],
      ['/tmp/abs.bin', /is an absolute path/],
      ['adir', /is a folder/],
      ['link.bin', /is a symlink/],
      ['hard.bin', /is a hardlink/],
    ];
    for (const [location, reason] of cases) {
      const out = join(folder, 'm.onnx');
      const message = await errorOf(() => saveModelFile(modelWithWeights(), out, { externalData: location }));
      expect(message).toMatch(reason);
      expect(message.startsWith(`${out}: --external-data: external data`)).toBe(true);
    }
    expect((await readdir(folder)).sort()).toEqual(['adir', 'hard.bin', 'link.bin', 'real.bin']);
  });

  it('refuses to save a model whose tensors still point to external files', async () => {
    const out = join(folder, 'm.onnx');
    await saveModelFile(modelWithWeights(), out, { externalData: 'w.bin' });
    const lazy = await loadModelFile(out, { loadExternalData: false });
    expect(await errorOf(() => saveModelFile(lazy.proto, join(folder, 'copy.onnx')))).toMatch(/tensor 'V' still points to external data/);
  });
});

describe('loading external data', () => {
  /** Writes a model whose tensor 'W' (4 floats) points at `entries`, and a 64-byte data.bin. */
  async function writeModel(entries: Record<string, string>): Promise<string> {
    // Replaced, not rewritten, so a hardlink made by an earlier case does not follow it.
    await rm(join(folder, 'data.bin'), { force: true });
    await writeFile(join(folder, 'data.bin'), Buffer.alloc(64, 1));
    const path = join(folder, 'm.onnx');
    await writeFile(path, modelBytes(model(create(GraphProtoSchema, { name: 'g', initializer: [externalTensor('W', 4, entries)] }))));
    return path;
  }

  it('reads tensors in subgraph attributes and sparse initializers, clearing their external fields', async () => {
    const bytes = Uint8Array.from({ length: 48 }, (_, i) => i);
    await writeFile(join(folder, 'data.bin'), bytes);
    const constant = create(NodeProtoSchema, {
      opType: 'Constant',
      output: ['c'],
      attribute: [
        create(AttributeProtoSchema, {
          name: 'value',
          type: AttributeProto_AttributeType.TENSOR,
          t: externalTensor('C', 4, { location: 'data.bin', offset: '0', length: '16' }),
        }),
      ],
    });
    const sparse = create(SparseTensorProtoSchema, {
      values: externalTensor('S_values', 4, { location: 'data.bin', offset: '16', length: '16' }),
      indices: externalTensor('S_indices', 2, { location: 'data.bin', offset: '32' }),
      dims: [8n],
    });
    const body = create(GraphProtoSchema, { name: 'then', node: [constant] });
    const path = join(folder, 'm.onnx');
    await writeFile(path, modelBytes(model(create(GraphProtoSchema, { name: 'g', node: [ifNode(body)], sparseInitializer: [sparse] }))));

    const loaded = await loadModelFile(path);
    expect(loaded.externalData.map((r) => [r.tensor, r.offset, r.length])).toEqual([
      ['C', 0, 16],
      ['S_values', 16, 16],
      ['S_indices', 32, 16],
    ]);
    const c = loaded.proto.graph!.node[0]!.attribute[0]!.g!.node[0]!.attribute[0]!.t!;
    expect([...c.rawData]).toEqual([...bytes.subarray(0, 16)]);
    expect(c.externalData).toEqual([]);
    expect(c.dataLocation).toBe(TensorProto_DataLocation.DEFAULT);
    expect([...loaded.proto.graph!.sparseInitializer[0]!.indices!.rawData]).toEqual([...bytes.subarray(32, 48)]);
  });

  it('refuses hostile or broken locations with one-line errors naming file and tensor', async () => {
    const outside = await tempFolder();
    try {
      await writeFile(join(outside, 'secret.bin'), Buffer.alloc(64));
      await symlink(outside, join(folder, 'linkdir'));
      await mkdir(join(folder, 'adir'));
      const cases: Array<[Record<string, string>, RegExp, () => Promise<void>]> = [
        [{ location: '../secret.bin' }, /contains '\.\.'/, async () => {}],
        [{ location: 'sub/../../secret.bin' }, /contains '\.\.'/, async () => {}],
        [{ location: join(outside, 'secret.bin') }, /is an absolute path/, async () => {}],
        [{ location: 'linkdir/secret.bin' }, /outside the model's folder through a symlinked folder/, async () => {}],
        [{ location: 'sym.bin' }, /is a symlink/, () => symlink('data.bin', join(folder, 'sym.bin'))],
        [{ location: 'hard.bin' }, /is a hardlink/, () => link(join(folder, 'data.bin'), join(folder, 'hard.bin'))],
        [{ location: 'missing.bin' }, /does not exist/, async () => {}],
        [{ location: 'adir' }, /is a folder/, async () => {}],
        [{ location: 'data.bin', offset: '60', length: '16' }, /range \[60, 76\) lies outside 'data\.bin' \(64 bytes\)/, async () => {}],
        [{ location: 'data.bin', offset: '100' }, /lies outside 'data\.bin'/, async () => {}],
        [{ location: 'data.bin', offset: '-1' }, /'offset' is '-1', not a byte count/, async () => {}],
        [{ offset: '0' }, /external_data has no 'location'/, async () => {}],
      ];
      for (const [entries, reason, prepare] of cases) {
        const path = await writeModel(entries);
        await prepare();
        const message = await errorOf(() => loadModelFile(path));
        expect(message.startsWith(`${path}: tensor 'W': `), message).toBe(true);
        expect(message).toMatch(reason);
      }
    } finally {
      await cleanup(outside);
    }
  });
});
