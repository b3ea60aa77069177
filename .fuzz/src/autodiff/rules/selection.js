export const whereGrad = {
    opTypes: ['Where'],
    grad(ctx) {
        const { b } = ctx;
        const dz = ctx.dy(0);
        const cond = ctx.x(0);
        const zero = b.scalar(0);
        const dx = ctx.needs(1) ? ctx.unbroadcast(b.op('Where', [cond, dz, zero]), 1) : null;
        const dy = ctx.needs(2) ? ctx.unbroadcast(b.op('Where', [cond, zero, dz]), 2) : null;
        return [null, dx, dy];
    },
};
export const maxMinGrad = {
    opTypes: ['Max', 'Min'],
    grad(ctx) {
        const n = ctx.node.inputs.length;
        const needed = Array.from({ length: n }, (_, i) => ctx.needs(i));
        if (n === 1)
            return [needed[0] ? ctx.dy(0) : null];
        const { b } = ctx;
        const dy = ctx.dy(0);
        const y = ctx.y(0);
        const zero = b.scalar(0);
        const last = needed.lastIndexOf(true);
        const grads = needed.map(() => null);
        let taken = null; // where an earlier input already won
        for (let i = 0; i <= last; i++) {
            const hit = b.op('Equal', [ctx.x(i), y]);
            const wins = taken ? b.op('And', [hit, b.op('Not', [taken])]) : hit;
            if (needed[i])
                grads[i] = ctx.unbroadcast(b.op('Where', [wins, dy, zero]), i);
            if (i < last)
                taken = taken ? b.op('Or', [taken, hit]) : hit;
        }
        return grads;
    },
};
export const clipGrad = {
    opTypes: ['Clip'],
    grad(ctx) {
        const rest = ctx.node.inputs.slice(1).map(() => null);
        if (!ctx.needs(0))
            return [null, ...rest];
        const { b } = ctx;
        const x = ctx.x(0);
        const [lo, hi] = bounds(ctx);
        const inside = [lo && b.op('Greater', [x, lo]), hi && b.op('Less', [x, hi])].filter((m) => m !== null);
        if (inside.length === 0)
            return [ctx.dy(0), ...rest];
        const mask = inside.length === 1 ? inside[0] : b.op('And', inside);
        return [b.op('Where', [mask, ctx.dy(0), b.scalar(0)]), ...rest];
    },
};
/** The lower and upper bound as values (null when unbounded), from inputs (opset 11+) or attributes. */
function bounds(ctx) {
    if (ctx.opset >= 11)
        return [ctx.hasInput(1) ? ctx.x(1) : null, ctx.hasInput(2) ? ctx.x(2) : null];
    const { attrs, b } = ctx;
    return [attrs.has('min') ? b.scalar(attrs.float('min')) : null, attrs.has('max') ? b.scalar(attrs.float('max')) : null];
}
export const triluGrad = {
    opTypes: ['Trilu'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null, null];
        const inputs = ctx.hasInput(1) ? [ctx.dy(0), ctx.x(1)] : [ctx.dy(0)];
        return [ctx.b.op('Trilu', inputs, { upper: ctx.attrs.int('upper', 1) }), null];
    },
};
export const hardmaxGrad = {
    opTypes: ['Hardmax'],
    grad: () => [null],
};
