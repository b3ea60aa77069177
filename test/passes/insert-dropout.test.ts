import { describe, expect, it } from 'vitest';
import { DataType, tensorToNumbers } from '../../src/ir/index.js';
import { verifyEquivalent } from '../../src/check/equivalence.js';
import { finishPipeline, insertDropout } from '../../src/passes/index.js';
import { clone, cnn, histogram, mlp, names } from './models.js';

describe('insert-dropout', () => {
  it('puts Dropout-13 after every Relu, rewires readers and keeps the interface (opset 17)', () => {
    // input -> fc1 -> Relu -> fc2 -> Relu -> fc3 -> logits
    const model = mlp();
    const result = insertDropout(model, { after: ['Relu'], ratio: 0.3, seed: 7 });
    finishPipeline(model);
    expect(result.modified).toBe(true);
    expect(result.form).toBe('Dropout-12');
    expect(result.inserted.map((d) => d.node)).toEqual(['dropout//relu1/Relu_output_0', 'dropout//relu2/Relu_output_0']);
    expect(names(model.graph.inputs)).toEqual(['input']);
    expect(names(model.graph.outputs)).toEqual(['logits']);

    const drops = model.graph.nodes.filter((n) => n.opType === 'Dropout');
    expect(drops).toHaveLength(2);
    for (const d of drops) {
      const [data, ratio, mode] = d.inputs;
      expect(data!.producer!.opType).toBe('Relu');
      expect(tensorToNumbers(ratio!.initializer!)[0]).toBeCloseTo(0.3, 6);
      expect(mode!.name).toBe('training_mode');
      expect(d.attrs.int('seed')).toBe(7);
      // Every former reader of the Relu output now reads the Dropout output.
      expect(data!.uses.map((u) => u.node)).toEqual([d]);
      expect(d.output(0).uses.map((u) => u.node.opType)).toEqual(['Gemm']);
    }
    const mode = model.graph.requireValue('training_mode');
    expect(mode.initializer!.dataType).toBe(DataType.BOOL);
    expect(Array.from(mode.initializer!.rawData)).toEqual([0]);
    expect(model.graph.initializers.filter((v) => v.name.startsWith('training_mode'))).toHaveLength(1);
  });

  it('changes nothing when run again (values already followed by Dropout)', () => {
    const model = mlp();
    insertDropout(model, { after: ['Relu'] });
    const before = histogram(model);
    const again = insertDropout(model, { after: ['Relu'] });
    expect(again.modified).toBe(false);
    expect(again.inserted).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toEqual(['already followed by Dropout', 'already followed by Dropout']);
    expect(histogram(model)).toEqual(before);
  });

  it('uses the Dropout-7 form with a ratio attribute below opset 12 and reports an ignored seed', () => {
    const model = mlp({ opset: 11 });
    const result = insertDropout(model, { after: ['Relu'], ratio: 0.25, seed: 3 });
    expect(result.form).toBe('Dropout-7');
    expect(result.warnings).toEqual([expect.stringContaining('seed 3 ignored')]);
    const d = model.graph.nodes.find((n) => n.opType === 'Dropout')!;
    expect(d.inputs).toHaveLength(1);
    expect(d.attrs.float('ratio')).toBeCloseTo(0.25, 6);
    expect(model.graph.value('training_mode')).toBeUndefined();
  });

  it('refuses opsets below 7', () => {
    expect(() => insertDropout(mlp({ opset: 6 }), { after: ['Relu'] })).toThrow(/opset 6; Dropout insertion needs opset 7 or later/);
  });

  it.each([Number.NaN, -0.1, 1, 1.5])('rejects ratio %s in one line', (ratio) => {
    expect(() => insertDropout(mlp(), { after: ['Relu'], ratio })).toThrow(/^dropout ratio must be (a number )?in \[0, 1\)/);
  });

  it('names the op types present when nothing matches', () => {
    expect(() => insertDropout(mlp(), { after: ['Gelu'] })).toThrow('insert-dropout: no node matches Gelu; op types in this model: Gemm, Relu');
  });

  it('skips graph outputs unless allowed, and then the output keeps its name', () => {
    // Gemm outputs: two hidden ones and logits (a graph output)
    const skipped = insertDropout(mlp(), { after: ['Gemm'] });
    expect(skipped.inserted).toHaveLength(2);
    expect(skipped.skipped).toEqual([{ value: 'logits', reason: expect.stringContaining('graph output') }]);

    const model = mlp();
    const allowed = insertDropout(model, { after: ['Gemm'], allowGraphOutputs: true });
    finishPipeline(model);
    expect(allowed.inserted).toHaveLength(3);
    expect(names(model.graph.outputs)).toEqual(['logits']);
    const logits = model.graph.outputs[0];
    expect(logits.producer!.opType).toBe('Dropout');
    expect(logits.producer!.input(0)!.name).toBe('logits_before');
  });

  it('selects by node-name glob and by tensor name', () => {
    const byGlob = insertDropout(mlp(), { afterNode: ['/fc1/*'] });
    expect(byGlob.inserted.map((d) => d.input)).toEqual(['/fc1/Gemm_output_0']);
    const byTensor = insertDropout(mlp(), { afterTensor: ['/relu2/Relu_output_0', 'input'] });
    expect(byTensor.inserted.map((d) => [d.input, d.after])).toEqual([
      ['input', 'graph input'],
      ['/relu2/Relu_output_0', "Relu node '/relu2/Relu'"],
    ]);
    expect(() => insertDropout(mlp(), { afterTensor: ['h9'] })).toThrow(/no value named 'h9'/);
    expect(() => insertDropout(mlp(), { afterTensor: ['logits'] })).toThrow(/'logits' is a graph output.*--allow-outputs/);
  });

  it('infers exactly like the original (training_mode false)', async () => {
    // conv -> Relu -> pool -> fc1 -> Relu -> fc2
    const original = cnn();
    const model = clone(original);
    insertDropout(model, { after: ['Relu'], ratio: 0.5, seed: 1 });
    finishPipeline(model);
    const report = await verifyEquivalent(original, model, { batch: 3 });
    expect(report.ok).toBe(true);
    expect(report.outputs).toEqual([expect.objectContaining({ name: 'logits', dims: [3, 3], maxAbsDiff: 0 })]);
  });
});
