/**
 * TensorBoard's HParams plugin data (tensorboard/plugins/hparams/plugin_data.proto and api.proto): the experiment
 * (which hyperparameters and metrics a study has), and per trial a session start (its hyperparameter values) and a
 * session end (its status). With them, the HParams tab lists the trials of a study side by side, by their searched
 * parameters and their objective.
 *
 *   HParamsPluginData { int32 version = 1; oneof data { Experiment experiment = 2;
 *                       SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; } }
 *   Experiment { string description = 1; string user = 2; double time_created_secs = 3;
 *                repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5; string name = 6; }
 *   HParamInfo { string name = 1; string display_name = 2; string description = 3; DataType type = 4;
 *                oneof domain { google.protobuf.ListValue domain_discrete = 5; Interval domain_interval = 6; } }
 *   Interval { double min_value = 1; double max_value = 2; }
 *   MetricInfo { MetricName name = 1; string display_name = 3; string description = 4; DatasetType dataset_type = 5; }
 *   MetricName { string group = 1; string tag = 2; }
 *   SessionStartInfo { map<string, google.protobuf.Value> hparams = 1; string model_uri = 2; string monitor_url = 3;
 *                      string group_name = 4; double start_time_secs = 5; }
 *   SessionEndInfo { Status status = 1; double end_time_secs = 2; }
 *
 * A metric's values are the scalars tagged `tag` in the session's run (or in its sub-run `group`, when given).
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { RegraftError } from '../../errors.js';

/** The summary tags the plugin looks for. */
export const HPARAMS_TAGS = {
  experiment: '_hparams_/experiment',
  sessionStart: '_hparams_/session_start_info',
  sessionEnd: '_hparams_/session_end_info',
} as const;

export const HPARAMS_PLUGIN_NAME = 'hparams';

export type HParamValue = number | string | boolean;
export type HParamType = 'float' | 'string' | 'bool';

export interface HParamSpec {
  name: string;
  displayName?: string;
  description?: string;
  /** Inferred from `values` or `interval` when not given. */
  type?: HParamType;
  /** A continuous range (a float hyperparameter). */
  interval?: { min: number; max: number };
  /** The values a categorical hyperparameter can take. */
  values?: readonly HParamValue[];
}

export interface MetricSpec {
  tag: string;
  /** The sub-run of each session that holds the metric's scalars; the session's own run when absent. */
  group?: string;
  displayName?: string;
  description?: string;
  dataset?: 'training' | 'validation';
}

export interface ExperimentSpec {
  name?: string;
  description?: string;
  user?: string;
  timeCreatedSecs: number;
  hparams: readonly HParamSpec[];
  metrics: readonly MetricSpec[];
}

export interface SessionStartSpec {
  hparams: Readonly<Record<string, HParamValue>>;
  /** Sessions with the same group name are one row of the HParams table (e.g. repeats with other seeds). */
  groupName?: string;
  modelUri?: string;
  monitorUrl?: string;
  startTimeSecs: number;
}

export type SessionStatus = 'unknown' | 'success' | 'failure' | 'running';

export interface SessionEndSpec {
  status: SessionStatus;
  endTimeSecs: number;
}

const DATA_TYPE: Record<HParamType, number> = { string: 1, bool: 2, float: 3 };
const DATASET_TYPE = { training: 1, validation: 2 } as const;
const STATUS: Record<SessionStatus, number> = { unknown: 0, success: 1, failure: 2, running: 3 };

function message(w: BinaryWriter, field: number, body: (w: BinaryWriter) => void): void {
  w.tag(field, WireType.LengthDelimited).fork();
  body(w);
  w.join();
}

function optionalString(w: BinaryWriter, field: number, value: string | undefined): void {
  if (value) w.tag(field, WireType.LengthDelimited).string(value);
}

function typeOf(value: HParamValue): HParamType {
  return typeof value === 'number' ? 'float' : typeof value === 'boolean' ? 'bool' : 'string';
}

/** google.protobuf.Value { double number_value = 2; string string_value = 3; bool bool_value = 4; } */
function protobufValue(w: BinaryWriter, value: HParamValue): void {
  if (typeof value === 'number') w.tag(2, WireType.Bit64).double(value);
  else if (typeof value === 'string') w.tag(3, WireType.LengthDelimited).string(value);
  else w.tag(4, WireType.Varint).bool(value);
}

function hparamType(spec: HParamSpec): HParamType | undefined {
  const types = new Set<HParamType>((spec.values ?? []).map(typeOf));
  if (spec.interval) types.add('float');
  if (types.size > 1) throw new RegraftError(`hparam '${spec.name}' mixes value types (${[...types].join(', ')}); give values of one type`);
  const inferred = [...types][0];
  if (spec.type !== undefined && inferred !== undefined && spec.type !== inferred) {
    throw new RegraftError(`hparam '${spec.name}' is declared ${spec.type} but its domain holds ${inferred} values`);
  }
  return spec.type ?? inferred;
}

