/*
 * Exact arithmetic on dims. A symbolic dim is an integer polynomial in named dims, written as ONNX dim_param text
 * the way sympy prints it (as PyTorch's exporters and onnxruntime's symbolic shape inference do): `batch`,
 * `batch*sequence`, `sequence - 1`, `2*batch + 3`; a factor may also be `min(a, b)` or `max(a, b)` of two such
 * expressions, which is what a Slice clamped to a static extent reads (`x[:, :sequence]` of a 32-long table holds
 * `min(sequence, 32)`). Parsing and printing are canonical (monomials by degree, then by text; constant last;
 * min/max arguments sorted), so two equal expressions are equal strings.
 *
 * Only exact results are produced: sums, differences and products always are; a quotient only when it divides
 * exactly (`batch*sequence / sequence` = `batch`); anything else is unknown (null). Order facts (for Max, Min, Equal,
 * Slice's clamping) use interval bounds with every named dim in [1, MAX_DIM]: a dim named by a symbol is never empty
 * and fits in int32, which is how exporters' "to the end" sentinels (2^31 - 1, 2^63 - 1) are known to lie past it.
 * A dim_param outside this grammar is one opaque symbol, equal only to itself.
 */
import type { Dim } from '../value.js';

/** Upper bound assumed for every symbolic dim (a single axis of 2^31 or more elements is not a model input). */
export const MAX_DIM = 2 ** 31 - 1;

/** Monomial key (factor texts sorted, joined by SEP; '' for the constant) -> integer coefficient, none zero. */
type Poly = Map<string, number>;

const SEP = '\u0002';
const OPAQUE = '\u0000';
const NAME = /^[A-Za-z_][\w.]*/;
const INTEGER = /^\d+/;

/** Recursive-descent parser of the grammar above; undefined when the text is not in it. */
class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseAll(): Poly | undefined {
    const p = this.expr();
    return p && this.pos === this.text.length ? p : undefined;
  }

  /** The two arguments of a canonical `min(...)` / `max(...)` factor's inside. */
  parseArgs(): [Poly, Poly] {
    const a = this.expr();
    this.eat(', ');
    const b = this.expr();
    return [a ?? new Map(), b ?? new Map()];
  }

  private rest(): string {
    return this.text.slice(this.pos);
  }

  private eat(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  private expr(): Poly | undefined {
    const poly: Poly = new Map();
    let sign = this.eat('-') ? -1 : 1;
    for (;;) {
      const term = this.term();
      if (!term) return undefined;
      addTerm(poly, term.key, sign * term.coef);
      if (this.eat(' + ')) sign = 1;
      else if (this.eat(' - ')) sign = -1;
      else return poly;
    }
  }

  private term(): { key: string; coef: number } | undefined {
    let coef = 1;
    const factors: string[] = [];
    do {
      const int = INTEGER.exec(this.rest());
      if (int) {
        coef *= Number(int[0]);
        this.pos += int[0].length;
        continue;
      }
      const f = this.factor();
      if (f === undefined) return undefined;
      factors.push(f);
    } while (this.eat('*'));
    return { key: factors.sort().join(SEP), coef };
  }

  /** A name, or min(a, b) / max(a, b) as its canonical text. */
  private factor(): string | undefined {
    for (const fn of ['min', 'max'] as const) {
      if (!this.eat(`${fn}(`)) continue;
      const a = this.expr();
      if (!a || !this.eat(', ')) return undefined;
      const b = this.expr();
      if (!b || !this.eat(')')) return undefined;
      const [x, y] = [String(format(a)), String(format(b))].sort();
      return `${fn}(${x}, ${y})`;
    }
    const name = NAME.exec(this.rest());
    if (!name) return undefined;
    this.pos += name[0].length;
    return name[0];
  }
}

function parse(d: Dim): Poly | undefined {
  if (d === null) return undefined;
  if (typeof d === 'number') return d === 0 ? new Map() : new Map([['', d]]);
  return new Parser(d).parseAll() ?? new Map([[OPAQUE + d, 1]]);
}

function addTerm(p: Poly, key: string, coef: number): void {
  const c = (p.get(key) ?? 0) + coef;
  if (c === 0) p.delete(key);
  else p.set(key, c);
}

const factorsOf = (key: string): string[] => (key === '' ? [] : key.split(SEP));

