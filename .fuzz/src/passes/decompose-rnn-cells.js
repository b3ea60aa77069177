/**
 * One time step of the ONNX recurrent cells, written with primitive ops (MatMul, Add, Mul, Sub, Split, Sigmoid,
 * Tanh, Relu, Clip) for decompose-rnn. Notation of the ONNX spec: X_t [batch, input], H [batch, hidden],
 * (.) elementwise, f/g/h the cell's activations. The input projection X_t W^T + biases is computed for all steps
 * at once by the caller and arrives here as `xw` [batch, k * hidden]; R arrives transposed, RT [hidden, k * hidden].
 *
 *   LSTM (gates iofc): i = f(xw_i + H R_i^T + P_i (.) C),  f_t = f(xw_f + H R_f^T + P_f (.) C),
 *                      c = g(xw_c + H R_c^T),  C' = f_t (.) C + i (.) c,
 *                      o = f(xw_o + H R_o^T + P_o (.) C'),  H' = o (.) h(C')
 *   GRU  (gates zrh):  z = f(xw_z + H R_z^T + Rb_z),  r = f(xw_r + H R_r^T + Rb_r)
 *                      linear_before_reset = 0:  n = g(xw_h + (r (.) H) R_h^T)        (Rb_h folded into xw_h)
 *                      linear_before_reset = 1:  n = g(xw_h + r (.) (H R_h^T + Rb_h))
 *                      H' = (1 - z) (.) n + z (.) H  =  n + z (.) (H - n)
 *   RNN:               H' = f(xw + H R^T)
 * `clip` bounds every activation's input to [-clip, clip]. A state that is null is zero (no initial state given):
 * the terms it would multiply are left out instead of multiplying by a zeros tensor of run-time batch size.
 */
