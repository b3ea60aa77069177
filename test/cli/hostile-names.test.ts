/**
 * Names read from a model file go into error messages, and a damaged or hostile file can put a newline, a carriage
 * return or a terminal escape in one. The fuzz harness's first 20,000 cases found 136 refusals that spanned lines
 * this way (the CLI printed only up to the newline: `no upgrade rule for Soft`); RegraftError now escapes control
 * characters, so the refusal is one line that still names the whole name.
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
