import { describe, expect, it } from 'vitest';
import { buildBackward } from '../../../src/autodiff/backward.js';
import { gradcheck } from '../../../src/check/gradcheck.js';
import { coordinateTransform, nearestRounding, type ResizeAxis, resizeMatrix, type ResizeSampling } from '../../../src/autodiff/resize-matrix.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { DataType } from '../../../src/ir/dtype.js';
import { newModel } from '../../../src/ir/model.js';
import { numel, floatTensor as tensorProto } from '../../../src/ir/tensor.js';
import { floatTensor } from '../../../src/runtime/tensors.js';
import { buildBackwardOf, checkGradients, computeGradients, expectClose, makeOpModel, type OpInput, type OpModel } from '../helpers.js';

describe('Resize / Upsample (nearest, whole factors) gradient', () => {
  it('sums each block (hand computed, x2 on [1, 1, 2, 2])', async () => {
    // Y[h, w] = X[h / 2, w / 2]: dX[i, j] = sum of R over the 2x2 block (2i.., 2j..)
    const m = makeOpModel({
      op: 'Resize',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 2, 2], values: [1, 2, 3, 4] },
        { name: 'roi', kind: 'absent' },
        { name: 'scales', kind: 'const', shape: [4], values: [1, 1, 2, 2] },
      ],
      attrs: { mode: 'nearest' },
    });
    const R = m.weights[0];
    const block = (i: number, j: number) => R[2 * i * 4 + 2 * j] + R[2 * i * 4 + 2 * j + 1] + R[(2 * i + 1) * 4 + 2 * j] + R[(2 * i + 1) * 4 + 2 * j + 1];
    const { grads } = await computeGradients(m);
    expectClose(grads.X.data, [block(0, 0), block(0, 1), block(1, 0), block(1, 1)], 1e-6, 'dX');
  });

  // scales or sizes; the coordinate / nearest modes that make block copies.
  const cases: { label: string; x: number[]; scales?: number[]; sizes?: number[]; attrs?: Record<string, string>; opset?: number }[] = [
    { label: 'x2 half_pixel (default)', x: [1, 2, 3, 2], scales: [1, 1, 2, 2] },
    { label: 'x3 / x2 half_pixel', x: [2, 1, 2, 3], scales: [1, 1, 3, 2] },
    { label: 'sizes, asymmetric floor, x3', x: [1, 2, 2, 2], sizes: [1, 2, 6, 4], attrs: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
    { label: 'x2 asymmetric round_prefer_floor (PyTorch nearest export)', x: [1, 1, 3, 3], scales: [1, 1, 2, 2], attrs: { coordinate_transformation_mode: 'asymmetric' } },
    { label: 'batch and channel copies too (x2 on all axes)', x: [1, 2, 2, 2], scales: [2, 2, 2, 2] },
    { label: 'opset 10 (X, scales), x3', x: [1, 1, 2, 3], scales: [1, 1, 3, 3], opset: 10 },
    // align_corners maps 8 outputs onto 4 inputs as 0,0,1,1,2,2,3,3: blocks, so the rule accepts it (x3 it does not)
    { label: 'align_corners x2 on size 4', x: [1, 1, 4, 4], scales: [1, 1, 2, 2], attrs: { coordinate_transformation_mode: 'align_corners' } },
    { label: '1-D rank 3, tf_half_pixel_for_nn x4 (opset 11)', x: [1, 2, 3], scales: [1, 1, 4], attrs: { coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'floor' }, opset: 11 },
  ];
  it.each(cases)('passes a central-difference check: $label', async ({ label, x, scales, sizes, attrs, opset }) => {
    const inputs: OpInput[] = [{ name: 'X', kind: 'param', shape: x }];
    if (opset === 10) inputs.push({ name: 'scales', kind: 'const', shape: [4], values: scales });
    else {
      // roi is a required (possibly empty) input at opset 11-12, optional from 13.
      inputs.push(opset === 11 ? { name: 'roi', kind: 'const', shape: [0], values: [] } : { name: 'roi', kind: 'absent' });
      inputs.push(scales ? { name: 'scales', kind: 'const', shape: [x.length], values: scales } : { name: 'scales', kind: 'absent' });
      if (sizes) inputs.push({ name: 'sizes', kind: 'int', shape: [x.length], values: sizes });
    }
    const m = makeOpModel({ op: 'Resize', inputs, attrs: { mode: 'nearest', ...attrs }, opset });
    await checkGradients(m, { label });
  });

  it('handles Upsample (opset 9, scales input)', async () => {
    const m = makeOpModel({
      op: 'Upsample',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 2, 2, 3] },
        { name: 'scales', kind: 'const', shape: [4], values: [1, 1, 2, 3] },
      ],
      attrs: { mode: 'nearest' },
      opset: 9,
    });
    await checkGradients(m, { label: 'Upsample' });
  });

  // Linear mode, fractional and downscaling factors and the non-block nearest mappings (x3 asymmetric,
  // align_corners x3) were refused here; they now go through the matrices: resize-linear.test.ts.
});

