/**
 * The names of the values through which regraft's training graphs meet the code around them: what insert-dropout
 * and the compiler write, what the trainer feeds and fetches, and what strip-training recognizes and removes. One
 * constant per name, kept at the bottom of the layers (beside errors.ts) so that every writer and reader (passes/,
 * autodiff/, compile/, the trainer) imports the same one.
 */
/** The shared bool scalar initializer that switches inserted Dropout (opset >= 12): false infers, true trains. */
export const TRAINING_MODE_NAME = 'training_mode';
/** The step's learning-rate input, a float scalar fed every step so that the trainer can schedule it. */
export const LR_NAME = 'lr';
/** The input holding the targets: class indices for cross-entropy, float values for the other losses. */
export const LABELS_NAME = 'labels';
/** The scalar the step minimizes (penalties included) and outputs. */
export const LOSS_NAME = 'loss';
/** add-penalty renames the loss before penalties `<loss>_data`; the total takes over the loss's name. */
export const DATA_LOSS_SUFFIX = '_data';
/** The data loss of a step compiled with penalties: `loss_data`. */
export const LOSS_DATA_NAME = `${LOSS_NAME}${DATA_LOSS_SUFFIX}`;
/** The penalty values add-penalty adds to the loss. */
export const PENALTY_L2_NAME = 'penalty_l2';
export const PENALTY_L1_NAME = 'penalty_l1';
/** The gradient of a value, `<value>_grad`, as ONNX Runtime training names it. */
export const GRAD_SUFFIX = '_grad';
/** The next value of a carried value (parameter, optimizer state, running statistic): `<name>_updated`. */
export const UPDATED_SUFFIX = '_updated';
