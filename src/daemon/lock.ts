// One daemon per data directory: <data-dir>/daemon.lock names the process holding it. A lock
// whose process is gone (a crash, a kill -9) is taken over, and so is one whose pid now belongs
// to some other program (pids are reused after a reboot or a long uptime): the lock records the
// process's start time, and on Linux /proc tells whether that pid is still the same process.
// `tripcal serve` and the CLI take no lock: SQLite in WAL mode shares the database safely.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TripcalError } from '../errors.js';
import { log } from '../log.js';

export const LOCK_FILE = 'daemon.lock';

interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), when known. */
  started?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat, or undefined where there is no /proc (macOS) or no such process. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

function readHolder(text: string): Holder | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) }; // the older form: the pid alone
  try {
    const parsed = JSON.parse(trimmed) as Holder;
    return Number.isInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder is still the tripcal daemon that wrote it. */
function stillHeld(holder: Holder): boolean {
  if (holder.pid === process.pid || !alive(holder.pid)) return false;
  const started = startTime(holder.pid);
  if (started === undefined) return true; // no /proc to ask: a live pid keeps it, to be safe
  if (holder.started !== undefined) return holder.started === started;
  return /tripcal/.test(commandLine(holder.pid) ?? 'tripcal');
}

export class DaemonLock {
  private constructor(private readonly path: string) {}

  static take(dataDir: string): DaemonLock {
    const path = join(dataDir, LOCK_FILE);
    const mine: Holder = { pid: process.pid, started: startTime(process.pid) };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${JSON.stringify(mine)}\n`, { flag: 'wx', mode: 0o600 });
        return new DaemonLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readHolder(readFileSync(path, 'utf8'));
        if (holder && stillHeld(holder)) {
          throw new TripcalError('config', `another tripcal daemon (pid ${holder.pid}) is running on ${dataDir}; stop it first, or give this one another --data-dir `
            + '(tripcal serve and the other commands may run beside it)');
        }
        log.info('took over a stale daemon lock', { pid: holder?.pid ?? null });
        rmSync(path, { force: true });
      }
    }
    throw new TripcalError('config', `cannot take ${path}`);
  }

  release(): void {
    try {
      if (readHolder(readFileSync(this.path, 'utf8'))?.pid === process.pid) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