/** The canonical dim of a polynomial: a number when constant, else its text (null when an opaque symbol is in a compound). */
function format(p: Poly): Dim {
  const keys = [...p.keys()].sort((a, b) => factorsOf(b).length - factorsOf(a).length || (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return 0;
  if (keys.length === 1 && keys[0] === '') return p.get('')!;
  if (keys.some((k) => k.includes(OPAQUE))) {
    // An opaque dim_param survives only unchanged.
    return keys.length === 1 && p.get(keys[0]) === 1 && !keys[0].includes(SEP) ? keys[0].slice(1) : null;
  }
  let text = '';
  keys.forEach((key, i) => {
    const c = p.get(key)!;
    const magnitude = Math.abs(c);
    const factors = factorsOf(key).join('*');
    const body = key === '' ? String(magnitude) : magnitude === 1 ? factors : `${magnitude}*${factors}`;
    text += i === 0 ? (c < 0 ? `-${body}` : body) : c < 0 ? ` - ${body}` : ` + ${body}`;
  });
  return text;
}

/** The canonical form of a dim (a declared `s1*s0` becomes `s0*s1`); numbers and null are unchanged. */
export function canonicalDim(d: Dim): Dim {
  return typeof d === 'string' ? format(parse(d)!) : d;
}

/** Whether two dims are provably equal. */
export function sameDim(a: Dim, b: Dim): boolean {
  if (a === null || b === null) return false;
  return a === b || canonicalDim(a) === canonicalDim(b);
}

function combine(a: Dim, b: Dim, op: (x: Poly, y: Poly) => Poly | undefined): Dim {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return null;
  const r = op(x, y);
  return r ? format(r) : null;
}

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return combine(a, b, (x, y) => {
    const r = new Map(x);
    for (const [k, c] of y) addTerm(r, k, c);
    return r;
  });
}

export function negDim(a: Dim): Dim {
  return mulDims(a, -1);
}

export function subDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return addDims(a, negDim(b));
}

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  return combine(a, b, (x, y) => {
    const r: Poly = new Map();
    for (const [kx, cx] of x) {
      for (const [ky, cy] of y) addTerm(r, [...factorsOf(kx), ...factorsOf(ky)].sort().join(SEP), cx * cy);
    }
    return r;
  });
}

/** Product of dims (1 for none). */
export function productOfDims(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => mulDims(p, d), 1);
}

/**
 * Integer division a / b as ONNX's integer Div computes it (truncation toward zero), for numbers; for symbolic
 * dims only when b (one monomial) divides a exactly, so that there is no rounding; else unknown.
 */
export function divDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : Math.trunc(a / b);
  return combine(a, b, (x, y) => {
    if (y.size !== 1) return undefined;
    const [[ky, cy]] = [...y];
    const r: Poly = new Map();
    for (const [kx, cx] of x) {
      if (cx % cy !== 0) return undefined;
      const rest = factorsOf(kx);
      for (const f of factorsOf(ky)) {
        const i = rest.indexOf(f);
        if (i < 0) return undefined;
        rest.splice(i, 1);
      }
      addTerm(r, rest.join(SEP), cx / cy);
    }
    return r;
  });
}

/** Integer Mod with the divisor's sign (ONNX Mod, fmod = 0); a symbolic a only when b divides it exactly (0). */
export function modDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : ((a % b) + b) % b;
  return divDims(a, b) !== null ? 0 : null;
}

type Interval = [number, number];

function mulIntervals([a, b]: Interval, [c, d]: Interval): Interval {
  const products = [a * c, a * d, b * c, b * d];
  return [Math.min(...products), Math.max(...products)];
}

function factorBounds(factor: string): Interval {
  const fn = /^(min|max)\((.*)\)$/.exec(factor);
  if (!fn) return [1, MAX_DIM];
  const args = new Parser(fn[2]).parseArgs();
  const [x, y] = args.map((p) => polyBounds(p));
  const pick = fn[1] === 'min' ? Math.min : Math.max;
  return [pick(x[0], y[0]), pick(x[1], y[1])];
}

function polyBounds(p: Poly): Interval {
  let total: Interval = [0, 0];
  for (const [key, c] of p) {
    const m = factorsOf(key).reduce<Interval>((acc, f) => mulIntervals(acc, factorBounds(f)), [1, 1]);
    const term = mulIntervals(m, [c, c]);
    total = [total[0] + term[0], total[1] + term[1]];
  }
  return total;
}

