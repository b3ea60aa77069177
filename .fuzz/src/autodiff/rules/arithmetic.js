/**
 * Broadcasting arithmetic over two or more inputs. Every input's gradient is summed back down to its own shape by
 * ctx.unbroadcast, the one place numpy broadcasting is undone:
 *
 *   Add, Sub:  z = a +- b                      da = unbroadcast(dz),          db = +-unbroadcast(dz)
 *   Mul:       z = a * b                       da = unbroadcast(dz * b),      db = unbroadcast(dz * a)
 *   Div:       z = a / b                       da = unbroadcast(dz / b),      db = unbroadcast(-dz * z / b)  (z reused)
 *   Pow:       z = a^p                         da = unbroadcast(dz * p * a^(p-1))   (a constant p = 2: dz * 2a, no Pow node)
 *                                              dp = unbroadcast(dz * z * ln a)      (defined for a > 0, as in PyTorch)
 *   Sum:       y = x_0 + x_1 + ...             dx_i = unbroadcast(dy)
 *   Mean:      y = (x_0 + ... + x_n-1) / n     dx_i = unbroadcast(dy / n)           (averaged heads, ensembles)
 *
 * An integer exponent (Pow-12 allows it) is cast to float for the arithmetic and gets no gradient. Max and Min,
 * which route dy to the input that won, are in selection.ts; the one-input functions (Neg, Abs, ...) in
 * unary-math.ts.
 */
import { constantFloat } from '../../ir/constant.js';
import { DataType } from '../../ir/dtype.js';
export const addSubGrad = {
    opTypes: ['Add', 'Sub'],
    grad(ctx) {
        const dz = ctx.dy(0);
        const da = ctx.needs(0) ? ctx.unbroadcast(dz, 0) : null;
        let db = null;
        if (ctx.needs(1)) {
            const g = ctx.unbroadcast(dz, 1);
            db = ctx.node.opType === 'Sub' ? ctx.b.neg(g) : g;
        }
        return [da, db];
    },
};
export const mulGrad = {
    opTypes: ['Mul'],
    grad(ctx) {
        const dz = ctx.dy(0);
        const { b } = ctx;
        const da = ctx.needs(0) ? ctx.unbroadcast(b.mul(dz, ctx.x(1)), 0) : null;
        const db = ctx.needs(1) ? ctx.unbroadcast(b.mul(dz, ctx.x(0)), 1) : null;
        return [da, db];
    },
};
export const divGrad = {
    opTypes: ['Div'],
    grad(ctx) {
        const dz = ctx.dy(0);
        const { b } = ctx;
        const da = ctx.needs(0) ? ctx.unbroadcast(b.div(dz, ctx.x(1)), 0) : null;
        const db = ctx.needs(1) ? ctx.unbroadcast(b.neg(b.div(b.mul(dz, ctx.y(0)), ctx.x(1))), 1) : null;
        return [da, db];
    },
};
export const powGrad = {
    opTypes: ['Pow'],
    grad(ctx) {
        const { b } = ctx;
        const dz = ctx.dy(0);
        const a = ctx.x(0);
        let p = ctx.x(1);
        let da = null;
        if (ctx.needs(0)) {
            const constant = constantFloat(p);
            if (constant === 2) {
                da = b.mul(dz, b.mul(a, b.scalar(2)));
            }
            else {
                if (p.elemType !== undefined && p.elemType !== DataType.FLOAT)
                    p = b.op('Cast', [p], { to: DataType.FLOAT });
                const slope = b.mul(p, b.op('Pow', [a, b.sub(p, b.scalar(1))]));
                da = b.mul(dz, slope);
            }
            da = ctx.unbroadcast(da, 0);
        }
        const dp = ctx.needs(1) ? ctx.unbroadcast(b.mul(dz, b.mul(ctx.y(0), b.op('Log', [a]))), 1) : null;
        return [da, dp];
    },
};
export const sumGrad = {
    opTypes: ['Sum'],
    grad: (ctx) => ctx.node.inputs.map((_, i) => (ctx.needs(i) ? ctx.unbroadcast(ctx.dy(0), i) : null)),
};
export const meanGrad = {
    opTypes: ['Mean'],
    grad(ctx) {
        const n = ctx.node.inputs.length;
        const scaled = ctx.b.mul(ctx.dy(0), ctx.b.scalar(1 / n));
        return ctx.node.inputs.map((_, i) => (ctx.needs(i) ? ctx.unbroadcast(scaled, i) : null));
    },
};
