/**
 * ScatterElements(data, indices, updates, axis) and ScatterND(data, indices, updates), reduction 'none':
 * y = data with the indexed positions overwritten by updates. So
 *
 *   d updates = dy read at those positions:  GatherElements(dy, indices, axis) / GatherND(dy, indices)
 *   d data    = dy with those positions zeroed (they were overwritten): the same scatter of zeros into dy
 *
 * With repeated indices the result of reduction 'none' is undefined in ONNX, and so is its gradient. The other
 * reductions ('add', 'mul', 'max', 'min') are refused: their gradients depend on every update to one position.
 * indices carries no gradient.
 */
import { RegraftError } from '../../errors.js';
import type { GradientRule } from '../types.js';
import { zerosLike } from '../shapes.js';

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