// Resize / Upsample gradients through the interpolation matrices (src/autodiff/resize-matrix.ts): linear in every coordinate
// mode PyTorch and TF export, and nearest with any static factor (fractional, downscaling, non-block mappings).
//
//   y = Resize(X, roi?, scales | sizes);  loss = ReduceSum(y * R)   (so dy = R)
//
// Each case first rebuilds y in JS from the matrices and compares with onnxruntime's Resize (this pins the
// matrices to the runtime's reading of the spec), then compares dX with A^T R along every axis, then runs a
// central-difference check through onnxruntime.
interface Case {
  label: string;
  x: number[];
  mode: 'nearest' | 'linear';
  scales?: number[];
  sizes?: number[];
  coordinate?: string;
  nearest?: string;
  /** 10: Resize(X, scales), asymmetric + floor; 9: Upsample(X, scales). */
  opset?: number;
}

const linear = (coordinate: string, x: number[], scales: number[]): Case => ({ label: `linear ${coordinate} ${scales.slice(2).join('x')} on ${x.join('x')}`, x, mode: 'linear', scales, coordinate });

const cases: Case[] = [
  ...['pytorch_half_pixel', 'half_pixel', 'align_corners', 'asymmetric'].flatMap((c) => [
    linear(c, [1, 2, 3, 4], [1, 1, 2, 2]),
    linear(c, [1, 1, 4, 6], [1, 1, 1.5, 1.5]),
    linear(c, [2, 1, 4, 6], [1, 1, 0.5, 0.5]),
  ]),
  // in * scale not whole (5 * 1.5 = 7.5 -> 7 outputs): the coordinates divide by the given scale, not 7 / 5
  linear('half_pixel', [1, 1, 5, 3], [1, 1, 1.5, 2]),
  linear('pytorch_half_pixel', [1, 1, 5, 4], [1, 1, 0.7, 1.25]),
  { label: 'trilinear pytorch_half_pixel on [1, 1, 2, 3, 4]', x: [1, 1, 2, 3, 4], mode: 'linear', scales: [1, 1, 2, 1.5, 0.5], coordinate: 'pytorch_half_pixel' },
  { label: 'linear sizes 3x4 -> 7x5 (pytorch_half_pixel)', x: [1, 2, 3, 4], mode: 'linear', sizes: [1, 2, 7, 5], coordinate: 'pytorch_half_pixel' },
  { label: 'linear sizes 4x4 -> 3x6 (align_corners)', x: [1, 1, 4, 4], mode: 'linear', sizes: [1, 1, 3, 6], coordinate: 'align_corners' },
  { label: 'linear opset 11 (empty roi)', x: [1, 1, 3, 3], mode: 'linear', scales: [1, 1, 1.5, 2], coordinate: 'half_pixel', opset: 11 },
  { label: 'linear opset 10 (X, scales)', x: [1, 1, 3, 3], mode: 'linear', scales: [1, 1, 2, 1.5], opset: 10 },
  { label: 'linear Upsample opset 9', x: [1, 1, 3, 2], mode: 'linear', scales: [1, 1, 2, 2.5], opset: 9 },
  { label: 'nearest half_pixel x1.5', x: [1, 2, 4, 4], mode: 'nearest', scales: [1, 1, 1.5, 1.5] },
  { label: 'nearest half_pixel x0.5', x: [1, 2, 4, 6], mode: 'nearest', scales: [1, 1, 0.5, 0.5] },
  { label: 'nearest asymmetric round_prefer_floor x3', x: [1, 1, 3, 3], mode: 'nearest', scales: [1, 1, 3, 3], coordinate: 'asymmetric', nearest: 'round_prefer_floor' },
  { label: 'nearest asymmetric floor x1.5 / x0.5', x: [1, 1, 4, 6], mode: 'nearest', scales: [1, 1, 1.5, 0.5], coordinate: 'asymmetric', nearest: 'floor' },
  { label: 'nearest align_corners x3', x: [1, 1, 3, 4], mode: 'nearest', scales: [1, 1, 3, 3], coordinate: 'align_corners' },
  { label: 'nearest pytorch_half_pixel round_prefer_ceil x2.5', x: [1, 1, 2, 3], mode: 'nearest', scales: [1, 1, 2.5, 2.5], coordinate: 'pytorch_half_pixel', nearest: 'round_prefer_ceil' },
  { label: 'nearest sizes 4x4 -> 6x3', x: [1, 1, 4, 4], mode: 'nearest', sizes: [1, 1, 6, 3] },
  { label: 'nearest Upsample opset 9 x1.5', x: [1, 1, 4, 2], mode: 'nearest', scales: [1, 1, 1.5, 2], opset: 9 },
];

