/**
 * Who runs a trial: "host:pid:starttime", recorded on every trial a worker claims. On the same host it tells for
 * certain whether that worker is gone (no such process, or the pid now belongs to a process started later), which
 * lets a resume re-queue a killed study's trials at once instead of waiting out the heartbeat grace period. A worker
 * on another host can only be judged by its heartbeats.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22), or '' where /proc is absent. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return null;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return false;
  }
}

export function currentWorker(): string {
  return `${hostname()}:${process.pid}:${startTime(process.pid) ?? ''}`;
}

/** True only when `worker` ran on this host and that process no longer exists. */
export function isGoneWorker(worker: string): boolean {
  const [host, pidText, started] = worker.split(':');
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return started !== (startTime(pid) ?? '');
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (isZombie(pid)) return true;
  const now = startTime(pid);
  return now !== null && started !== '' && now !== started;
}

/** "host:pid" for messages. */
export function shortWorker(worker: string): string {
  return worker.split(':').slice(0, 2).join(':');
}
