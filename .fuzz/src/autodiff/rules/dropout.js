import { RegraftError } from '../../errors.js';
import { constantBool, constantFloat } from '../../ir/constant.js';
import { DEFAULT_DROPOUT_RATIO } from '../../passes/insert-dropout.js';
function trainingMode(ctx) {
    if (ctx.opset < 12)
        return 'identity';
    if (ctx.hasInput(1) && constantFloat(ctx.x(1)) === 0)
        return 'identity';
    if (!ctx.hasInput(2))
        return 'identity';
    const mode = constantBool(ctx.x(2));
    if (mode === undefined)
        return 'runtime';
    return mode ? 'train' : 'identity';
}
/** 1 / (1 - ratio), a constant when the ratio is (ratio defaults to 0.5). */
function keepScale(ctx) {
    const { b } = ctx;
    const ratio = ctx.hasInput(1) ? constantFloat(ctx.x(1)) : DEFAULT_DROPOUT_RATIO;
    if (ratio !== undefined)
        return b.scalar(1 / (1 - ratio));
    return b.div(b.scalar(1), b.sub(b.scalar(1), ctx.x(1)));
}
export const dropoutGrad = {
    opTypes: ['Dropout'],
    grad(ctx) {
        const rest = ctx.node.inputs.slice(1).map(() => null);
        if (!ctx.needs(0))
            return [null, ...rest];
        const dy = ctx.dy(0);
        const mode = trainingMode(ctx);
        if (mode === 'identity')
            return [dy, ...rest];
        const mask = ctx.node.outputs[1];
        if (!mask) {
            throw new RegraftError(`${ctx.node.describe()} has no mask output, so its gradient cannot reuse the forward mask; call exposeDropoutMask(node) from src/autodiff/forward-outputs.ts before building the backward pass`);
        }
        const { b } = ctx;
        let scale = keepScale(ctx);
        // training_mode fed at run time: in inference the mask is all ones and no scaling happens.
        if (mode === 'runtime')
            scale = b.op('Where', [ctx.x(2), scale, b.scalar(1)]);
        const kept = b.op('Cast', [mask], { to: 1 });
        return [b.mul(b.mul(dy, kept), scale), ...rest];
    },
};
