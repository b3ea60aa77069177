import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/index.js';
import { eliminateDeadPass, insertDropoutPass, runPasses, step, type Pass } from '../../src/passes/index.js';
import { histogram, mlp, names } from './models.js';

const renameOutput: Pass = {
  name: 'rename-output',
  run: (model: Model) => {
    model.graph.outputs[0].rename('scores');
    return { model, modified: true };
  },
};

const dropOutput: Pass = {
  name: 'drop-output',
  run: (model: Model) => {
    model.graph.removeOutput(model.graph.outputs[0]);
    return { model, modified: true };
  },
};

describe('runPasses', () => {
  it('runs to a fixed point and ends valid: insert-dropout changes nothing in round 2', () => {
    // input -> fc1 -> Relu -> fc2 -> Relu -> fc3 -> logits
    const model = mlp();
    const result = runPasses(model, [step(insertDropoutPass, { after: ['Relu'] }), eliminateDeadPass], { repeatUntilStable: true });
    expect(result.modified).toBe(true);
    expect(result.history).toEqual([
      { name: 'insert-dropout', round: 1, modified: true },
      { name: 'eliminate-dead', round: 1, modified: false },
      { name: 'insert-dropout', round: 2, modified: false },
      { name: 'eliminate-dead', round: 2, modified: false },
    ]);
    expect(histogram(model).Dropout).toBe(2);
  });

  it('reports no change for a pipeline that changes nothing', () => {
    expect(runPasses(mlp(), [eliminateDeadPass]).modified).toBe(false);
  });

  it('refuses passes that rename or drop graph outputs', () => {
    expect(() => runPasses(mlp(), [renameOutput])).toThrow("pass 'rename-output' changed the graph outputs (lost [logits], gained [scores]); passes must keep graph input and output names");
    expect(() => runPasses(mlp(), [dropOutput])).toThrow("pass 'drop-output' changed the graph outputs (lost [logits], gained []);");
  });

  it('refuses a training-interface pass that adds a name', () => {
    const sneaky: Pass = { ...renameOutput, name: 'sneaky', removesTrainingInterface: true };
    expect(() => runPasses(mlp(), [sneaky])).toThrow("pass 'sneaky' added or renamed graph outputs scores; it may only remove training-only ones");
  });

  it('validates the result, naming the node at fault', () => {
    const unknownDomain: Pass = {
      name: 'unknown-domain',
      run: (model: Model) => {
        const gemm = model.graph.nodes[0];
        const custom = model.graph.addNode('Scale', [gemm.input(0)!], {}, { domain: 'com.example', name: 'custom' });
        gemm.setInput(0, custom.output(0));
        return { model, modified: true };
      },
    };
    const model = mlp();
    expect(() => runPasses(model, [unknownDomain])).toThrow("invalid model: Scale node 'custom': domain 'com.example' is not imported by the model; add it to opset_import");
    expect(names(model.graph.outputs)).toEqual(['logits']);
  });
});
