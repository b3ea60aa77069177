/**
 * Grid search: the cartesian product of every parameter's grid values, tried in order (the last parameter varies
 * fastest). Categorical parameters contribute their choices and fixed ones their value; numeric parameters need a
 * `grid`: a count of evenly spaced points (log-spaced for log parameters, end points included, integers rounded
 * and de-duplicated) or an explicit list of values. The study stops when the grid is exhausted, even if `trials`
 * asks for more; with fewer trials than points, only the first points are tried.
 */
import { RegraftError } from '../../errors.js';
import { snapInt, type ParamSpec, type SearchSpace } from '../space.js';
import type { ParamValue, Params } from '../types.js';
import type { HistoryTrial, Strategy } from './strategy.js';

export function gridValues(name: string, spec: ParamSpec): ParamValue[] {
  switch (spec.kind) {
    case 'fixed':
      return [spec.value];
    case 'categorical':
      return [...spec.choices];
    case 'float':
    case 'int': {
      if (spec.grid === undefined) {
        throw new RegraftError(
          `search space parameter '${name}': grid search needs a grid for numeric ranges; add grid: <count> or grid: [values]`,
        );
      }
      if (Array.isArray(spec.grid)) return [...new Set(spec.grid)];
      const points = evenlySpaced(spec.low, spec.high, spec.grid, spec.log);
      return spec.kind === 'int' ? [...new Set(points.map((x) => snapInt(spec, x)))] : points;
    }
  }
}

function evenlySpaced(low: number, high: number, count: number, log: boolean): number[] {
  if (count === 1) return [log ? Math.sqrt(low * high) : (low + high) / 2];
  const [a, b] = log ? [Math.log(low), Math.log(high)] : [low, high];
  const points: number[] = [];
  for (let i = 0; i < count; i++) {
    // The end points are set exactly so that a grid always contains the bounds the user wrote.
    if (i === 0) points.push(low);
    else if (i === count - 1) points.push(high);
    else points.push(log ? Math.exp(a + ((b - a) * i) / (count - 1)) : a + ((b - a) * i) / (count - 1));
  }
  return points;
}

/** How many points the grid has; throws when a numeric parameter has no grid. */
export function gridSize(space: SearchSpace): number {
  return Object.entries(space).reduce((n, [name, spec]) => n * gridValues(name, spec).length, 1);
}

export class GridStrategy implements Strategy {
  readonly name = 'grid';
  private readonly names: string[];
  private readonly axes: ParamValue[][];
  readonly size: number;

  constructor(space: SearchSpace) {
    this.names = Object.keys(space);
    this.axes = this.names.map((name) => gridValues(name, space[name]));
    this.size = this.axes.reduce((n, axis) => n * axis.length, 1);
  }

  /** The grid point with the given index (0-based), in cartesian order. */
  point(index: number): Params {
    const params: Params = {};
    let rest = index;
    for (let i = this.names.length - 1; i >= 0; i--) {
      const axis = this.axes[i];
      params[this.names[i]] = axis[rest % axis.length];
      rest = Math.floor(rest / axis.length);
    }
    return Object.fromEntries(this.names.map((n) => [n, params[n]]));
  }

  suggest(history: readonly HistoryTrial[]): Params | null {
    // Points are matched by value rather than by trial id, so a resumed or reordered history never repeats one.
    const taken = new Set(history.map((t) => this.key(t.params)));
    for (let i = 0; i < this.size; i++) {
      const params = this.point(i);
      if (!taken.has(this.key(params))) return params;
    }
    return null;
  }

  private key(params: Params): string {
    return JSON.stringify(this.names.map((n) => params[n]));
  }
}
