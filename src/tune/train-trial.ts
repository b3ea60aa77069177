/**
 * The trial module that connects the tuning engine to the trainer: each trial is one `train()` run in the trial's
 * own folder, with the study's base settings (`train:` in the study config, handed to workers in the
 * REGRAFT_TUNE_TRAIN environment variable) overridden by the trial's parameters. With `model: mlp` the model itself
 * is built per trial from the `hidden` (width) and `depth` parameters. Every trial uses the same training seed
 * (`train.seed`, default 0) unless `seed` is in the search space.
 */
import { join } from 'node:path';
import { RegraftError } from '../errors.js';
import { saveModel } from '../model-io.js';
import { buildMlp } from '../models/builders.js';
import { TRAIN_SETTING_KEYS, type TrainConfig } from '../training/config.js';
import { TRAIN_SETTINGS } from '../training/config-schema.js';
import type { EpochMetrics } from '../training/run-dir.js';
import { train } from '../training/trainer.js';
import type { Metrics, Params, TrialContext } from './types.js';

export const BASE_ENV = 'REGRAFT_TUNE_TRAIN';
/** The model name that means "build an MLP per trial from hidden/depth". */
export const BUILDER_MLP = 'mlp';

/** The model builder's parameters (with `model: mlp`): width and number of hidden layers. */
const BUILDER_PARAM_NAMES = ['hidden', 'depth'] as const;

/** Parameter names a study may search over: the trainer's searchable settings (config-schema.ts) plus the model builder's. */
export const TRAIN_PARAM_NAMES: readonly string[] = [...TRAIN_SETTING_KEYS.filter((k) => TRAIN_SETTINGS[k].searchable), ...BUILDER_PARAM_NAMES];

export async function runTrial(params: Params, ctx: TrialContext): Promise<Metrics> {
  const raw = process.env[BASE_ENV];
  if (!raw) throw new RegraftError(`trial worker: ${BASE_ENV} is not set; run trials through 'regraft tune'`);
  return runTrainTrial(JSON.parse(raw) as Partial<TrainConfig>, params, ctx);
}

export async function runTrainTrial(base: Partial<TrainConfig>, params: Params, ctx: TrialContext): Promise<Metrics> {
  const { hidden, depth, dropoutAfter, ...settings } = params;
  // One seed for every trial unless searched over: trials then share the validation split, the initial weights,
  // the batch order and the Dropout masks, so their objectives differ by the hyperparameters rather than by luck.
  const seed = typeof params.seed === 'number' ? params.seed : (base.seed ?? 0);
  let model = base.model;
  if (model === BUILDER_MLP) {
    const width = Number(hidden ?? 128);
    const layers = Number(depth ?? 1);
    model = join(ctx.runDir, 'input-model.onnx');
    await saveModel(buildMlp({ hidden: Array.from({ length: layers }, () => width), seed }), model);
  } else if (hidden !== undefined || depth !== undefined) {
    throw new RegraftError(`trial ${ctx.trialId}: 'hidden' and 'depth' need the study's train.model to be '${BUILDER_MLP}' (a model built per trial)`);
  }
  const after = dropoutAfter === undefined ? base.dropoutAfter : dropoutAfter === 'none' ? [] : String(dropoutAfter).split(',');
  let last: EpochMetrics | undefined;
  await train(
    {
      ...base,
      ...(settings as Partial<TrainConfig>),
      model,
      dropoutAfter: after ?? (settings.dropoutRatio !== undefined ? ['Relu'] : []),
      seed,
      threads: ctx.threads > 0 ? ctx.threads : (base.threads ?? 1),
      out: ctx.runDir,
    },
    {
      onEpoch: async (m) => {
        last = m;
        return (await ctx.report(m.epoch, epochMetrics(m))) === 'stop' ? 'stop' : undefined;
      },
    },
  );
  if (!last) throw new RegraftError(`trial ${ctx.trialId}: training ran no epoch`);
  return epochMetrics(last);
}

function epochMetrics(m: EpochMetrics): Metrics {
  const out: Metrics = { train_loss: m.train_loss, lr: m.lr, samples_per_sec: m.samples_per_sec, seconds: m.seconds };
  if (m.val_loss !== undefined) out.val_loss = m.val_loss;
  if (m.val_accuracy !== undefined) out.val_accuracy = m.val_accuracy;
  return out;
}
