// One daemon per data directory: <data-dir>/daemon.lock names the process holding it. A lock
// whose process is gone (a crash, a kill -9) is taken over, and so is one whose pid now belongs
// to some other program (pids are reused after a reboot or a long uptime): the lock records the
// process's start time, and on Linux /proc tells whether that pid is still the same process.
// `tripcal serve` and the CLI take no lock: SQLite in WAL mode shares the database safely.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  /** `forRestore`: the message says to stop the daemon before restoring (nothing may run beside a restore). */
  static take(dataDir: string, forRestore = false): DaemonLock {
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
          throw new TripcalError('config', forRestore
            ? `a tripcal daemon (pid ${holder.pid}) is running on ${dataDir}; stop it before restoring (systemctl stop tripcal, or Ctrl-C). Nothing was changed`
            : `another tripcal daemon (pid ${holder.pid}) is running on ${dataDir}; stop it first, or give this one another --data-dir `
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

const OPEN_DIR = 'open';
/** This process's presence files, removed at exit by one listener (however many apps it opened). */
const noted = new Set<string>();
let cleaning = false;

/**
 * Every process that has a data directory's model open (`tripcal serve` under an MCP client, the
 * daemon, a CLI command) leaves `<data-dir>/open/<pid>.json` while it does, so a restore can
 * refuse to swap the database under one of them (its next write would land in the old file).
 * A process killed without cleaning up leaves a file whose pid is gone or reused: ignored.
 */
export class Presence {
  private constructor(private readonly path: string) {}

  /** Best effort: a data directory that takes no file (read-only) still opens, unannounced. */
  static register(dataDir: string, command: string): Presence {
    const path = join(dataDir, OPEN_DIR, `${process.pid}.json`);
    try {
      mkdirSync(join(dataDir, OPEN_DIR), { recursive: true, mode: 0o700 });
      writeFileSync(path, `${JSON.stringify({ pid: process.pid, started: startTime(process.pid), command })}\n`, { mode: 0o600 });
      noted.add(path);
      if (!cleaning) process.once('exit', () => noted.forEach((p) => rmSync(p, { force: true })));
      cleaning = true;
    } catch (error) {
      log.warn('cannot note this process in the data directory', { error: (error as Error).message });
    }
    return new Presence(path);
  }

  /** The other live processes that have the model open, with the command each runs. */
  static others(dataDir: string): Array<{ pid: number; command: string }> {
    let names: string[];
    try {
      names = readdirSync(join(dataDir, OPEN_DIR));
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const path = join(dataDir, OPEN_DIR, name);
      let holder: (Holder & { command?: string }) | undefined;
      try {
        holder = readHolder(readFileSync(path, 'utf8')) as (Holder & { command?: string }) | undefined;
      } catch {
        return [];
      }
      if (!holder || !stillHeld(holder)) {
        rmSync(path, { force: true });
        return [];
      }
      return [{ pid: holder.pid, command: holder.command ?? 'tripcal' }];
    });
  }

  release(): void {
    noted.delete(this.path);
    rmSync(this.path, { force: true });
  }
}