function checkSpec(spec: HParamSpec): void {
  if (!spec.name) throw new RegraftError('an hparam needs a name');
  if (spec.interval && spec.values) throw new RegraftError(`hparam '${spec.name}' has both an interval and values; give one domain`);
  if (spec.interval && !(Number.isFinite(spec.interval.min) && Number.isFinite(spec.interval.max) && spec.interval.min <= spec.interval.max)) {
    throw new RegraftError(`hparam '${spec.name}' has interval [${spec.interval.min}, ${spec.interval.max}]; give finite bounds with min <= max`);
  }
  if (spec.values && spec.values.length === 0) throw new RegraftError(`hparam '${spec.name}' has an empty list of values`);
}

/** HParamsPluginData around `body`; its version field stays out: the plugin accepts version 0, the default. */
function pluginData(body: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  body(w);
  return w.finish();
}

function unique(kind: string, keys: string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new RegraftError(`the experiment lists ${kind} '${key}' twice`);
    seen.add(key);
  }
}

/** HParamsPluginData holding the experiment: the study's hyperparameters (with their domains) and metrics. */
export function experimentContent(spec: ExperimentSpec): Uint8Array {
  spec.hparams.forEach(checkSpec);
  unique('hparam', spec.hparams.map((h) => h.name));
  unique('metric', spec.metrics.map((m) => (m.group ? `${m.group}/${m.tag}` : m.tag)));
  for (const m of spec.metrics) if (!m.tag) throw new RegraftError('a metric needs a tag');
  return pluginData((w) =>
    message(w, 2, (e) => {
      optionalString(e, 1, spec.description);
      optionalString(e, 2, spec.user);
      e.tag(3, WireType.Bit64).double(spec.timeCreatedSecs);
      for (const h of spec.hparams) {
        const type = hparamType(h);
        message(e, 4, (info) => {
          info.tag(1, WireType.LengthDelimited).string(h.name);
          optionalString(info, 2, h.displayName);
          optionalString(info, 3, h.description);
          if (type !== undefined) info.tag(4, WireType.Varint).int32(DATA_TYPE[type]);
          const values = h.values;
          if (values) message(info, 5, (list) => values.forEach((v) => message(list, 1, (pv) => protobufValue(pv, v))));
          const interval = h.interval;
          if (interval) {
            message(info, 6, (iv) => {
              iv.tag(1, WireType.Bit64).double(interval.min);
              iv.tag(2, WireType.Bit64).double(interval.max);
            });
          }
        });
      }
      for (const m of spec.metrics) {
        message(e, 5, (info) => {
          message(info, 1, (name) => {
            optionalString(name, 1, m.group);
            name.tag(2, WireType.LengthDelimited).string(m.tag);
          });
          optionalString(info, 3, m.displayName);
          optionalString(info, 4, m.description);
          if (m.dataset) info.tag(5, WireType.Varint).int32(DATASET_TYPE[m.dataset]);
        });
      }
      optionalString(e, 6, spec.name);
    }),
  );
}

/** HParamsPluginData holding one session's (trial's) hyperparameter values. */
export function sessionStartContent(spec: SessionStartSpec): Uint8Array {
  for (const [name, value] of Object.entries(spec.hparams)) {
    if (!['number', 'string', 'boolean'].includes(typeof value)) throw new RegraftError(`hparam '${name}' has a ${typeof value} value; give a number, string or boolean`);
  }
  return pluginData((w) =>
    message(w, 3, (s) => {
      for (const [name, value] of Object.entries(spec.hparams)) {
        message(s, 1, (entry) => {
          entry.tag(1, WireType.LengthDelimited).string(name);
          message(entry, 2, (pv) => protobufValue(pv, value));
        });
      }
      optionalString(s, 2, spec.modelUri);
      optionalString(s, 3, spec.monitorUrl);
      optionalString(s, 4, spec.groupName);
      s.tag(5, WireType.Bit64).double(spec.startTimeSecs);
    }),
  );
}

/** HParamsPluginData holding how one session (trial) ended. */
export function sessionEndContent(spec: SessionEndSpec): Uint8Array {
  if (!(spec.status in STATUS)) throw new RegraftError(`session status '${spec.status}' is not one of ${Object.keys(STATUS).join(', ')}`);
  return pluginData((w) =>
    message(w, 4, (e) => {
      if (STATUS[spec.status] !== 0) e.tag(1, WireType.Varint).int32(STATUS[spec.status]);
      e.tag(2, WireType.Bit64).double(spec.endTimeSecs);
    }),
  );
}
