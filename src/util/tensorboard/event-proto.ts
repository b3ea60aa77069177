/**
 * Encoding of TensorBoard's Event protobuf (tensorboard/compat/proto/event.proto and summary.proto), the part an
 * event file of scalars and plugin summaries needs:
 *
 *   Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; } }
 *   Summary { repeated Value value = 1; }
 *   Summary.Value { string tag = 1; float simple_value = 2; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
 *   SummaryMetadata { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; bytes content = 2; }
 *   TensorProto { DataType dtype = 1; TensorShapeProto tensor_shape = 2; }
 *   TensorShapeProto { repeated Dim dim = 2; }   Dim { int64 size = 1; }
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/** tensorflow.DataType DT_FLOAT. */
const DT_FLOAT = 1;

export type SummaryValue =
  /** A scalar, as `simple_value` (a float32): what TensorBoard's scalars tab and the tools reading its files expect. */
  | { tag: string; scalar: number }
  /**
   * A plugin's summary: its metadata carries the plugin's own protobuf, the value an empty float tensor, as
   * TensorBoard's own writers emit for summaries whose data is all in the metadata (e.g. HParams).
   */
  | { tag: string; plugin: { name: string; content: Uint8Array } };

export interface EventRecord {
  /** Seconds since the epoch. */
  wallTime: number;
  step: number;
  /** Only in an event file's first record: "brain.Event:2". */
  fileVersion?: string;
  summary?: readonly SummaryValue[];
}

function message(w: BinaryWriter, field: number, body: (w: BinaryWriter) => void): void {
  w.tag(field, WireType.LengthDelimited).fork();
  body(w);
  w.join();
}

function encodeValue(w: BinaryWriter, value: SummaryValue): void {
  w.tag(1, WireType.LengthDelimited).string(value.tag);
  if ('scalar' in value) {
    w.tag(2, WireType.Bit32).float(value.scalar);
    return;
  }
  message(w, 8, (t) => {
    t.tag(1, WireType.Varint).int32(DT_FLOAT);
    message(t, 2, (shape) => message(shape, 2, (dim) => dim.tag(1, WireType.Varint).int64(0)));
  });
  message(w, 9, (meta) =>
    message(meta, 1, (pd) => {
      pd.tag(1, WireType.LengthDelimited).string(value.plugin.name);
      pd.tag(2, WireType.LengthDelimited).bytes(value.plugin.content);
    }),
  );
}

export function encodeEvent(event: EventRecord): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Bit64).double(event.wallTime);
  if (event.step !== 0) w.tag(2, WireType.Varint).int64(event.step);
  if (event.fileVersion !== undefined) w.tag(3, WireType.LengthDelimited).string(event.fileVersion);
  if (event.summary !== undefined) {
    const values = event.summary;
    message(w, 5, (s) => {
      for (const value of values) message(s, 1, (v) => encodeValue(v, value));
    });
  }
  return w.finish();
}
