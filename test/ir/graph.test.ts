import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, NodeProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import {
  AttrType,
  DataType,
  exportModel,
  float,
  GraphBuilder,
  importModel,
  newModel,
  validateModel,
  type Model,
  type Value,
} from '../../src/ir/index.js';

/** x -> Relu -> h -> Neg -> y (output); also an unused initializer `w`. */
function chain(): { m: Model; x: Value; h: Value; y: Value; b: GraphBuilder } {
  const m = newModel();
  const b = new GraphBuilder(m.graph);
  const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, ['N', 3]);
  const h = b.op('Relu', [x], {}, { output: 'h' });
  const y = b.op('Neg', [h], {}, { output: 'y' });
  m.graph.addOutput(y);
  b.floatInit('w', [1, 2, 3], [3]);
  return { m, x, h, y, b };
}

describe('use-def links', () => {
  it('a value knows its producer and its uses, and setInput keeps both sides in step', () => {
    const { m, x, h, y, b } = chain();
    expect(h.producer?.opType).toBe('Relu');
    expect(h.uses.map((u) => [u.node.opType, u.index])).toEqual([['Neg', 0]]);
    const neg = y.producer!;
    neg.setInput(0, x);
    expect(h.uses).toEqual([]);
    expect(x.uses.map((u) => u.node.opType).sort()).toEqual(['Neg', 'Relu']);
    const sig = b.op('Sigmoid', [x]);
    x.replaceAllUsesWith(sig);
    // Every reader moved, the Sigmoid included (a caller disconnects the new producer first when that matters).
    expect(x.uses).toEqual([]);
    expect(m.graph.inputs).toContain(x);
  });

  it('replaceAllUsesWith leaves graph output slots alone (outputs are never renamed)', () => {
    const { m, h, y, b } = chain();
    const other = b.op('Sigmoid', [h]);
    y.replaceAllUsesWith(other);
    expect(m.graph.outputs).toEqual([y]);
  });

  it('names are handed out by the graph and never collide', () => {
    const { m, b, x } = chain();
    const a = b.op('Relu', [x], {}, { output: 'h' });
    expect(a.name).not.toBe('h');
    expect(m.graph.value(a.name)).toBe(a);
    const n1 = b.node('Relu', [x]);
    const n2 = b.node('Relu', [x]);
    expect(n1.name).not.toBe(n2.name);
    expect(() => a.rename('y')).toThrow(/already used/);
  });
});

describe('removing nodes', () => {
  it('refuses a node whose output is still read or is a graph output', () => {
    const { m, h, y } = chain();
    expect(() => m.graph.removeNode(h.producer!)).toThrow(/still read by Neg node/);
    expect(() => m.graph.removeNode(y.producer!)).toThrow(/is a graph output/);
  });

  it('cleanup removes dead nodes and unused initializers, and reports it', () => {
    const { m, x, b } = chain();
    b.op('Sigmoid', [b.op('Exp', [x])]); // dead branch
    const report = m.graph.cleanup();
    expect(report).toEqual({ removedNodes: 2, removedInitializers: 1 });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Neg']);
    expect(m.graph.cleanup()).toEqual({ removedNodes: 0, removedInitializers: 0 });
  });

  it('a node read only by a subgraph (If branch) stays alive', () => {
    const m = newModel();
    const g = m.graph;
    const b = new GraphBuilder(g);
    const x = g.addInput('x').setTensorType(DataType.FLOAT, [1]);
    const cond = g.addInput('cond').setTensorType(DataType.BOOL, []);
    const hidden = b.op('Relu', [x], {}, { output: 'hidden' }); // read by name inside the branches only
    const branch = (name: string) =>
      create(GraphProtoSchema, {
        name,
        node: [create(NodeProtoSchema, { opType: 'Identity', input: ['hidden'], output: [`${name}_out`] })],
        output: [create(ValueInfoProtoSchema, { name: `${name}_out` })],
      });
    const iff = b.node('If', [cond], { then_branch: branch('then'), else_branch: branch('else') });
    g.addOutput(iff.output(0));
    // Re-import so the subgraph's outer read is discovered the way it is for a file.
    const again = importModel(exportModel(m));
    expect(again.graph.requireValue('hidden').implicitUses.size).toBe(1);
    expect(again.graph.cleanup().removedNodes).toBe(0);
    expect(() => again.graph.requireValue('hidden').rename('other')).toThrow(/subgraphs .* read it by name/);
    expect(hidden.name).toBe('hidden');
  });
});

