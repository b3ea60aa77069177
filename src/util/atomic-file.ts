/**
 * Atomic file replacement: write a uniquely named temp file in the target's folder (same file system, so the
 * rename cannot turn into a copy), fsync it, then rename it over the target. Readers see the old file or the new
 * one, never a half-written one, and a failed write leaves nothing behind.
 *
 * A process killed mid-write (SIGKILL, a power cut) cannot remove its temp file. The temp file's name says which
 * process on which host wrote it (`.last.onnx.<pid>@<host>-<time>-<n>.tmp`), so the next writer into the same
 * folder (the resumed run, any command that saves there) removes the temp files of processes of this host that are
 * gone, and only those: a live writer's file, or another host's on a shared file system, is left alone.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileSystemError } from './fs-errors.js';

/** Bytes per writev call at most; keeps each call's iovec list and duration bounded. */
const BATCH_BYTES = 64 * 1024 * 1024;
/** Buffers per writev call at most (Linux IOV_MAX). */
const BATCH_BUFFERS = 1024;

let tempCounter = 0;

/** This host's name as temp file names carry it: no separators, no '@', bounded length. */
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 40) || 'host';
/** `.<target>.<pid>[@<host>]-<time>-<n>.tmp`; names without a host are from regraft before hosts were recorded. */
const TEMP_NAME = /^\..+\.(\d+)(?:@(.+))?-[0-9a-z]+-\d+\.tmp$/;

/** Temp files this process has open, so that a forced exit can remove them (see {@link removeTempFilesNow}). */
const inFlight = new Set<string>();
/** Folders this process has already swept. */
const swept = new Set<string>();

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

  /**
   * Creates the temp file beside `target`, first sweeping the folder of dead processes' temp files (once per
   * folder and process). O_EXCL guarantees the name is ours alone; a clash retries.
   */
  static async create(target: string): Promise<AtomicFile> {
    const folder = dirname(target);
    if (!swept.has(resolve(folder))) await sweepStaleTempFiles(folder);
    for (;;) {
      tempCounter += 1;
      const tempPath = join(folder, `.${basename(target)}.${process.pid}@${HOST}-${Date.now().toString(36)}-${tempCounter}.tmp`);
      try {
        const handle = await open(tempPath, 'wx', 0o644);
        inFlight.add(tempPath);
        return new AtomicFile(target, tempPath, handle);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(err, target, 'create');
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
      try {
        // A short count means the disk took only part (it is full, or over quota): writing the rest makes the
        // system say why (ENOSPC, EDQUOT), which a bare count cannot.
        const { bytesWritten } = await handle.writev(batch);
        this.written += bytesWritten;
        if (bytesWritten < batchBytes) await writeRest(handle, batch, bytesWritten);
        this.written += batchBytes - bytesWritten;
      } catch (err) {
        throw fileSystemError(err, this.target, 'write');
      }
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
    try {
      // Some file systems (NFS, tmpfs over quota) report a full disk only when the data is flushed.
      await handle.sync();
      this.handle = undefined;
      await handle.close();
    } catch (err) {
      throw fileSystemError(err, this.target, 'write');
    }
    await rename(this.tempPath, this.target).catch((err: unknown) => {
      throw fileSystemError(err, this.target, 'create');
    });
    inFlight.delete(this.tempPath);
    await syncFolder(dirname(this.target));
  }

  /** Closes and removes the temp file; safe to call after a failed commit or twice. */
  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
    inFlight.delete(this.tempPath);
  }

  private openHandle(): FileHandle {
    if (this.handle === undefined) throw new Error(`temp file for ${this.target} is already closed`);
    return this.handle;
  }
}

/** Writes what a short writev left over, piece by piece; the call that cannot go on throws the system's reason. */
async function writeRest(handle: FileHandle, batch: readonly Uint8Array[], done: number): Promise<void> {
  let skip = done;
  for (const piece of batch) {
    if (skip >= piece.byteLength) {
      skip -= piece.byteLength;
      continue;
    }
    let at = skip;
    skip = 0;
    while (at < piece.byteLength) {
      const { bytesWritten } = await handle.write(piece, at, piece.byteLength - at);
      if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      at += bytesWritten;
    }
  }
}

/**
 * Removes the temp files that processes of this host which no longer run left in `folder` (a crash, a SIGKILL).
 * A process is gone when signal 0 cannot reach it (ESRCH); this process's own files count as gone unless they are
 * still being written (a container reuses low pids across runs). Returns how many files were removed.
 */
export async function sweepStaleTempFiles(folder: string): Promise<number> {
  swept.add(resolve(folder));
  const names = await readdir(folder).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || (match[2] !== undefined && match[2] !== HOST)) continue;
    const path = join(folder, name);
    const pid = Number(match[1]);
    const gone = pid === process.pid ? !inFlight.has(path) : !isRunning(pid);
    if (!gone) continue;
    await unlink(path).then(() => removed++, () => undefined);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes this process's unfinished temp files at once, synchronously: for an exit that cannot wait for writes to
 * finish (a second Ctrl-C). Targets are untouched: they hold their previous contents.
 */
export function removeTempFilesNow(): void {
  for (const path of inFlight) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone (committed or aborted in the meantime).
    }
  }
  inFlight.clear();
}

/** The temp files in `folder` (any process's), for tests and checks. */
export function tempFilesIn(folder: string): string[] {
  try {
    return readdirSync(folder).filter((name) => TEMP_NAME.test(name));
  } catch {
    return [];
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