/** Bounds of a dim over every named dim in [1, MAX_DIM] (interval arithmetic: sound, not always tight). */
export function dimBounds(d: Dim): Interval | undefined {
  const p = parse(d);
  return p ? polyBounds(p) : undefined;
}

/** The sign of a - b when it is provable: -1, 0 or 1; undefined when it depends on the dims' values. */
export function compareDims(a: Dim, b: Dim): -1 | 0 | 1 | undefined {
  if (a === null || b === null) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const diff = subDims(a, b);
  if (diff === 0) return 0;
  const bounds = dimBounds(diff);
  if (!bounds) return undefined;
  if (bounds[0] > 0) return 1;
  if (bounds[1] < 0) return -1;
  return undefined;
}

/** a <= b, provably. */
export function dimAtMost(a: Dim, b: Dim): boolean {
  if (a === null || b === null) return false;
  const diff = subDims(b, a);
  const bounds = diff === null ? undefined : dimBounds(diff);
  return !!bounds && bounds[0] >= 0;
}

/** min or max of two dims: one of them where the order is provable, else the exact `min(a, b)` / `max(a, b)`. */
function extreme(fn: 'min' | 'max', a: Dim, b: Dim): Dim {
  if (a === null || b === null) return null;
  if (dimAtMost(a, b)) return fn === 'min' ? a : b;
  if (dimAtMost(b, a)) return fn === 'min' ? b : a;
  const [x, y] = [String(canonicalDim(a)), String(canonicalDim(b))].sort();
  const text = `${fn}(${x}, ${y})`;
  return new Parser(text).parseAll() ? text : null;
}

export function maxDims(a: Dim, b: Dim): Dim {
  return extreme('max', a, b);
}

export function minDims(a: Dim, b: Dim): Dim {
  return extreme('min', a, b);
}

/**
 * The broadcast of two dims (numpy): equal dims, or the one that is not 1; a number against anything is the number.
 * `a` against `min(a, k)` is `a`: were a > k, neither would be 1 and the model could not run.
 */
export function broadcastDim(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1 || sameDim(a, b)) return a;
  // A size other than 1 is the only one the other can broadcast with (it equals it, or is 1).
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  if (a === null || b === null) return null;
  if (isMinOf(b, a)) return a;
  if (isMinOf(a, b)) return b;
  return null;
}

/** Whether m is `min(d, k)` (either argument order). */
function isMinOf(m: Dim, d: Dim): boolean {
  const p = parse(m);
  if (!p || p.size !== 1 || p.values().next().value !== 1) return false;
  const fn = /^min\((.*)\)$/.exec(p.keys().next().value!);
  if (!fn) return false;
  const canonical = canonicalDim(d);
  return new Parser(fn[1]).parseArgs().some((arg) => format(arg) === canonical);
}

/** Every named dim an expression is made of (`min(sequence, 32) - 1` -> sequence); an opaque dim_param is its own. */
export function symbolsOf(d: Dim): string[] {
  const p = parse(d);
  if (!p) return [];
  const out = new Set<string>();
  for (const key of p.keys()) {
    for (const f of factorsOf(key)) {
      if (f.startsWith(OPAQUE)) out.add(f.slice(1));
      else if (/^(min|max)\(/.test(f)) for (const arg of new Parser(f.slice(4, -1)).parseArgs()) symbolsOf(format(arg)).forEach((s) => out.add(s));
      else out.add(f);
    }
  }
  return [...out];
}

/** The dim with some named dims given values (`sequence - 1` with sequence = 12 is 11). */
export function substituteDim(d: Dim, values: Readonly<Record<string, number>>): Dim {
  if (typeof d !== 'string') return d;
  if (d in values) return values[d];
  const p = parse(d)!;
  if ([...p.keys()].some((k) => k.includes(OPAQUE))) return d;
  let out: Dim = 0;
  for (const [key, c] of p) {
    const factors = factorsOf(key).map((f): Dim => {
      const fn = /^(min|max)\((.*)\)$/.exec(f);
      if (!fn) return f in values ? values[f] : f;
      const [x, y] = new Parser(fn[2]).parseArgs().map((arg) => substituteDim(format(arg), values));
      return fn[1] === 'min' ? minDims(x, y) : maxDims(x, y);
    });
    out = addDims(out, mulDims(c, productOfDims(factors)));
  }
  return out;
}
