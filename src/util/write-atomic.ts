import { AtomicFile } from '../onnx/atomic-file.js';

/** Writes a whole small file atomically (temp file beside it, fsync, rename): readers never see half of it. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const file = await AtomicFile.create(path);
  try {
    await file.write([typeof content === 'string' ? Buffer.from(content, 'utf8') : content]);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}
