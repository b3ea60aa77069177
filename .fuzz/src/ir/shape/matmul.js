import { broadcastShapes } from './dims.js';
export const matMul = (node, c) => {
    const a = c.shape(node.inputs[0]);
    const bs = c.shape(node.inputs[1]);
    const elemType = c.elemType(node.inputs[0]);
    if (!a || !bs || a.length === 0 || bs.length === 0)
        return [{ elemType }];
    const a2 = a.length === 1 ? [1, a[0]] : a;
    const b2 = bs.length === 1 ? [bs[0], 1] : bs;
    const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
    if (!batch)
        return [{ elemType }];
    const shape = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(bs.length === 1 ? [] : [b2[b2.length - 1]])];
    return [{ elemType, shape }];
};
export const gemm = (node, c) => {
    const a = c.shape(node.inputs[0]);
    const bs = c.shape(node.inputs[1]);
    const ta = node.attrs.int('transA', 0);
    const tb = node.attrs.int('transB', 0);
    const m = a ? a[ta ? 1 : 0] : null;
    const n = bs ? bs[tb ? 0 : 1] : null;
    return [{ elemType: c.elemType(node.inputs[0]), shape: [m ?? null, n ?? null] }];
};
/** Einsum without ellipsis: each output letter takes its size from an operand that has it. */
export const einsum = (node, c) => {
    const elemType = c.elemType(node.inputs[0]);
    const equation = node.attrs.string('equation').replace(/\s+/g, '');
    if (equation.includes('.'))
        return [{ elemType }];
    const [lhs, rhs] = equation.split('->');
    const terms = lhs.split(',');
    const sizes = new Map();
    const counts = new Map();
    terms.forEach((term, k) => {
        const s = c.shape(node.inputs[k]);
        [...term].forEach((letter, i) => {
            counts.set(letter, (counts.get(letter) ?? 0) + 1);
            const d = s?.[i];
            const known = sizes.get(letter);
            if (d !== undefined && (known === undefined || known === 1))
                sizes.set(letter, d);
        });
    });
    const output = rhs ?? [...counts].filter(([, n]) => n === 1).map(([letter]) => letter).sort().join('');
    return [{ elemType, shape: [...output].map((letter) => sizes.get(letter) ?? null) }];
};