describe('toposort', () => {
  it('orders nodes added out of order and keeps a sorted graph as it is', () => {
    const { m, x, h } = chain();
    const b = new GraphBuilder(m.graph);
    b.insertBefore = h.producer!; // a consumer of h placed before h's producer
    const late = b.op('Exp', [h]);
    m.graph.addOutput(late);
    expect(validateModel(m).some((i) => /produced later/.test(i.message))).toBe(true);
    m.graph.toposort();
    // Ready nodes are taken in their current order: Exp (placed first) as soon as Relu has run.
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Exp', 'Neg']);
    expect(validateModel(m)).toEqual([]);
    const order = [...m.graph.nodes];
    m.graph.toposort();
    expect(m.graph.nodes).toEqual(order);
    expect(x.uses.length).toBe(1);
  });

  it('names the node on a cycle', () => {
    const { m, h, y } = chain();
    h.producer!.setInput(0, y);
    expect(() => m.graph.toposort()).toThrow(/cycle through/);
  });
});

describe('validator', () => {
  it('names the node and tensor at fault', () => {
    const { m, b } = chain();
    const stray = m.graph._newValue('never_defined', true);
    b.op('Relu', [stray], {}, { name: 'reads_nothing' });
    b.node('MyOp', [m.graph.requireValue('x')], {}, { domain: 'com.example', name: 'custom' });
    const messages = validateModel(m).map((i) => i.message);
    expect(messages).toContain("Relu node 'reads_nothing': input 0 'never_defined' is never defined");
    expect(messages.some((s) => s.startsWith("MyOp node 'custom': domain 'com.example' is not imported"))).toBe(true);
  });
});

describe('rebuildNode', () => {
  it('adds an optional output while the kept outputs stay the same values', () => {
    const m = newModel();
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, [2]);
    const drop = b.node('Dropout', [x], {}, { name: 'drop' });
    const y = drop.output(0);
    m.graph.addOutput(b.op('Neg', [y]));
    const rebuilt = m.graph.rebuildNode(drop, { outputs: [y, 'mask'] });
    expect(rebuilt.name).toBe('drop');
    expect(rebuilt.output(0)).toBe(y);
    expect(y.producer).toBe(rebuilt);
    expect(y.uses.map((u) => u.node.opType)).toEqual(['Neg']);
    expect(rebuilt.output(1).name).toBe('mask');
    expect(m.graph.nodes).not.toContain(drop);
    expect(x.uses.map((u) => u.node)).toEqual([rebuilt]);
    const foreign = y.uses[0].node.output(0);
    expect(() => m.graph.rebuildNode(rebuilt, { outputs: [y, rebuilt.output(1), foreign] })).toThrow(/not an output of/);
  });

  it('refuses to drop an output that is still read', () => {
    const m = newModel();
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, [2]);
    const [y, mask] = b.ops('Dropout', [x], {}, 2);
    m.graph.addOutput(y);
    m.graph.addOutput(mask);
    expect(() => m.graph.rebuildNode(y.producer!, { outputs: [y] })).toThrow(/still read/);
  });
});

describe('attributes', () => {
  it('integers become INT, fractions FLOAT, and float() forces FLOAT', () => {
    const { m, x } = chain();
    const b = new GraphBuilder(m.graph);
    const n = b.node('Gemm', [x, x], { transB: 1, alpha: float(1), beta: 0.5, perm: [1, 0], name: 'text' });
    const type = (k: string) => n.attributes.get(k)!.type;
    expect([type('transB'), type('alpha'), type('beta'), type('perm'), type('name')]).toEqual([
      AttrType.INT, AttrType.FLOAT, AttrType.FLOAT, AttrType.INTS, AttrType.STRING,
    ]);
    expect(n.attrs.float('alpha')).toBe(1);
    expect(() => n.attrs.int('alpha')).toThrow(/should be INT but is FLOAT/);
    expect(n.attrs.int('missing', 7)).toBe(7);
    expect(() => n.attrs.int('missing')).toThrow(/required attribute 'missing'/);
    expect(create(AttributeProtoSchema, { type: AttributeProto_AttributeType.INT }).type).toBe(AttrType.INT);
  });
});

describe('export of old IR versions', () => {
  it('lists added initializers as graph inputs before IR version 4, as onnxruntime requires there', async () => {
    const m = newModel({ irVersion: 3, opset: 9 });
    const b = new GraphBuilder(m.graph);
    const x = m.graph.addInput('x').setTensorType(DataType.FLOAT, [2]);
    m.graph.addOutput(b.op('Add', [x, b.floatInit('bias', [1, 2], [2])], {}, { output: 'y' }));
    const proto = exportModel(m);
    expect(proto.graph!.input.map((i) => i.name)).toEqual(['x', 'bias']);
    const { InferenceSession, Tensor } = await import('onnxruntime-node');
    const { modelToBytes } = await import('../../src/model-io.js');
    const session = await InferenceSession.create(modelToBytes(m));
    const out = await session.run({ x: new Tensor('float32', new Float32Array([10, 20]), [2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([11, 22]);
    // From IR 4 on, initializers stay off the input list.
    m.proto.irVersion = 8n;
    expect(exportModel(m).graph!.input.map((i) => i.name)).toEqual(['x']);
  });
});
