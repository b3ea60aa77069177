export const cumSumGrad = {
    opTypes: ['CumSum'],
    grad(ctx) {
        if (!ctx.needs(0))
            return [null, null];
        const exclusive = ctx.attrs.int('exclusive', 0);
        const reverse = ctx.attrs.int('reverse', 0) === 0 ? 1 : 0;
        return [ctx.b.op('CumSum', [ctx.dy(0), ctx.x(1)], { exclusive, reverse }), null];
    },
};
