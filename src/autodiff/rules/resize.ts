/**
 * Y = Resize(X) (or the older Upsample) with mode 'nearest' and whole-number upscale factors f_j >= 1: when every
 * output element of axis j reads the input element floor(o / f_j), each input element is copied into a block of
 * f_j outputs, and
 *
 *   dX[i] = sum_{k < f} dY[i f + k]:  dY reshaped to [d_0, f_0, d_1, f_1, ...], summed over the f axes (block-sum.ts)
 *
 * Whether the copies form blocks depends on coordinate_transformation_mode and nearest_mode (half_pixel does for
 * every f; asymmetric + round_prefer_floor only for f = 2; align_corners generally not). The rule evaluates the
 * ONNX index formulas over one input's worth of outputs and refuses the node when they do not give floor(o / f).
 * Other modes (linear, cubic), fractional or downscaling factors, and the 'axes' attribute are refused.
 */
import { RegraftError } from '../../errors.js';
import { DataType } from '../../ir/dtype.js';
import { tensorToFloat32, type TensorProto } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import type { GradContext, GradientRule } from '../types.js';
import { sumBlocks } from './block-sum.js';
import { constInts, requireRank, staticDims } from './shape-helpers.js';

export const resizeGrad: GradientRule = {
  opTypes: ['Resize', 'Upsample'],
  grad(ctx) {
    const rest = ctx.node.inputs.slice(1).map(() => null);
    if (!ctx.needs(0)) return [null, ...rest];
    const mode = ctx.attrs.string('mode', 'nearest');
    if (mode !== 'nearest') throw refuse(ctx, `mode '${mode}' (only 'nearest' is supported)`);
    if (ctx.attrs.has('axes')) throw refuse(ctx, "the 'axes' attribute (give scales for every axis)");
    const x = ctx.x(0);
    const rank = requireRank(ctx, x);
    const sizes = staticDims(ctx, x);
    const factors = upscaleFactors(ctx, rank, sizes);
    const { transform, rounding, needsSize } = indexRule(ctx);
    if (needsSize && !sizes) throw refuse(ctx, `coordinate_transformation_mode 'align_corners' on '${x.name}' without a static shape`);
    factors.forEach((f, j) => {
      // The other modes map outputs to inputs the same way in every block: any size shows whether they are blocks.
      const n = sizes?.[j] ?? 4;
      for (let o = 0; o < n * f; o++) {
        const source = Math.min(n - 1, Math.max(0, rounding(transform(o, f, n))));
        if (source !== Math.floor(o / f)) throw refuse(ctx, `an index mapping that is not a block copy on axis ${j} (output ${o} reads input ${source})`);
      }
    });
    return [sumBlocks(ctx, ctx.dy(0)!, sizes ?? ctx.shapeOf(x), factors, 'inner', rank), ...rest];
  },
};

function refuse(ctx: GradContext, what: string): RegraftError {
  return new RegraftError(`${ctx.node.describe()}: the ${ctx.node.opType} gradient supports nearest upsampling by whole factors, not ${what}; replace the node or freeze the parameters before it`);
}

/** f_j per axis, from the constant scales (or constant sizes over X's static shape); whole numbers >= 1 only. */
function upscaleFactors(ctx: GradContext, rank: number, sizes: number[] | undefined): number[] {
  const { opType } = ctx.node;
  const scalesIndex = opType === 'Upsample' || ctx.opset < 11 ? 1 : 2;
  let factors: number[] | undefined;
  if (opType === 'Upsample' && ctx.attrs.has('scales')) factors = ctx.attrs.floatList('scales');
  else if (ctx.hasInput(scalesIndex)) factors = constFloats(ctx.x(scalesIndex));
  if (!factors || factors.length === 0) {
    const target = ctx.hasInput(3) && opType === 'Resize' ? constInts(ctx.x(3)) : undefined;
    if (target && sizes) factors = target.map((t, j) => t / sizes[j]);
  }
  if (!factors) throw refuse(ctx, 'scales or sizes computed at run time (they must be constants, sizes with a static input shape)');
  if (factors.length !== rank || factors.some((f) => !Number.isInteger(f) || f < 1)) throw refuse(ctx, `the factors [${factors.join(', ')}]`);
  return factors;
}

function constFloats(v: Value): number[] | undefined {
  const t: TensorProto | undefined = v.initializer ?? (v.producer?.opType === 'Constant' ? v.producer.attrs.tensor('value') : undefined);
  if (!t || t.dataType !== DataType.FLOAT) return undefined;
  return Array.from(tensorToFloat32(t));
}

type Transform = (o: number, f: number, n: number) => number;

/** The ONNX output-to-input coordinate and rounding rules; opset 10 Resize and Upsample read asymmetric + floor. */
function indexRule(ctx: GradContext): { transform: Transform; rounding: (x: number) => number; needsSize: boolean } {
  const legacy = ctx.node.opType === 'Upsample' || ctx.opset < 11;
  const coordinate = legacy ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const nearest = legacy ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor');
  const transforms: Record<string, Transform> = {
    half_pixel: (o, f) => (o + 0.5) / f - 0.5,
    pytorch_half_pixel: (o, f, n) => (n * f > 1 ? (o + 0.5) / f - 0.5 : 0),
    align_corners: (o, f, n) => (n * f === 1 ? 0 : (o * (n - 1)) / (n * f - 1)),
    asymmetric: (o, f) => o / f,
    tf_half_pixel_for_nn: (o, f) => (o + 0.5) / f,
  };
  const roundings: Record<string, (x: number) => number> = {
    round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
    round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
    floor: Math.floor,
    ceil: Math.ceil,
  };
  const transform = transforms[coordinate];
  const rounding = roundings[nearest];
  if (!transform) throw refuse(ctx, `coordinate_transformation_mode '${coordinate}'`);
  if (!rounding) throw refuse(ctx, `nearest_mode '${nearest}'`);
  return { transform, rounding, needsSize: coordinate === 'align_corners' };
}