function resizeInputs(c: Case): OpInput[] {
  const X: OpInput = { name: 'X', kind: 'param', shape: c.x };
  const scales: OpInput = { name: 'scales', kind: 'const', shape: [c.x.length], values: c.scales };
  if (c.opset !== undefined && c.opset <= 10) return [X, scales];
  const roi: OpInput = c.opset === 11 ? { name: 'roi', kind: 'const', shape: [0], values: [] } : { name: 'roi', kind: 'absent' };
  if (c.scales) return [X, roi, scales];
  // PyTorch's sizes export passes an empty scales tensor; from opset 13 the slot can be left empty.
  return [X, roi, { name: 'scales', kind: 'absent' }, { name: 'sizes', kind: 'int', shape: [c.x.length], values: c.sizes }];
}

function caseModel(c: Case): OpModel {
  const attrs: Record<string, string> = { mode: c.mode };
  if (c.coordinate) attrs.coordinate_transformation_mode = c.coordinate;
  if (c.nearest) attrs.nearest_mode = c.nearest;
  return makeOpModel({ op: c.opset === 9 ? 'Upsample' : 'Resize', inputs: resizeInputs(c), attrs, opset: c.opset });
}

/** The matrices of every axis, built as the rule builds them (opset <= 10 reads asymmetric + floor). */
function caseMatrices(c: Case): { axes: ResizeAxis[]; matrices: Float64Array[] } {
  const legacy = c.opset !== undefined && c.opset <= 10;
  const sampling: ResizeSampling = {
    mode: c.mode,
    coordinate: coordinateTransform(legacy ? 'asymmetric' : (c.coordinate ?? 'half_pixel'), c.mode)!,
    rounding: nearestRounding(legacy ? 'floor' : (c.nearest ?? 'round_prefer_floor'))!,
  };
  const axes = c.x.map((inSize, j): ResizeAxis => {
    if (c.sizes) return { inSize, outSize: c.sizes[j], scale: c.sizes[j] / inSize };
    const scale = c.scales![j];
    return { inSize, outSize: Math.floor(Math.fround(inSize * scale)), scale };
  });
  return { axes, matrices: axes.map((a) => resizeMatrix(a, sampling)) };
}

