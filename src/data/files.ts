import { readFile } from 'node:fs/promises';
import { RegraftError } from '../errors.js';

/** Reads a whole data file, turning the usual file-system failures into one-line errors that name the file. */
export async function readDataFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RegraftError(`data file not found: ${path}; check the path in the data spec`);
    if (code === 'EISDIR') throw new RegraftError(`data path is a directory, not a file: ${path}`);
    if (code === 'EACCES') throw new RegraftError(`data file is not readable: ${path}; check its permissions`);
    throw new RegraftError(`cannot read data file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}
