/**
 * Indexed reads and writes; indices carry no gradient.
 *
 * y = Gather(x, idx, axis): y[p.., k.., q..] = x[p.., idx[k..], q..]. The gradient adds each dy slice into the row
 * of x it was read from (rows read twice get both contributions):
 *   dx[p.., i, q..] = sum over k with idx[k] = i of dy[p.., k.., q..]
 * Formulation, chosen for cost: with the axis moved to the front (Transpose when axis > 0),
 *   opset >= 16: dx = ScatterND(zeros, idx[..., None], dy, reduction = 'add')   O(size of dy), embedding-sized x ok
 *   opset 11-15: dx = OneHot(idx, dim)^T @ dy                                 O(dim * numel(idx) * row): small x only
 * Negative indices are wrapped (idx + dim) mod dim for ScatterND; OneHot accepts them as they are.
 *
 * Y = GatherElements(X, I, axis): Y[p] = X[p with its axis coordinate replaced by I[p]].
 *   dX = zeros like X, with dY[p] added at the element Y[p] was read from: ScatterElements(0, I, dY, axis) with
 *        reduction 'add', since I may name one element several times. Reduction exists from opset 16; below it a
 *        duplicate index would be overwritten, so the rule refuses older models.
 *
 * ScatterElements(data, indices, updates, axis) and ScatterND(data, indices, updates), reduction 'none':
 * y = data with the indexed positions overwritten by updates. So
 *   d updates = dy read at those positions:  GatherElements(dy, indices, axis) / GatherND(dy, indices)
 *   d data    = dy with those positions zeroed (they were overwritten): the same scatter of zeros into dy
 * With repeated indices the result of reduction 'none' is undefined in ONNX, and so is its gradient. The other
 * reductions ('add', 'mul', 'max', 'min') are refused: their gradients depend on every update to one position.
 */
import { OPSET_UPGRADE_HINT, RegraftError } from '../../errors.js';
import { DataType } from '../../ir/dtype.js';
import type { Value } from '../../ir/value.js';
import { normalizeAxis } from '../axes.js';
import { filled, staticDims, requireRank, zerosLike } from '../shapes.js';
import type { GradContext, GradientRule } from '../types.js';

/** x's size along the axis as an int64 scalar (a scalar keeps `idx + dim` shaped like idx, even for a scalar idx). */
function axisDim(ctx: GradContext, x: Value, axis: number): Value {
  const dims = staticDims(ctx, x);
  if (dims) return ctx.b.int64Init('gather_dim', [dims[axis]], []);
  return ctx.b.op('Gather', [ctx.shapeOf(x), ctx.b.int64Init('gather_axis', [axis], [])], { axis: 0 });
}

/** Shape of x transposed by perm, a constant when static. */
function permutedShape(ctx: GradContext, x: Value, perm: number[]): Value {
  const dims = staticDims(ctx, x);
  if (dims) return ctx.b.ints(perm.map((p) => dims[p]), 'shape');
  return ctx.b.op('Gather', [ctx.shapeOf(x), ctx.b.ints(perm, 'perm')], { axis: 0 });
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export const gatherGrad: GradientRule = {
  opTypes: ['Gather'],
  grad(ctx: GradContext) {
    if (!ctx.needs(0)) return [null, null];
    const { b } = ctx;
    const x = ctx.x(0);
    const given = ctx.x(1);
    // Mod and ScatterND want int64 indices; int32 is legal for Gather.
    const idx = given.elemType === DataType.INT32 ? b.op('Cast', [given], { to: DataType.INT64 }) : given;
    const r = requireRank(ctx, x);
    const q = requireRank(ctx, idx);
    const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), r);
    // x with the axis first, and dy with the index dims first (both identities when axis = 0).
    const permX = [axis, ...range(0, axis), ...range(axis + 1, r)];
    const permDy = [...range(axis, axis + q), ...range(0, axis), ...range(axis + q, r - 1 + q)];
    const dy = axis === 0 ? ctx.dy(0)! : b.op('Transpose', [ctx.dy(0)], { perm: permDy });
    const dim = axisDim(ctx, x, axis);
    let dxMoved: Value;
    if (ctx.opset >= 16) {
      const wrapped = b.op('Mod', [b.add(idx, dim), dim]);
      const indices = b.op('Unsqueeze', [wrapped, b.ints([-1], 'axes')]);
      const zeros = filled(ctx, permutedShape(ctx, x, permX));
      dxMoved = b.op('ScatterND', [zeros, indices, dy], { reduction: 'add' });
    } else {
      const onehot = b.op('OneHot', [idx, dim, b.floatInit('onehot_values', [0, 1], [2])], { axis: -1 });
      const selection = b.op('Transpose', [b.op('Flatten', [onehot], { axis: q })], { perm: [1, 0] });
      const rows = b.op('MatMul', [selection, b.op('Flatten', [dy], { axis: q })]);
      dxMoved = b.op('Reshape', [rows, permutedShape(ctx, x, permX)]);
    }
    if (axis === 0) return [dxMoved, null];
    const inverse = new Array<number>(r);
    permX.forEach((p, k) => (inverse[p] = k));
    return [b.op('Transpose', [dxMoved], { perm: inverse }), null];
  },
};

export const gatherElementsGrad: GradientRule = {
  opTypes: ['GatherElements'],
  grad(ctx) {
    if (!ctx.needs(0)) return [null, null];
    if (ctx.opset < 16) {
      throw new RegraftError(
        `${ctx.node.describe()}: the GatherElements gradient needs ScatterElements with reduction 'add' (opset 16+), the model has opset ${ctx.opset}; ${OPSET_UPGRADE_HINT}`,
      );
    }
    const axis = ctx.attrs.int('axis', 0);
    const dx = ctx.b.op('ScatterElements', [zerosLike(ctx, ctx.x(0)), ctx.x(1), ctx.dy(0)!], { axis, reduction: 'add' });
    return [dx, null];
  },
};

export const scatterGrad: GradientRule = {
  opTypes: ['ScatterElements', 'ScatterND'],
  grad(ctx) {
    const reduction = ctx.attrs.string('reduction', 'none');
    if (reduction !== 'none') {
      throw new RegraftError(`${ctx.node.describe()}: ${ctx.node.opType} with reduction '${reduction}' has no gradient rule (only 'none'); freeze the parameters before it (--freeze)`);
    }
    const { b } = ctx;
    const dy = ctx.dy(0)!;
    const indices = ctx.x(1);
    const elements = ctx.node.opType === 'ScatterElements';
    const attrs = elements ? { axis: ctx.attrs.int('axis', 0) } : {};
    const ddata = ctx.needs(0) ? b.op(ctx.node.opType, [dy, indices, zerosLike(ctx, ctx.x(2))], attrs) : null;
    const dupdates = ctx.needs(2) ? b.op(elements ? 'GatherElements' : 'GatherND', [dy, indices], attrs) : null;
    return [ddata, null, dupdates];
  },
};