/** Applies the [rows, cols] matrix `m` (or its transpose) along axis j of `data` (shape `dims`). */
function alongAxis(data: Float64Array, dims: number[], j: number, m: Float64Array, rows: number, cols: number, transposed: boolean): { data: Float64Array; dims: number[] } {
  const [from, to] = transposed ? [rows, cols] : [cols, rows];
  const pre = numel(dims.slice(0, j));
  const post = numel(dims.slice(j + 1));
  const out = new Float64Array(pre * to * post);
  for (let p = 0; p < pre; p++) {
    for (let t = 0; t < to; t++) {
      for (let f = 0; f < from; f++) {
        const w = transposed ? m[f * cols + t] : m[t * cols + f];
        if (w === 0) continue;
        for (let q = 0; q < post; q++) out[(p * to + t) * post + q] += w * data[(p * from + f) * post + q];
      }
    }
  }
  const next = [...dims];
  next[j] = to;
  return { data: out, dims: next };
}

function applyAll(values: ArrayLike<number>, dims: number[], axes: ResizeAxis[], matrices: Float64Array[], transposed: boolean) {
  let t: { data: Float64Array; dims: number[] } = { data: Float64Array.from(values), dims };
  axes.forEach((a, j) => (t = alongAxis(t.data, t.dims, j, matrices[j], a.outSize, a.inSize, transposed)));
  return t;
}

/** x [N, 2, 3, 3] fed (N symbolic); y = Resize(x * P, scales [1, 1, 2, 2], mode) with P [2, 1, 1] the parameter. */
function resizeOfFedInput(mode: 'nearest' | 'linear') {
  const model = newModel({ opset: 17 });
  const g = model.graph;
  const b = new GraphBuilder(g);
  const p = g.addInitializer(tensorProto('P', Float32Array.from([0.5, -1]), [2, 1, 1]), { exactName: true });
  const x = g.addInput('x').setTensorType(DataType.FLOAT, ['N', 2, 3, 3]);
  const scales = g.addInitializer(tensorProto('scales', Float32Array.from([1, 1, 2, 2]), [4]), { exactName: true });
  const y = b.op('Resize', [b.mul(x, p), null, scales], { mode }, { name: 'resize' });
  return { model, g, b, p, y };
}

