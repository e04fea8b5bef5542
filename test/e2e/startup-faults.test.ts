// Start-up under hostile conditions, through the built command as a user runs it: a lost vault
// key, damaged or foreign database files, a read-only data directory, a stale lock whose pid was
// reused. tripcal either starts completely or exits non-zero with one clear line naming the file,
// having released its port and lock and changed nothing.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, connect, structured, tempDir } from '../support/mcp.js';

interface Run { code: number | null; stdout: string; stderr: string }

/**
 * Runs the built command. `readOnly` runs it with that directory read-only: as root (CI), in a
 * private mount namespace where the directory is a read-only bind mount (root ignores file
 * modes); otherwise with the directory's write bits removed.
 */
function tripcal(args: string[], options: { env?: Record<string, string>; input?: string; readOnly?: string } = {}): Run {
  const env = { ...process.env, TRIPCAL_LOG_LEVEL: 'warn', ...options.env };
  const asRoot = options.readOnly !== undefined && process.getuid?.() === 0;
  if (options.readOnly !== undefined && !asRoot) chmodSync(options.readOnly, 0o555);
  try {
    const result = asRoot
      ? spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"', options.readOnly!, process.execPath, CLI, ...args],
      { encoding: 'utf8', input: options.input, timeout: 30_000, env })
      : spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: options.input, timeout: 30_000, env });
    if (result.error) throw result.error;
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    if (options.readOnly !== undefined && !asRoot) chmodSync(options.readOnly, 0o755);
  }
}

/** One clear line for the person, never a JavaScript or SQLite stack. */
function expectCleanFailure(run: Run, ...mentions: string[]): void {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.stderr).not.toMatch(/\n\s+at |SqliteError|RangeError|TypeError|ReferenceError/);
  for (const text of mentions) expect(run.stderr + run.stdout).toContain(text);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something listens on the port (a half-started daemon would). */
async function portInUse(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

function daemonConfig(dir: string, port: number): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, `http:\n  listen: 127.0.0.1:${port}\n`);
  return path;
}

/** A data directory with a model of several database pages: 120 activities in one import. */
function populated(): string {
  const dataDir = tempDir();
  const events = Array.from({ length: 120 }, (_, i) => [
    'BEGIN:VEVENT', `UID:museum-${i}@example.com`, 'DTSTAMP:20250101T000000Z',
    `DTSTART:202506${String(1 + (i % 28)).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}0000Z`,
    `SUMMARY:Museum visit number ${i} with a description long enough to fill the pages`, 'END:VEVENT',
  ].join('\r\n'));
  const file = join(dataDir, 'many.ics');
  writeFileSync(file, ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...events, 'END:VCALENDAR', ''].join('\r\n'));
  const run = tripcal(['--data-dir', dataDir, 'import', file]);
  expect(run.code, run.stderr).toBe(0);
  rmSync(file);
  return dataDir;
}

/** Writes `bytes` at `offset` of a file, in place. */
function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

const children: Array<ReturnType<typeof spawn>> = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('start-up either completes or exits having released everything', () => {
  test('a lost vault key: the daemon refuses to start, frees its port and lock; doctor shows it; auth reset is the way out', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const config = daemonConfig(dataDir, port);
    // A first run stores the feed link's token in the vault.
    const first = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--config', config, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(first);
    await new Promise<void>((resolve) => first.stdout!.on('data', (c: Buffer) => c.toString().includes('Background sync') && resolve()));
    first.kill('SIGTERM');
    await new Promise((resolve) => first.on('exit', resolve));

    rmSync(join(dataDir, 'vault.key'));
    const refused = tripcal(['--data-dir', dataDir, '--config', config, 'daemon']);
    expectCleanFailure(refused, join(dataDir, 'vault.key'), 'missing', 'tripcal auth reset --all --yes');
    expect(await portInUse(port)).toBe(false);
    expect(existsSync(join(dataDir, 'daemon.lock'))).toBe(false);
    // No new key was made behind the user's back: the old secrets stay recoverable by putting the key back.
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(false);

    const doctor = tripcal(['--data-dir', dataDir, 'doctor', '--json']);
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout).vault).toMatch(/^key_missing: .*tripcal auth reset --all --yes/);

    const asked = tripcal(['--data-dir', dataDir, 'auth', 'reset', '--all']);
    expect(asked.code).toBe(2);
    expect(asked.stdout).toContain('Run it again with --yes');
    const reset = tripcal(['--data-dir', dataDir, 'auth', 'reset', '--all', '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/Deleted 1 secret\b/);

    const again = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--config', config, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(again);
    await new Promise<void>((resolve) => again.stdout!.on('data', (c: Buffer) => c.toString().includes('Background sync') && resolve()));
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as { status: string };
    expect(health.status).toBe('ok');
    again.kill('SIGTERM');
    await new Promise((resolve) => again.on('exit', resolve));
  });

  test('a wrong key under `serve`: an edit is saved once and its result says the calendar could not be reached and why', async () => {
    const dataDir = tempDir();
    const config = join(dataDir, 'config.yaml');
    writeFileSync(config, 'accounts:\n  - name: home\n    provider: caldav\n    url: http://127.0.0.1:9/\n    username: me\n    calendar: Trips\n');
    const stored = tripcal(['--data-dir', dataDir, '--config', config, 'auth', 'caldav', 'home'], { input: 'secret-password\n', env: { TRIPCAL_ENCRYPTION_KEY: 'the first key' } });
    expect(stored.code, stored.stderr).toBe(0);

    const server = await connect({ dataDir, args: ['--config', config], env: { TRIPCAL_ENCRYPTION_KEY: 'another key' } });
    try {
      const result = await server.call('add_activity', { activity_details: { name: 'Museum', start_time: '2026-05-01T10:00:00Z' } });
      const out = structured(result);
      expect(out.success).toBe(true);
      expect(out.sync.status).toBe('failed');
      expect(out.sync.message).toContain('tripcal auth reset');
      const trips = structured(await server.call('list_trips', {}));
      expect(trips.trips.map((t: { item_count: number }) => t.item_count)).toEqual([1]);
    } finally {
      await server.close();
    }
    const reset = tripcal(['--data-dir', dataDir, '--config', config, 'auth', 'reset', 'home']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Deleted the stored credentials of "home"');
  });

  test('a damaged database: the daemon exits non-zero naming the file, and frees its port and lock', async () => {
    const dataDir = populated();
    const db = join(dataDir, 'tripcal.db');
    overwrite(db, 4096 * 3, Buffer.alloc(4096));
    const port = await freePort();
    const run = tripcal(['--data-dir', dataDir, '--config', daemonConfig(dataDir, port), 'daemon']);
    expectCleanFailure(run, db, 'damaged');
    expect(await portInUse(port)).toBe(false);
    expect(existsSync(join(dataDir, 'daemon.lock'))).toBe(false);
  });
});

