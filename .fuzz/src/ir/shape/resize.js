/*
 * Shape rule of Resize and Upsample: each axis scaled by its constant scale (floor), or the constant sizes; a
 * run-time scale or size leaves the dims unknown but the rank known.
 */
import { constantFloats } from '../constant.js';
import { scaled } from './dims.js';
/** Resize (scales at input 1 in opset 10, input 2 from 11; sizes at input 3) and Upsample (scales input or attribute). */
export const resize = (node, c) => {
    const x = c.shape(node.inputs[0]);
    const elemType = c.elemType(node.inputs[0]);
    if (!x || node.attrs.has('axes'))
        return [{ elemType }];
    const legacyLayout = node.opType === 'Upsample' || node.inputs.length === 2;
    const scales = node.opType === 'Upsample' && node.attrs.has('scales') ? node.attrs.floatList('scales') : constantFloats(node.inputs[legacyLayout ? 1 : 2]);
    if (scales && scales.length === x.length)
        return [{ elemType, shape: x.map((d, i) => scaled(d, scales[i])) }];
    const sizes = legacyLayout ? undefined : c.constInts(node.inputs[3]);
    if (sizes && sizes.length === x.length)
        return [{ elemType, shape: sizes }];
    return [{ elemType, shape: x.map(() => null) }];
};
