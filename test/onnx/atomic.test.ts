import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema } from 'onnx-buf';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveModelFile } from '../../src/onnx/index.js';
import { AtomicFile } from '../../src/util/atomic-file.js';
import { cleanup, errorOf, floatTensor, model, modelBytes, tempFolder } from './helpers.js';

const proto = model(create(GraphProtoSchema, { name: 'g', initializer: [floatTensor('W', 2048, 1)] }));

let folder: string;
beforeEach(async () => {
  folder = await tempFolder();
});
afterEach(() => cleanup(folder));

describe('atomic saves', () => {
  it('replaces an existing file in one step', async () => {
    const out = join(folder, 'm.onnx');
    await writeFile(out, 'old contents');
    await saveModelFile(proto, out);
    expect(Buffer.compare(await readFile(out), modelBytes(proto))).toBe(0);
    expect(await readdir(folder)).toEqual(['m.onnx']);
  });

  it('removes its temp files when the rename fails after everything was written (target is a folder)', async () => {
    const out = join(folder, 'm.onnx');
    await mkdir(out);
    expect(await errorOf(() => saveModelFile(proto, out, { externalData: 'w.bin' }))).toBe(
      `${out}: is a folder; pass a file path for the model`,
    );
    expect(await readdir(folder)).toEqual(['m.onnx']);
    expect(await readdir(out)).toEqual([]);
  });

  it('reports a missing output folder in one line and creates nothing', async () => {
    const out = join(folder, 'no', 'm.onnx');
    // Said as what it is (issue #14), not as Node's `ENOENT: no such file or directory, open ...`.
    expect(await errorOf(() => saveModelFile(proto, out))).toBe(`cannot create ${out}: the folder ${join(folder, 'no')} does not exist; create it first`);
    expect(await readdir(folder)).toEqual([]);
  });

  it('abort after a partial write leaves neither temp file nor target', async () => {
    const target = join(folder, 'x.bin');
    const file = await AtomicFile.create(target);
    await file.write([new Uint8Array(10), new Uint8Array(5)]);
    expect(file.written).toBe(15);
    expect((await readdir(folder)).length).toBe(1);
    await file.abort();
    await file.abort();
    expect(await readdir(folder)).toEqual([]);
  });
});
