/**
 * TensorBoard's own reading of a log folder, for the tests of what regraft writes: per run folder (every folder
 * holding event files, its files read in name order as TensorBoard's directory loader reads them) the events, the
 * scalars as the files hold them and as TensorBoard's EventAccumulator serves them, the HParams plugin data; and
 * what the HParams tab shows (the experiment, the session groups). Needs a Python with the `tensorboard` package
 * (test/python.ts: pythonWith(['tensorboard'])).
 */
import { runPython } from './python.js';

/** What TensorBoard reads from each run folder of a log folder, and what its HParams plugin makes of them. */
const READER = String.raw`
import json, os, sys
from google.protobuf import json_format
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider, event_accumulator, plugin_event_multiplexer
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, LegacyEventFileLoader
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups, metadata

logdir = sys.argv[1]
as_dict = lambda m: json_format.MessageToDict(m, preserving_proto_field_name=True)
PARSERS = {
    metadata.EXPERIMENT_TAG: metadata.parse_experiment_plugin_data,
    metadata.SESSION_START_INFO_TAG: metadata.parse_session_start_info_plugin_data,
    metadata.SESSION_END_INFO_TAG: metadata.parse_session_end_info_plugin_data,
}
runs = {}
for folder, _, files in os.walk(logdir):
    names = sorted(n for n in files if "tfevents" in n)
    if not names:
        continue
    events = [e for n in names for e in EventFileLoader(os.path.join(folder, n)).Load()]
    # Every scalar as the files hold it, duplicates included (the accumulator below would purge replayed steps).
    # LegacyEventFileLoader yields the events unchanged (EventFileLoader migrates simple_value into tensors).
    raw = {}
    for e in (e for n in names for e in LegacyEventFileLoader(os.path.join(folder, n)).Load()):
        for v in e.summary.value:
            if v.HasField("simple_value"):
                raw.setdefault(v.tag, []).append([e.step, v.simple_value])
    acc = event_accumulator.EventAccumulator(folder, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    try:
        contents = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    except KeyError:
        contents = {}
    runs[os.path.relpath(folder, logdir)] = {
        "file": names[-1],
        "files": names,
        "first_event": as_dict(events[0]),
        "event_count": len(events),
        "raw_scalars": raw,
        "scalars": {tag: [[s.step, s.value, s.wall_time] for s in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]},
        "hparams": {tag: as_dict(PARSERS[tag](c)) for tag, c in contents.items()},
    }
mux = plugin_event_multiplexer.EventMultiplexer()
mux.AddRunsFromDirectory(logdir)
mux.Reload()
ctx = backend_context.Context(base_plugin.TBContext(logdir=logdir, multiplexer=mux, data_provider=data_provider.MultiplexerDataProvider(mux, logdir)))
request = tb_context.RequestContext()
experiment = get_experiment.Handler(request, ctx, "", api_pb2.GetExperimentRequest()).run()
groups = list_session_groups.Handler(request, ctx, "", api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=100, allowed_statuses=[0, 1, 2, 3])).run()
samples = [bytes(range(n)) * 3 for n in (0, 1, 7, 100, 255)]
print(json.dumps({
    "runs": runs,
    "experiment": as_dict(experiment),
    "session_groups": as_dict(groups).get("session_groups", []),
    "masked_crc32c": [masked_crc32c(s) for s in samples],
}))
`;

export interface ReadBack {
  runs: Record<string, { file: string; files: string[]; raw_scalars: Record<string, [number, number][]>; first_event: Record<string, unknown>; event_count: number; scalars: Record<string, [number, number, number][]>; hparams: Record<string, Record<string, unknown>> }>;
  experiment: Record<string, unknown>;
  session_groups: { name: string; hparams: Record<string, unknown>; metric_values: { name: { tag: string }; value: number; training_step: number }[]; sessions: { name: string; status: string; start_time_secs: number; end_time_secs: number }[] }[];
  masked_crc32c: number[];
}

export async function readWithTensorBoard(python: string, logdir: string): Promise<ReadBack> {
  return JSON.parse(await runPython(python, READER, [logdir], 300_000)) as ReadBack;
}