import { RegraftError } from '../errors.js';
import { float } from '../ir/index.js';
const SUPPORTED = ['Sigmoid', 'Tanh', 'Relu'];
/** The ONNX activation name (case-insensitive, as onnxruntime reads it) as an op type, or a one-line refusal. */
export function parseActivation(node, name) {
    const found = SUPPORTED.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!found) {
        throw new RegraftError(`${node.describe()}: activation '${name}' cannot be decomposed (supported: ${SUPPORTED.join(', ')}); export the model with the default activations`);
    }
    return found;
}
/** Emits nodes and values named `<prefix><scope><label>` in the form the model's opset wants. */
export class CellEmitter {
    b;
    opset;
    prefix;
    clipAt;
    /** Per direction and time step, e.g. `fwd/t3/`. */
    scope = '';
    constructor(b, opset, prefix, clipAt) {
        this.b = b;
        this.opset = opset;
        this.prefix = prefix;
        this.clipAt = clipAt;
    }
    names(opType, label) {
        const base = `${this.prefix}${this.scope}${label}`;
        return { name: this.b.graph.uniqueNodeName(opType, base), output: this.b.graph.uniqueValueName(base) };
    }
    op(opType, inputs, attrs, label) {
        const { name, output } = this.names(opType, label);
        return this.b.op(opType, inputs, attrs, { name, output });
    }
    add(a, c, label) { return this.op('Add', [a, c], {}, label); }
    mul(a, c, label) { return this.op('Mul', [a, c], {}, label); }
    sub(a, c, label) { return this.op('Sub', [a, c], {}, label); }
    matmul(a, c, label) { return this.op('MatMul', [a, c], {}, label); }
    transpose(x, perm, label) { return this.op('Transpose', [x], { perm }, label); }
    /** `a + c`, or `a` alone when the term `c` is absent (multiplied by a zero state). */
    addMaybe(a, c, label) { return c ? this.add(a, c, label) : a; }
    split(x, axis, sizes, labels) {
        if (sizes.length === 1)
            return [x];
        const base = `${this.prefix}${this.scope}${labels.join('_')}`;
        const outputs = labels.map((l) => this.b.graph.uniqueValueName(`${this.prefix}${this.scope}${l}`));
        const name = this.b.graph.uniqueNodeName('Split', base);
        const inputs = this.opset >= 13 ? [x, this.b.ints(sizes, 'split')] : [x];
        const attrs = this.opset >= 13 ? { axis } : { axis, split: [...sizes] };
        return this.b.ops('Split', inputs, attrs, outputs, { name });
    }
    squeeze(x, axes, label) {
        return this.b.squeeze(x, axes, this.names('Squeeze', label));
    }
    unsqueeze(x, axes, label) {
        return this.b.unsqueeze(x, axes, this.names('Unsqueeze', label));
    }
    concat(parts, axis, label) {
        return parts.length === 1 ? parts[0] : this.op('Concat', parts, { axis }, label);
    }
    /** Splits a stacked tensor along axis 0 into its slices, axis 0 removed (per direction, per time step). */
    unstack(x, count, label) {
        const labels = Array.from({ length: count }, (_, i) => `${label}${i}`);
        return this.split(x, 0, Array(count).fill(1), labels).map((p, i) => this.squeeze(p, [0], `${labels[i]}_sq`));
    }
    /** act(clip(x)): the spec clips the input of every activation when `clip` is set. */
    activate(act, x, label) {
        let input = x;
        if (this.clipAt !== undefined) {
            const c = this.clipAt;
            input = this.opset >= 11
                ? this.op('Clip', [x, this.b.scalar(-c, 'clip_min'), this.b.scalar(c, 'clip_max')], {}, `${label}_clip`)
                : this.op('Clip', [x], { min: float(-c), max: float(c) }, `${label}_clip`);
        }
        return this.op(act, [input], {}, label);
    }
}
export function lstmStep(e, w, xw, h, c) {
    const pre = h ? e.add(xw, e.matmul(h, w.rT, 'hR'), 'gates') : xw;
    const [gi, go, gf, gc] = e.split(pre, 1, [w.hidden, w.hidden, w.hidden, w.hidden], ['gi', 'go', 'gf', 'gc']);
    const [f, g, hAct] = w.acts;
    const peep = (gate, p, state, label) => p && state ? e.add(gate, e.mul(p, state, `${label}_peep`), `${label}_p`) : gate;
    const i = e.activate(f, peep(gi, w.peep?.i, c, 'gi'), 'i');
    const cand = e.activate(g, gc, 'c_cand');
    const fresh = e.mul(i, cand, 'i_c');
    const cNext = c ? e.add(e.mul(e.activate(f, peep(gf, w.peep?.f, c, 'gf'), 'f'), c, 'f_C'), fresh, 'C') : fresh;
    const o = e.activate(f, peep(go, w.peep?.o, cNext, 'go'), 'o');
    return { h: e.mul(o, e.op(hAct, [cNext], {}, 'h_C'), 'H'), c: cNext };
}
export function gruStep(e, w, xw, h) {
    const n = w.hidden;
    const [xz, xr, xh] = e.split(xw, 1, [n, n, n], ['xz', 'xr', 'xh']);
    const [rz, rr] = h ? e.split(e.matmul(h, w.rzrT, 'hRzr'), 1, [n, n], ['hRz', 'hRr']) : [null, null];
    const [f, g] = w.acts;
    const z = e.activate(f, e.addMaybe(xz, rz, 'gz'), 'z');
    const r = e.activate(f, e.addMaybe(xr, rr, 'gr'), 'r');
    let recurrent;
    if (w.linearBeforeReset) {
        const hRh = h ? e.matmul(h, w.rhT, 'hRh') : null;
        const lin = hRh && w.rbh ? e.add(hRh, w.rbh, 'hRh_b') : (hRh ?? w.rbh ?? null);
        recurrent = lin ? e.mul(r, lin, 'r_hRh') : null;
    }
    else {
        recurrent = h ? e.matmul(e.mul(r, h, 'r_H'), w.rhT, 'rH_Rh') : null;
    }
    const cand = e.activate(g, e.addMaybe(xh, recurrent, 'gh'), 'n');
    return h ? e.add(cand, e.mul(z, e.sub(h, cand, 'H_n'), 'z_H_n'), 'H') : e.sub(cand, e.mul(z, cand, 'z_n'), 'H');
}
export function rnnStep(e, w, xw, h) {
    return e.activate(w.act, h ? e.add(xw, e.matmul(h, w.rT, 'hR'), 'g') : xw, 'H');
}
