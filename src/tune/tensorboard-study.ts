/**
 * A study as TensorBoard's HParams tab shows it: the study writes the experiment (every searched parameter with its
 * domain, and the metrics to compare trials by) into `RUNS/tb/`; each trial's own run (`RUNS/trial-N/tb/`) holds its
 * session start (the trial's parameter values) and end (its status) beside its scalars. Point TensorBoard at RUNS.
 */
import { join } from 'node:path';
import { TENSORBOARD_DIR, metricTag, STEP_TAGS } from '../training/tensorboard-log.js';
import { EventFileWriter, type HParamSpec, type MetricSpec } from '../util/tensorboard/index.js';
import type { ParamSpec } from './space.js';
import type { StudyConfig } from './config.js';

/** One searched parameter and its domain; a categorical one whose choices mix types is listed without a domain. */
function hparamSpec(name: string, spec: ParamSpec): HParamSpec {
  switch (spec.kind) {
    case 'float':
    case 'int':
      return { name, interval: { min: spec.low, max: spec.high } };
    case 'categorical':
      return new Set(spec.choices.map((c) => typeof c)).size === 1 ? { name, values: spec.choices } : { name };
    case 'fixed':
      return { name, values: [spec.value] };
  }
}

/** The metrics the HParams table shows per trial: the objective first, then the validation and training losses. */
function metricSpecs(objective: string): MetricSpec[] {
  const tags = [metricTag(objective), metricTag('val_loss'), metricTag('train_loss'), STEP_TAGS.loss].filter((t): t is string => t !== null);
  return [...new Set(tags)].map((tag) => ({ tag, dataset: tag.startsWith('val/') ? 'validation' : 'training' }));
}

/** Writes the study's HParams experiment to `runsDir/tb/` (a new file per `regraft tune` or worker start). */
export function writeStudyExperiment(runsDir: string, name: string, config: StudyConfig): string {
  const writer = EventFileWriter.create(join(runsDir, TENSORBOARD_DIR));
  try {
    writer.writeHParamsExperiment({
      name,
      description: `regraft study '${name}': ${config.objective.mode} ${config.objective.metric}`,
      timeCreatedSecs: Date.now() / 1000,
      hparams: Object.entries(config.space).map(([n, spec]) => hparamSpec(n, spec)),
      metrics: metricSpecs(config.objective.metric),
    });
  } finally {
    writer.close();
  }
  return writer.path;
}
