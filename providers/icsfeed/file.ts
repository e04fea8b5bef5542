// The zero-config provider: a subscribable .ics file per user under <data-dir>/feeds/. It only
// knows files: the calendar text is made elsewhere. Writes are atomic (temp file + rename), so a
// calendar app polling the file never reads half of it.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function feedDir(dataDir: string): string {
  return join(dataDir, 'feeds');
}

export function feedPath(dataDir: string, userId: string): string {
  return join(feedDir(dataDir), `${encodeURIComponent(userId)}.ics`);
}

export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}

export function writeFeed(dataDir: string, userId: string, text: string): string {
  mkdirSync(feedDir(dataDir), { recursive: true, mode: 0o700 });
  const path = feedPath(dataDir, userId);
  writeFileAtomic(path, text);
  return path;
}
