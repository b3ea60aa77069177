/** numpy-style broadcast of static shapes; a symbolic dim against 1 stays symbolic, unknown against anything unknown. */
export function broadcastShapes(shapes) {
    if (shapes.some((s) => s === undefined))
        return undefined;
    const rank = Math.max(...shapes.map((s) => s.length));
    const out = [];
    for (let i = 0; i < rank; i++) {
        let d = 1;
        for (const s of shapes) {
            const k = i - (rank - s.length);
            if (k < 0)
                continue;
            const e = s[k];
            if (e === 1)
                continue;
            if (d === 1)
                d = e;
            else if (d !== e)
                d = typeof d === 'number' && typeof e !== 'number' ? d : typeof e === 'number' && typeof d !== 'number' ? e : null;
        }
        out.push(d);
    }
    return out;
}
/** A possibly negative axis made non-negative for rank `rank` (no range check: a bad axis gives an unknown dim). */
export function nonNegativeAxis(axis, rank) {
    return axis < 0 ? axis + rank : axis;
}
/** 0, 1, ..., n - 1. */
export function range(n) {
    return Array.from({ length: n }, (_, i) => i);
}
/** Product of dims: a number when all are, the symbol when one symbol times ones, else null. */
export function dimProduct(dims) {
    let n = 1;
    const symbols = [];
    for (const d of dims) {
        if (typeof d === 'number')
            n *= d;
        else
            symbols.push(d);
    }
    if (symbols.length === 0)
        return n;
    if (symbols.length === 1 && n === 1 && symbols[0] !== null)
        return symbols[0];
    return n === 0 ? 0 : null;
}
/** d * f for a static factor f: a number when d is, d itself when f is 1, else unknown. */
export function scaled(d, f) {
    if (typeof d === 'number')
        return Math.floor(d * f);
    return f === 1 ? d : null;
}