describe('damaged and foreign database files are refused, never taken as a new model', () => {
  const damage: Array<[string, (path: string) => void]> = [
    ['truncated to half', (path) => writeFileSync(path, readFileSync(path).subarray(0, Math.floor(statSync(path).size / 2)))],
    ['a zeroed page', (path) => overwrite(path, 4096 * 2, Buffer.alloc(4096))],
    ['flipped bytes in the header', (path) => overwrite(path, 0, Buffer.from('SQLite formet 3\0'))],
    ['flipped bytes in a page header', (path) => overwrite(path, 4096 * 2, Buffer.from([0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa]))],
    ['not a database at all', (path) => writeFileSync(path, 'these are my notes, not a database\n'.repeat(200))],
  ];

  test.each(damage)('%s: list, export, serve and daemon each say so in one line naming the file', (_name, spoil) => {
    const dataDir = populated();
    const db = join(dataDir, 'tripcal.db');
    spoil(db);
    const before = readFileSync(db);
    for (const args of [['list'], ['export', '--all'], ['serve'], ['doctor']]) {
      const run = tripcal(['--data-dir', dataDir, ...args], { input: '' });
      expectCleanFailure(run, db);
      expect(run.stderr + run.stdout).toMatch(/damaged|not a database/);
    }
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  test('a 0-byte database file is refused as damaged and left as it is', () => {
    const dataDir = tempDir();
    const db = join(dataDir, 'tripcal.db');
    writeFileSync(db, '');
    const run = tripcal(['--data-dir', dataDir, 'list']);
    expectCleanFailure(run, db, 'empty (0 bytes)', 'damaged database, not a new one');
    expect(statSync(db).size).toBe(0);
    // Moving it aside, as the message says, starts afresh.
    rmSync(db);
    expect(tripcal(['--data-dir', dataDir, 'list']).stdout).toContain('No trips yet.');
  });

  test('a database made by a newer tripcal is refused and not touched', () => {
    const dataDir = populated();
    const db = join(dataDir, 'tripcal.db');
    const header = readFileSync(db);
    header.writeUInt32BE(99, 60); // user_version lives at offset 60 of the header
    writeFileSync(db, header);
    rmSync(`${db}-wal`, { force: true });
    const run = tripcal(['--data-dir', dataDir, 'list']);
    expectCleanFailure(run, db, 'schema version 99, made by a newer tripcal');
    expect(readFileSync(db).equals(header)).toBe(true);
  });

  test('a read-only data directory is one clear line, not "unable to open database file" with a stack', () => {
    const dataDir = populated();
    rmSync(join(dataDir, 'tripcal.db-shm'), { force: true });
    const run = tripcal(['--data-dir', dataDir, 'list'], { readOnly: dataDir });
    expect(run.stderr).not.toMatch(/mount|unshare/); // the read-only set-up itself worked
    expectCleanFailure(run, dataDir, 'not writable');
  });
});

describe('the daemon lock', () => {
  test('a stale lock whose pid now belongs to another program is taken over; a live daemon\'s is not', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const config = daemonConfig(dataDir, port);
    const other = spawn('sleep', ['60']);
    children.push(other);
    writeFileSync(join(dataDir, 'daemon.lock'), `${other.pid}\n`);
    const daemon = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--config', config, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(daemon);
    await new Promise<void>((resolve, reject) => {
      daemon.stdout!.on('data', (c: Buffer) => c.toString().includes('Background sync') && resolve());
      daemon.on('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    });
    expect(JSON.parse(readFileSync(join(dataDir, 'daemon.lock'), 'utf8')).pid).toBe(daemon.pid);

    const second = tripcal(['--data-dir', dataDir, '--config', daemonConfig(tempDir(), await freePort()), 'daemon']);
    expectCleanFailure(second, `another tripcal daemon (pid ${daemon.pid}) is running`);
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.on('exit', resolve));
    expect(existsSync(join(dataDir, 'daemon.lock'))).toBe(false);
  });
});
