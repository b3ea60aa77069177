import { RegraftError } from '../errors.js';
import { boolTensor, DataType, dtypeName, floatTensor, GraphBuilder, tensorType, type Value } from '../ir/index.js';

/**
 * The mask an inference-mode Dropout outputs: all true (all ones for Dropout-7, whose mask has the data's type),
 * with the data's shape, as `ConstantOfShape(Shape(x), value=1)`. Exact for every x, unlike `Equal(x, x)`, which is
 * false wherever x is NaN. Needs ConstantOfShape (opset 9).
 */
export function allTrueMask(x: Value, maskElemType: number, where: string): Value {
  const graph = x.graph;
  const b = new GraphBuilder(graph);
  b.namePrefix = 'strip/';
  const opset = b.requireStandardOpset();
  if (opset < 9) throw new RegraftError(`${where}: its mask is read, and an all-true mask needs ConstantOfShape (opset 9); model opset is ${opset}`);
  const one =
    maskElemType === DataType.BOOL ? boolTensor('', [true], [1]) : maskElemType === DataType.FLOAT ? floatTensor('', [1], [1]) : undefined;
  if (!one) throw new RegraftError(`${where}: cannot build an all-true mask of type ${dtypeName(maskElemType)}; only BOOL and FLOAT masks are supported`);
  const mask = b.op('ConstantOfShape', [b.op('Shape', [x])], { value: one });
  mask.type = tensorType(maskElemType, x.shape);
  return mask;
}
