/** The gradient of a one-input op from its table entry (no gradient when x needs none). */
export function pointwiseGrad(slopes, ctx) {
    if (!ctx.needs(0))
        return [null];
    return [slopes[ctx.node.opType]({ b: ctx.b, x: ctx.x(0), y: ctx.y(0), dy: ctx.dy(0), attrs: ctx.attrs, ctx })];
}
/** v * v. */
export function square(b, v) {
    return b.mul(v, v);
}
