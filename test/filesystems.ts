/**
 * Small real file systems for the tests of full disks and read-only folders: a tmpfs of a few MiB, mounted at a
 * fresh folder (`mount -t tmpfs -o size=2m tmpfs DIR`), which the test can fill to the last byte or remount
 * read-only. Mounting needs root with mount(2) (CAP_SYS_ADMIN): CI runs as root on machines like the developers',
 * so under CI=true a mount that fails is an error; elsewhere the tests skip, saying why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFileSystem {
  /** Where it is mounted. */
  dir: string;
  /** Writes a file that takes every free byte; returns its path (remove it to free the space again). */
  fill(name?: string): string;
  remountReadOnly(): void;
  remountWritable(): void;
  unmount(): void;
}

/** A tmpfs of `size` (mount's syntax: `2m`, `512k`), or why there is none. */
export function smallFileSystem(size: string): { fs: SmallFileSystem; missing?: undefined } | { fs?: undefined; missing: string } {
  const dir = mkdtempSync(join(tmpdir(), 'regraft-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0];
    const missing = `cannot mount a ${size} tmpfs (${why}): the disk-full and read-only tests need root with mount(2) (CAP_SYS_ADMIN)`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${missing}`);
    return { missing };
  }
  // A read-only remount fails with "mount point is busy" while a file is open for writing; the trainer holds one
  // only for the moment of a write, so the remount is retried for up to 2 s.
  const remount = (mode: 'ro' | 'rw') => {
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
        return;
      } catch (err) {
        if (attempt >= 200 || !String((err as { stderr?: Buffer }).stderr ?? '').includes('busy')) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  };
  return {
    fs: {
      dir,
      fill(name = 'filler.bin') {
        const path = join(dir, name);
        const fd = openSync(path, 'w');
        try {
          // Big pieces first, then pages, then bytes: tmpfs refuses the write that needs a page it has not got.
          for (const piece of [1 << 20, 1 << 16, 1 << 12, 1]) {
            const chunk = Buffer.alloc(piece, 0x5a);
            for (;;) {
              try {
                if (writeSync(fd, chunk) < piece) break;
              } catch (err) {
                if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
                throw err;
              }
            }
          }
        } finally {
          closeSync(fd);
        }
        return path;
      },
      remountReadOnly: () => remount('ro'),
      remountWritable: () => remount('rw'),
      unmount() {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}
