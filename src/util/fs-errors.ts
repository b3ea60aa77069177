/**
 * File-system failures said as what they are: `no space left on device while writing X`, `cannot create X:
 * permission denied`, `cannot create X: read-only file system`, `X is a file, not a folder`, instead of an errno
 * code, a short write count or Node's `ENOENT: no such file or directory, mkdir ...` (which mkdir -p reports for a
 * read-only parent). Callers that know more (the trainer knows the last good checkpoint) add it to the message.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RegraftError } from '../errors.js';

/** A file-system failure with its errno code and the path it happened on. */
export class FileSystemError extends RegraftError {
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(message, 1, options);
    this.name = 'FileSystemError';
  }
}

/**
 * The one-line error for a failed file operation on `path`; an error of a kind not listed here comes back as it
 * was. `doing` is what was being done: writing an open file, or creating one (or a folder).
 */
export function fileSystemError(err: unknown, path: string, doing: 'write' | 'create'): Error {
  if (err instanceof RegraftError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = (() => {
    switch (code) {
      case 'ENOSPC':
        return `no space left on device while writing ${path}; free some space or write elsewhere`;
      case 'EDQUOT':
        return `disk quota exceeded while writing ${path}; free some space or write elsewhere`;
      case 'EFBIG':
        return `${path} would be larger than the file system allows for one file; write elsewhere`;
      case 'EACCES':
      case 'EPERM':
        return `cannot ${doing} ${path}: permission denied; write somewhere you may, or fix the folder's permissions`;
      case 'EROFS':
        return `cannot ${doing} ${path}: read-only file system; write elsewhere`;
      case 'ENOENT':
        return `cannot ${doing} ${path}: the folder ${dirname(path)} does not exist; create it first`;
      case 'ENOTDIR':
        return `cannot ${doing} ${path}: a part of the path is a file, not a folder`;
      case 'EISDIR':
        return `cannot ${doing} ${path}: it is a folder; give a file path`;
      case 'EIO':
        return `input/output error while writing ${path} (a failing disk or a lost network share)`;
      default:
        return undefined;
    }
  })();
  return message === undefined || code === undefined ? (err as Error) : new FileSystemError(message, code, path, { cause: err });
}

/**
 * `mkdir -p` that says why it failed: creates the missing folders of `path` one level at a time, so a refusal is
 * reported for the level refused (EACCES, EROFS) rather than as a missing parent, and an existing file on the way
 * is named as such. `role` names what the folder is for, in that message (`a run directory`).
 */
export async function makeFolder(path: string, role = 'a folder'): Promise<void> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    const info = await stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw fileSystemError(err, at, 'create');
    });
    if (info !== undefined) {
      if (!info.isDirectory()) throw new FileSystemError(`${at} is a file, not ${at === path ? role : 'a folder'}; choose another path`, 'ENOTDIR', at);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const level of missing) {
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw fileSystemError(err, level, 'create');
    });
  }
}

/**
 * Checks, without writing anything, that `path` could be created as a folder (or written into, if it is one): the
 * nearest existing folder on its way must be writable. Fails as {@link makeFolder} would, before any work is done.
 */
export async function checkFolderCreatable(path: string, role = 'a folder'): Promise<void> {
  let at = path;
  for (;;) {
    const info = await stat(at).catch(() => undefined);
    if (info !== undefined) {
      if (!info.isDirectory()) throw new FileSystemError(`${at} is a file, not ${at === path ? role : 'a folder'}; choose another path`, 'ENOTDIR', at);
      await access(at, constants.W_OK | constants.X_OK).catch((err: unknown) => {
        throw fileSystemError(err, path, 'create');
      });
      return;
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}
