// One daemon per data directory: <data-dir>/daemon.lock holds its pid. A lock whose process is
// gone (a crash, a kill -9) is taken over; a live one makes the second daemon refuse to start.
// `tripcal serve` and the CLI take no lock: SQLite in WAL mode shares the database safely.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TripcalError } from '../errors.js';

export const LOCK_FILE = 'daemon.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DaemonLock {
  private constructor(private readonly path: string) {}

  static take(dataDir: string): DaemonLock {
    const path = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return new DaemonLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new TripcalError('config', `another tripcal daemon (pid ${pid}) is running on ${dataDir}; stop it first, or give this one another --data-dir `
            + '(tripcal serve and the other commands may run beside it)');
        }
        rmSync(path, { force: true }); // stale: its process is gone
      }
    }
    throw new TripcalError('config', `cannot take ${path}`);
  }

  release(): void {
    try {
      if (readFileSync(this.path, 'utf8').trim() === String(process.pid)) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
