/**
 * What the fuzz harness (fuzz/, `npm run fuzz`) found, each reproduced on a corpus model edited the way the
 * mutation edited it, through the CLI:
 * - names read from a model file go into error messages, and a damaged or hostile file can put a newline, a
 *   carriage return or a terminal escape in one: 136 refusals of seed 1's first 20,000 cases spanned lines (the CLI
 *   printed only up to the newline: `no upgrade rule for Soft`); RegraftError now escapes control characters;
 * - seed 2: an opset version of 2^63 - 1 was read as a float and saved as 2^63 (protobuf-es threw "invalid int64"
 *   from save); it is refused at load;
 * - seed 2: attributes whose shape arithmetic gives no dimension (a pads list one short: NaN) threw a
 *   RangeError from shape inference during `convert --opset`; such a shape is left unknown, as a malformed
 *   attribute already was.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RegraftError } from '../../src/errors.js';
import { FIXTURES } from '../onnx/helpers.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'regraft-hostile-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `source` (a model file) with `edit` applied to its decoded proto, written to dir/name. */
function edited(source: string, name: string, edit: (m: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>) => void): string {
  const model = fromBinary(ModelProtoSchema, readFileSync(source));
  edit(model);
  const path = join(dir, name);
  writeFileSync(path, toBinary(ModelProtoSchema, model));
  return path;
}

describe('a name holding control characters is escaped in the one-line error', () => {
  it('convert --opset: an op type with a newline and a terminal escape (fuzz seed 1, case 185 and 102 more)', async () => {
    // test_Softmin: Neg then Softmax at opset 6.
    const path = edited(join(FIXTURES, 'pytorch-converted', 'test_Softmin', 'model.onnx'), 'op-type.onnx', (m) => {
      m.graph!.node[0].opType = 'Ne\ng\u001b[2J';
    });
    const out = join(dir, 'op-type-17.onnx');
    const r = await runCli('convert', path, '-o', out, '--opset', '17');
    expect(r.err).toEqual([
      "regraft: opset upgrade: no upgrade rule for Ne\\ng\\u001b[2J node producing '1' from opset 6 to 17; convert the model with onnx.version_converter or re-export it at opset 17",
    ]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('compile: a graph output whose name holds a carriage return and a forged second line (fuzz seed 1, case 383 and 29 more)', async () => {
    const path = edited(join(import.meta.dirname, '..', '..', 'models', 'mnist-mlp.onnx'), 'output-name.onnx', (m) => {
      m.graph!.output[0].name += '\r\nregraft: all good';
    });
    const r = await runCli('compile', path, '-o', join(dir, 'step.onnx'), '--loss', 'mse');
    expect(r.err).toEqual(["regraft: invalid model: Sub node 'loss/Sub': input 0 'logits\\r\\nregraft: all good' is never defined"]);
    expect(r.code).toBe(1);
  });

  it('every RegraftError is one line, whoever wrote the message; printable text (quotes, unicode) is kept', () => {
    expect(new RegraftError('a\nb\r\tc\u0000d\u007fe\u2028f').message).toBe('a\\nb\\r\\tc\\u0000d\\u007fe\\u2028f');
    expect(new RegraftError("node 'föö \"x\"' ✓").message).toBe("node 'föö \"x\"' ✓");
  });
});

describe('numbers a damaged file holds', () => {
  it('an opset version of 2^63 - 1 is refused at load in one line (fuzz seed 2, cases 5530, 14877, 18530)', async () => {
    const path = edited(join(FIXTURES, 'pytorch-converted', 'test_Softmin', 'model.onnx'), 'opset.onnx', (m) => {
      m.opsetImport[0].version = 2n ** 63n - 1n;
    });
    const out = join(dir, 'opset-copy.onnx');
    const r = await runCli('convert', path, '-o', out);
    expect(r.err).toEqual([`regraft: ${path}: opset_import gives domain 'ai.onnx' version 9223372036854775807, which is no opset version; fix the file or re-export the model`]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('AveragePool with 5 pads for 3 axes (6 needed): convert --opset 17 upgrades it, its output shape left unknown (fuzz seed 2, cases 4398, 4698)', async () => {
    const path = edited(join(FIXTURES, 'pytorch-converted', 'test_AvgPool3d', 'model.onnx'), 'pads.onnx', (m) => {
      m.graph!.node[0].attribute.find((a) => a.name === 'pads')!.ints = [0n, 0n, 0n, 0n, 0n];
      // With no shape declared for the output (the fuzz case's was damaged into a map type), inference fills it in.
      const output = m.graph!.output[0].type!.value;
      if (output.case === 'tensorType') output.value.shape = undefined;
    });
    const out = join(dir, 'pads-17.onnx');
    const r = await runCli('convert', path, '-o', out, '--opset', '17');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const upgraded = fromBinary(ModelProtoSchema, readFileSync(out));
    expect(upgraded.opsetImport[0].version).toBe(17n);
    // No dimension computed from the missing pad was written: the output stays a float tensor of unknown shape.
    const output = upgraded.graph!.output[0].type!.value;
    expect(output.case === 'tensorType' && output.value.elemType).toBe(1);
    expect(output.case === 'tensorType' && output.value.shape).toBeUndefined();
  });
});
