/**
 * Temp files of atomic writes: named for their process and host, so the next writer into a folder removes those of
 * processes that are gone (a SIGKILL, a crash) and leaves a live writer's and another host's alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicFile, removeTempFilesNow, sweepStaleTempFiles, tempFilesIn } from '../../src/util/atomic-file.js';
import { runCli } from '../cli/helpers.js';

const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 40) || 'host';
const tempName = (target: string, pid: number, host: string | null = HOST) => `.${target}.${pid}${host === null ? '' : `@${host}`}-m0abc-1.tmp`;

/** The pid of a process that has exited (and been reaped): signal 0 to it fails with ESRCH. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

describe('sweeping stale temp files', () => {
  it("removes a dead process's temp files (also of regraft before hosts were named), keeps a live one's and another host's", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'regraft-sweep-'));
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const dead = deadPid();
      const names = {
        dead: tempName('last.onnx', dead),
        deadOldFormat: tempName('best.onnx', dead, null),
        live: tempName('model.onnx', live.pid!),
        otherHost: tempName('step.onnx', dead, 'elsewhere.example'),
      };
      for (const name of Object.values(names)) writeFileSync(join(folder, name), 'partial');
      writeFileSync(join(folder, 'last.onnx'), 'whole');
      expect(await sweepStaleTempFiles(folder)).toBe(2);
      expect(readdirSync(folder).sort()).toEqual([names.live, names.otherHost, 'last.onnx'].sort());
    } finally {
      live.kill();
    }
  });

  it("this process's own pid counts as gone unless the file is being written (containers reuse pids)", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'regraft-sweep-'));
    const open = await AtomicFile.create(join(folder, 'x.onnx'));
    writeFileSync(join(folder, tempName('y.onnx', process.pid)), 'left by an earlier process with this pid');
    expect(await sweepStaleTempFiles(folder)).toBe(1);
    expect(tempFilesIn(folder)).toEqual([open.tempPath.slice(folder.length + 1)]);
    // A forced exit removes what is still being written, at once.
    removeTempFilesNow();
    expect(existsSync(open.tempPath)).toBe(false);
    await open.abort();
  });

  it('any command that writes into a folder sweeps it first (regraft convert)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'regraft-sweep-'));
    const stale = join(folder, tempName('copy.onnx', deadPid()));
    writeFileSync(stale, Buffer.alloc(1 << 16));
    const r = await runCli('convert', join(import.meta.dirname, '..', '..', 'models', 'lenet5.onnx'), '-o', join(folder, 'other.onnx'));
    expect(r.code).toBe(0);
    expect(readdirSync(folder)).toEqual(['other.onnx']);
  });
});
