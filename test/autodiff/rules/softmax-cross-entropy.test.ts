import { describe, expect, it } from 'vitest';
import { checkGradients, computeGradients, expectClose, makeOpModel, type OpInput } from '../helpers.js';

const softmax = (row: number[]) => {
  const e = row.map((v) => Math.exp(v - Math.max(...row)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('SoftmaxCrossEntropyLoss gradient', () => {
  it('is (softmax - onehot) * w / sum(w) for mean reduction with class weights and ignore_index (hand computed)', async () => {
    // scores [3, 3], labels [2, 0, -1 (ignored)], weights [0.5, 1, 2]: loss = (w2 l0 + w0 l1) / (w2 + w0)
    const scores = [0.1, 0.4, -0.3, 1.2, -0.5, 0.2, 0.3, 0.3, 0.9];
    const m = makeOpModel({
      op: 'SoftmaxCrossEntropyLoss',
      inputs: [
        { name: 'scores', kind: 'param', shape: [3, 3], values: scores },
        { name: 'labels', kind: 'int', shape: [3], values: [2, 0, -1] },
        { name: 'weights', kind: 'const', shape: [3], values: [0.5, 1, 2] },
      ],
      attrs: { ignore_index: -1 },
    });
    const R = m.weights[0][0]; // the loss is a scalar, weighted once by R
    const { grads } = await computeGradients(m);
    const norm = 2 + 0.5;
    const expected = [
      ...softmax(scores.slice(0, 3)).map((p, c) => (R * 2 * (p - (c === 2 ? 1 : 0))) / norm),
      ...softmax(scores.slice(3, 6)).map((p, c) => (R * 0.5 * (p - (c === 0 ? 1 : 0))) / norm),
      0, 0, 0,
    ];
    expectClose(grads.scores.data, expected, 1e-5, 'dscores');
  });

  type Case = { label: string; scores: number[]; labels: number[]; attrs?: Record<string, string | number>; weights?: boolean; logProb?: 'output' | 'loss'; opset?: number };
  const cases: Case[] = [
    { label: 'mean, [N, C]', scores: [4, 5], labels: [1, 4, 0, 2] },
    { label: 'sum', scores: [4, 3], labels: [2, 0, 1, 1], attrs: { reduction: 'sum' } },
    { label: 'none', scores: [3, 4], labels: [3, 0, 2], attrs: { reduction: 'none' } },
    { label: 'none, class weights', scores: [3, 4], labels: [3, 1, 2], attrs: { reduction: 'none' }, weights: true },
    { label: 'mean, class weights', scores: [5, 3], labels: [0, 1, 2, 2, 1], weights: true },
    { label: 'mean, ignore_index -100', scores: [4, 3], labels: [0, -100, 2, 1], attrs: { ignore_index: -100 } },
    { label: 'sum, weights + ignore_index 1', scores: [4, 3], labels: [0, 1, 2, 1], attrs: { reduction: 'sum', ignore_index: 1 }, weights: true },
    { label: 'mean, [N, C, d1, d2]', scores: [2, 3, 2, 2], labels: [0, 1, 2, 2, 1, 0, 0, 2] },
    { label: 'none, [N, C, d1], weights + ignore', scores: [2, 3, 3], labels: [0, 1, 2, 2, -1, 0], attrs: { reduction: 'none', ignore_index: -1 }, weights: true },
    { label: 'with log_prob output', scores: [3, 4], labels: [1, 3, 0], logProb: 'output' },
    { label: 'log_prob in the loss too', scores: [3, 4], labels: [1, 3, 0], logProb: 'loss' },
    { label: 'opset 12, [N, C]', scores: [3, 4], labels: [1, 3, 0], opset: 12 },
  ];

  it.each(cases)('passes a central-difference check: $label', async ({ label, scores, labels, attrs, weights, logProb, opset }) => {
    const inputs: OpInput[] = [
      { name: 'scores', kind: 'param', shape: scores, range: [-2, 2] },
      { name: 'labels', kind: 'int', shape: [scores[0], ...scores.slice(2)], values: labels },
    ];
    if (weights) inputs.push({ name: 'weights', kind: 'const', shape: [scores[1]], range: [0.2, 2] });
    const m = makeOpModel({
      op: 'SoftmaxCrossEntropyLoss',
      inputs,
      attrs,
      opset,
      outputs: logProb ? 2 : 1,
      lossOutputs: logProb === 'loss' ? [0, 1] : [0],
    });
    await checkGradients(m, { label, samplesPerParam: 12 });
    if (logProb) {
      const { model } = await computeGradients(m);
      expect(model.graph.nodes.some((n) => n.opType === 'Softmax')).toBe(false);
    }
  });
});
