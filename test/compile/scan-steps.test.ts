/**
 * The scan-steps model's interface (compile/scan-steps.ts): the step's own names outside, the per-step inputs and
 * the loss with a leading `steps` dim, the carried values as they were; and the steps it refuses to wrap.
 * That its runs equal one step per run is proven in test/training/steps-per-run.test.ts.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { compileTrainStep } from '../../src/compile/compile.js';
import { canScanSteps, scanStepsModel, STEPS_DIM } from '../../src/compile/scan-steps.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { buildMlp } from '../../src/models/builders.js';
import { stepModels } from '../../src/training/step-runner.js';

function plainStep() {
  const step = compileTrainStep(buildMlp({ hidden: [4], seed: 0 }), { loss: 'cross-entropy', optimizer: 'momentum' });
  return { step, model: stepModels(step).step };
}

describe('scanStepsModel', () => {
  it('keeps the step\'s names and stacks the per-step inputs and the loss along a leading steps dim', () => {
    const { step, model } = plainStep();
    const perStep = [...step.dataInputs, step.labels, step.lr!];
    const scan = scanStepsModel(model, { carried: step.carried, perStep, loss: step.loss });
    const g = scan.graph;
    expect(g.nodes.map((n) => n.opType)).toEqual(['Scan']);
    expect(g.inputs.map((v) => v.name)).toEqual([...step.carried.map((c) => c.input), ...perStep]);
    expect(g.outputs.map((v) => v.name)).toEqual([...step.carried.map((c) => c.output), step.loss]);
    expect(g.requireValue('input').shape).toEqual([STEPS_DIM, 'N', 784]);
    expect(g.requireValue(step.lr!).shape).toEqual([STEPS_DIM]);
    expect(g.requireValue(step.loss).shape).toEqual([STEPS_DIM]);
    expect(g.requireValue('fc1.weight').shape).toEqual([4, 784]);
    expect(g.nodes[0].attrs.int('num_scan_inputs')).toBe(perStep.length);
  });

  it('names an input of the step that is neither carried nor fed per step', () => {
    const { step, model } = plainStep();
    expect(() => scanStepsModel(model, { carried: step.carried, perStep: [...step.dataInputs, step.labels], loss: step.loss })).toThrow(
      `scanStepsModel: the step also reads '${step.lr}', which is neither carried nor fed per step`,
    );
  });

  it('wraps no step below opset 9 (Scan then had a batch axis) or with a subgraph', () => {
    expect(canScanSteps(plainStep().model)).toBe(true);
    // The compiler emits opset 9+ ops, so only a step file edited by hand has a lower opset.
    const old = plainStep().model;
    old.opsets.set('', 8);
    expect(canScanSteps(old)).toBe(false);
    const { model } = plainStep();
    const b = new GraphBuilder(model.graph);
    const cond = model.graph.addInput('cond').setTensorType(DataType.BOOL, []);
    b.op('If', [cond], { then_branch: create(GraphProtoSchema, { name: 'then' }), else_branch: create(GraphProtoSchema, { name: 'else' }) });
    expect(canScanSteps(model)).toBe(false);
  });
});
