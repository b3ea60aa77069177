/**
 * Y = Einsum(equation, A_1, ..., A_n), n = 1 or 2, each operand and the output with distinct letters:
 *
 *   Y[out] = sum over the letters not in `out` of prod_k A_k[letters_k]
 *
 * The gradient of one operand is an einsum of dY with the other operands:
 *   dA_k = Einsum("out,<others>->letters_k", dY, A_others)
 * except for the letters of A_k that appear nowhere else (summed inside A_k alone): dY does not depend on where
 * along them an element sits, so the einsum produces A_k without them and the result is broadcast back along them
 * (Unsqueeze, Expand to A_k's shape). Implicit mode (no "->") has as output the letters that occur once, in
 * alphabetical order. Ellipsis, a letter repeated within one term (traces, diagonals) and more than two operands
 * are refused.
 */
import { RegraftError } from '../../errors.js';
import { shapeValue, unsqueeze } from '../shapes.js';
export const einsumGrad = {
    opTypes: ['Einsum'],
    grad(ctx) {
        const { operands, output } = parseEquation(ctx);
        const { b } = ctx;
        return operands.map((letters, k) => {
            if (!ctx.needs(k))
                return null;
            const others = operands.flatMap((o, j) => (j === k ? [] : [{ letters: o, value: ctx.x(j) }]));
            const elsewhere = new Set([...output, ...others.flatMap((o) => [...o.letters])]);
            const kept = [...letters].filter((c) => elsewhere.has(c)).join('');
            const equation = `${[output, ...others.map((o) => o.letters)].join(',')}->${kept}`;
            let g = b.op('Einsum', [ctx.dy(0), ...others.map((o) => o.value)], { equation });
            if (kept.length === letters.length)
                return g;
            const missing = [...letters].flatMap((c, i) => (elsewhere.has(c) ? [] : [i]));
            g = unsqueeze(ctx, g, missing);
            return b.op('Expand', [g, shapeValue(ctx, ctx.x(k))]);
        });
    },
};
/** The letters of each operand and of the output, after checking the equation is one the rule handles. */
function parseEquation(ctx) {
    const equation = ctx.attrs.string('equation').replace(/\s+/g, '');
    const refuse = (why) => new RegraftError(`${ctx.node.describe()}: Einsum '${equation}' ${why}, which the gradient rule does not support; rewrite it with MatMul/Transpose/ReduceSum`);
    if (equation.includes('.'))
        throw refuse('uses an ellipsis');
    const [lhs, rhs] = equation.split('->');
    const operands = lhs.split(',');
    if (operands.length > 2)
        throw refuse(`has ${operands.length} operands (at most 2)`);
    const counts = new Map();
    for (const term of operands)
        for (const c of term)
            counts.set(c, (counts.get(c) ?? 0) + 1);
    const output = rhs ?? [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
    for (const term of [...operands, output]) {
        if (!/^[A-Za-z]*$/.test(term))
            throw refuse(`has a term '${term}' that is not letters`);
        if (new Set(term).size !== term.length)
            throw refuse(`repeats a letter within the term '${term}'`);
    }
    return { operands, output };
}
