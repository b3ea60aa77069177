/**
 * BatchNormalization's running variance as PyTorch updates it. ONNX's training-mode BatchNormalization (and
 * onnxruntime) update it with the biased batch variance,
 *     out = m v + (1 - m) var_b,            var_b = mean((x - mean)^2) over the n elements of each channel,
 * while torch.nn.BatchNorm*d uses the unbiased one, var_b n / (n - 1), n = N * H * W (the batch normalization
 * itself uses var_b in both). The step outputs PyTorch's update, derived from ONNX's without a second pass over x:
 *     m v + (1 - m) var_b n / (n - 1) = (n out - m v) / (n - 1).
 * n = Size(x) / C is computed at run time, so any batch and image size trains. For n = 1 (PyTorch refuses such a
 * batch in training) the unbiased variance is undefined and ONNX's update is kept.
 *
 *   Before:  x -> BatchNormalization(training) -> y, running_mean, out (a step output: var_updated)
 *   After:   x -> BatchNormalization(training) -> y, running_mean, out (still a graph output, see below)
 *            n = Size(x) / Shape(x)[1];  var_updated = Where(n > 1, (n out - m v) / (n - 1), out)
 * onnxruntime 1.30 computes a wrong Y unless `out` itself stays a graph output (compile.ts), so it does.
 */
import type { GraphBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';

/** ONNX's default momentum of BatchNormalization (the weight of the running value). */
const ONNX_BATCHNORM_MOMENTUM = 0.9;

export function unbiasedRunningVariance(b: GraphBuilder, node: Node, runningVar: Value, varInput: Value): Value {
  const x = node.input(0)!;
  const m = node.attrs.float('momentum', ONNX_BATCHNORM_MOMENTUM);
  const toFloat = (v: Value) => b.op('Cast', [v], { to: DataType.FLOAT });
  const shape = b.op('Shape', [x]);
  const channels = toFloat(b.op('Gather', [shape, b.int64Init('channel_axis', [1], [])], { axis: 0 }));
  const n = b.div(b.elementCount(x, () => shape), channels);
  const one = b.scalar(1, 'one');
  const unbiased = b.div(b.sub(b.mul(n, runningVar), b.mul(b.scalar(m, 'bn_momentum'), varInput)), b.sub(n, one));
  return b.op('Where', [b.op('Greater', [n, one]), unbiased, runningVar]);
}
