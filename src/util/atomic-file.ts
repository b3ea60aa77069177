/**
 * Atomic file replacement: write a uniquely named temp file in the target's folder (same file system, so the
 * rename cannot turn into a copy), fsync it, then rename it over the target. Readers see the old file or the new
 * one, never a half-written one, and a failed write leaves nothing behind.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Bytes per writev call at most; keeps each call's iovec list and duration bounded. */
const BATCH_BYTES = 64 * 1024 * 1024;
/** Buffers per writev call at most (Linux IOV_MAX). */
const BATCH_BUFFERS = 1024;

let tempCounter = 0;

/** A temp file that becomes `target` on {@link AtomicFile.commit} or disappears on {@link AtomicFile.abort}. */
export class AtomicFile {
  /** Bytes written so far. */
  written = 0;
  private handle: FileHandle | undefined;

  private constructor(
    readonly target: string,
    readonly tempPath: string,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  /** Creates the temp file beside `target`. O_EXCL guarantees the name is ours alone; a clash retries. */
  static async create(target: string): Promise<AtomicFile> {
    for (;;) {
      tempCounter += 1;
      const tempPath = join(dirname(target), `.${basename(target)}.${process.pid}-${Date.now().toString(36)}-${tempCounter}.tmp`);
      try {
        const handle = await open(tempPath, 'wx', 0o644);
        return new AtomicFile(target, tempPath, handle);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Appends `pieces` in order, batched into few writev calls; large pieces are written from where they lie. */
  async write(pieces: readonly Uint8Array[]): Promise<void> {
    const handle = this.openHandle();
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      // libuv's writev loops over partial writes and IOV_MAX itself; a short count means the disk refused.
      const { bytesWritten } = await handle.writev(batch);
      if (bytesWritten !== batchBytes) throw new Error(`short write (${bytesWritten} of ${batchBytes} bytes)`);
      this.written += bytesWritten;
      batch = [];
      batchBytes = 0;
    };
    for (const piece of pieces) {
      if (piece.byteLength === 0) continue;
      batch.push(piece);
      batchBytes += piece.byteLength;
      if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_BUFFERS) await flush();
    }
    await flush();
  }

  /** Flushes to disk, closes and renames over the target. */
  async commit(): Promise<void> {
    const handle = this.openHandle();
    await handle.sync();
    this.handle = undefined;
    await handle.close();
    await rename(this.tempPath, this.target);
    await syncFolder(dirname(this.target));
  }

  /** Closes and removes the temp file; safe to call after a failed commit or twice. */
  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private openHandle(): FileHandle {
    if (this.handle === undefined) throw new Error(`temp file for ${this.target} is already closed`);
    return this.handle;
  }
}

/** Makes a rename durable; some file systems refuse fsync on folders, and the rename has happened anyway. */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Durability of the folder entry is best effort; the data itself was synced before the rename.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

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
