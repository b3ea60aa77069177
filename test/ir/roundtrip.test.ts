import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportModel, importModel, validateModel } from '../../src/ir/index.js';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'onnx-backend');

function onnxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return onnxFiles(p);
    return name.endsWith('.onnx') ? [p] : [];
  });
}

describe('IR round trip on the ONNX backend corpus', () => {
  const files = onnxFiles(CORPUS);

  it('finds the whole corpus', () => {
    expect(files.length).toBe(149);
  });

  it('load -> IR -> export gives the same bytes for every model', () => {
    const mismatches: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      const model = importModel(fromBinary(ModelProtoSchema, bytes));
      const out = toBinary(ModelProtoSchema, exportModel(model));
      if (Buffer.compare(Buffer.from(out), bytes) !== 0) mismatches.push(file);
    }
    expect(mismatches).toEqual([]);
  });

  it('every corpus model passes the validator', () => {
    const failures: string[] = [];
    for (const file of files) {
      const model = importModel(fromBinary(ModelProtoSchema, readFileSync(file)));
      const issues = validateModel(model);
      if (issues.length > 0) failures.push(`${file}: ${issues[0].message}`);
    }
    expect(failures).toEqual([]);
  });

  it('a model with every node renamed and toposorted still exports a consistent graph', () => {
    const file = files.find((f) => f.includes('light_resnet50'))!;
    const model = importModel(fromBinary(ModelProtoSchema, readFileSync(file)));
    model.graph.toposort();
    const out = toBinary(ModelProtoSchema, exportModel(model));
    // Already sorted: toposort must not move anything.
    expect(Buffer.compare(Buffer.from(out), readFileSync(file))).toBe(0);
  });
});
