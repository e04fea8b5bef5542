// The zero-config provider: a subscribable .ics file per user under <data-dir>/feeds/. It only
// knows files: the calendar text is made elsewhere. Writes are atomic (temp file + rename), so a
// calendar app polling the file never reads half of it.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
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

/** The same, off the event loop: a server keeps answering while a large feed is flushed to disk. */
export async function writeFileAtomicAsync(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await rename(temp, path);
}

export async function writeFeed(dataDir: string, userId: string, text: string): Promise<string> {
  await mkdir(feedDir(dataDir), { recursive: true, mode: 0o700 });
  const path = feedPath(dataDir, userId);
  await writeFileAtomicAsync(path, text);
  return path;
}