describe('Resize / Upsample gradient through interpolation matrices', () => {
  it('linear align_corners [1, 1, 1, 2] -> [1, 1, 1, 4] (hand computed)', async () => {
    // x_original = o / 3: Y = [a, (2a + b) / 3, (a + 2b) / 3, b], so
    // dX = [R0 + 2/3 R1 + 1/3 R2, 1/3 R1 + 2/3 R2 + R3]
    const m = makeOpModel({
      op: 'Resize',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 1, 2], values: [3, 6] },
        { name: 'roi', kind: 'absent' },
        { name: 'scales', kind: 'const', shape: [4], values: [1, 1, 1, 2] },
      ],
      attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    });
    const R = m.weights[0];
    const { grads, fetched } = await computeGradients(m, { fetch: ['y'] });
    expectClose(fetched.y.data as Float32Array, [3, 4, 5, 6], 1e-6, 'y');
    expectClose(grads.X.data, [R[0] + (2 / 3) * R[1] + (1 / 3) * R[2], (1 / 3) * R[1] + (2 / 3) * R[2] + R[3]], 1e-6, 'dX');
  });

  it.each(cases)('$label: matrices match onnxruntime, dX = A^T dY, central differences agree', async (c) => {
    const m = caseModel(c);
    const { axes, matrices } = caseMatrices(c);
    const { grads, fetched } = await computeGradients(m, { fetch: ['y'] });

    const y = applyAll(m.values.X, c.x, axes, matrices, false);
    expect([...fetched.y.dims]).toEqual(y.dims);
    expectClose(fetched.y.data as Float32Array, y.data, 1e-5, `${c.label}: forward`);

    const dx = applyAll(m.weights[0], y.dims, axes, matrices, true);
    expectClose(grads.X.data, dx.data, 1e-5, `${c.label}: dX`);

    const [result] = await checkGradients(m, { label: c.label, samplesPerParam: 64 });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });

  it.each([
    { label: 'nearest x2 half_pixel (block copy)', scales: [1, 1, 2, 2], mode: 'nearest', matmuls: 0 },
    { label: 'nearest x3 asymmetric round_prefer_floor (not blocks)', scales: [1, 1, 3, 3], mode: 'nearest', attrs: { coordinate_transformation_mode: 'asymmetric' }, matmuls: 2 },
    { label: 'linear x2 on W only', scales: [1, 1, 1, 2], mode: 'linear', matmuls: 1 },
  ])('takes the cheapest path: $label', ({ scales, mode, attrs, matmuls }) => {
    // Block copies keep the Reshape + ReduceSum gradient (no MatMul); otherwise one MatMul per resized axis.
    const m = makeOpModel({
      op: 'Resize',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 3, 3] },
        { name: 'roi', kind: 'absent' },
        { name: 'scales', kind: 'const', shape: [4], values: scales },
      ],
      attrs: { mode, ...attrs },
    });
    buildBackwardOf(m);
    const ops = m.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((op) => op === 'MatMul')).toHaveLength(matmuls);
  });

  it('keeps the block path for nearest x2 on a run-time batch size', async () => {
    // loss = sum(y * y)
    const { model, g, b, y } = resizeOfFedInput('nearest');
    g.addOutput(b.identity(b.reduceSum(b.mul(y, y), undefined, false), 'loss'));
    const data = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i + 1));
    const [result] = await gradcheck({ model, loss: 'loss', params: ['P'], feeds: { x: floatTensor(data, [2, 2, 3, 3]) } });
    expect(result.maxRelError).toBeLessThan(1e-2);
  });

  const refused: { label: string; attrs: Record<string, string | number>; scales?: 'runtime'; opset?: number; message: RegExp }[] = [
    { label: 'cubic mode', attrs: { mode: 'cubic' }, message: /Resize node 'resize'.*not mode 'cubic'/ },
    { label: 'tf_crop_and_resize', attrs: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' }, message: /Resize node 'resize'.*not coordinate_transformation_mode 'tf_crop_and_resize'/ },
    { label: 'scales computed at run time', attrs: { mode: 'linear' }, scales: 'runtime', message: /Resize node 'resize'.*not scales 'scales' computed at run time/ },
    { label: 'exclude_outside = 1 with linear', attrs: { mode: 'linear', exclude_outside: 1 }, message: /Resize node 'resize'.*not exclude_outside = 1/ },
    { label: 'antialias when downscaling (opset 18)', attrs: { mode: 'linear', antialias: 1 }, opset: 18, message: /Resize node 'resize'.*not antialias = 1 with downscaling/ },
  ];
  it.each(refused)('refuses $label in one line naming the node', ({ attrs, scales, opset, message }) => {
    const m = makeOpModel({
      op: 'Resize',
      inputs: [
        { name: 'X', kind: 'param', shape: [1, 1, 4, 4] },
        { name: 'roi', kind: 'absent' },
        { name: 'scales', kind: scales === 'runtime' ? 'input' : 'const', shape: [4], values: [1, 1, 0.5, 1.5] },
      ],
      attrs,
      opset,
      outputShapes: [[1, 1, 2, 6]],
    });
    let error: unknown;
    try {
      buildBackwardOf(m);
    } catch (e) {
      error = e;
    }
    expect(String((error as Error | undefined)?.message)).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses linear resizing of a value without a static shape', () => {
    // x [N, 2, 3, 3] fed; y = Resize(x * P, scales [1, 1, 2, 2], linear); loss = sum(y). Only the block-copy path
    // works on run-time shapes; linear needs the matrices, so the shape.
    const { model, g, b, p, y } = resizeOfFedInput('linear');
    g.addOutput(b.identity(b.reduceSum(y, undefined, false), 'loss'));
    expect(() => buildBackward(model, { loss: g.requireValue('loss'), wrt: [p] })).toThrow(/Resize node 'resize'.*not '.*' without a static shape/);
  });
});
