// Back up and restore as a user does it: `tripcal backup` while the daemon takes edits over HTTP,
// `tripcal restore` into a new machine's data directory with and without the vault key, and every
// refusal that keeps a restore from losing anything.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { CLI, connect, structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

function tripcal(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: options.input, timeout: 30_000, env: { ...process.env, TRIPCAL_LOG_LEVEL: 'warn', ...options.env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const daemons: RunningDaemon[] = [];
afterAll(async () => {
  for (const d of daemons) await d.stop();
});

/** A data directory with a CalDAV password in the vault (the account's server is never reached). */
function withSecret(dataDir: string): string {
  const config = join(dataDir, 'config.yaml');
  writeFileSync(config, `accounts:\n  - name: home\n    provider: caldav\n    url: http://127.0.0.1:9/\n    username: me\n    calendar: Trips\n`);
  const stored = tripcal(['--data-dir', dataDir, '--config', config, 'auth', 'caldav', 'home'], { input: 'the password\n' });
  expect(stored.code, stored.stderr).toBe(0);
  return config;
}

describe('tripcal backup and restore', () => {
  test('a backup taken while the daemon writes is consistent; restored with its key, trips and secrets come back', async () => {
    const dataDir = tempDir();
    withSecret(dataDir);
    const config = join(dataDir, 'daemon.yaml');
    writeFileSync(config, `http:\n  listen: 127.0.0.1:${await freePort()}\n`);
    const daemon = await startDaemonProcess(['--data-dir', dataDir, '--config', config]);
    daemons.push(daemon);
    const client = await connectHttp(daemon.mcpUrl);
    let stop = false;
    let added = 0;
    const writing = (async () => {
      while (!stop) {
        structured(await client.call('add_activity', { activity_details: { name: `Walk ${added}`, start_time: `2026-06-${String(1 + (added % 28)).padStart(2, '0')}T10:00:00Z` } }));
        added += 1;
      }
    })();
    while (added < 20) await new Promise((r) => setTimeout(r, 20));
    const file = join(tempDir(), 'tripcal-backup.db');
    const backup = tripcal(['--data-dir', dataDir, 'backup', file, '--with-key']);
    const atBackup = added;
    stop = true;
    await writing;
    await client.close();
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/Wrote .*tripcal-backup\.db: \d+ trips?, \d+ items?, schema version \d+/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}.vault-key`).mode & 0o777).toBe(0o600);
    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    const items = (copy.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
    copy.close();
    expect(items).toBeGreaterThanOrEqual(20);
    expect(items).toBeLessThanOrEqual(atBackup + 1);

    // Restoring while the daemon runs is refused.
    const busy = tripcal(['--data-dir', dataDir, 'restore', file, '--force']);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toMatch(/a tripcal daemon \(pid \d+\) is running on .*; stop it before restoring/);

    const fresh = tempDir();
    // A new machine has no key at all: without --key the secrets could not be opened there.
    const keyless = tripcal(['--data-dir', fresh, 'restore', file]);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain('encrypted with a key this data directory does not have (it has none yet); pass --key FILE');
    expect(existsSync(join(fresh, 'tripcal.db'))).toBe(false);
    const restored = tripcal(['--data-dir', fresh, 'restore', file, '--key', `${file}.vault-key`]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored`);
    const listed = JSON.parse(tripcal(['--data-dir', fresh, 'list', '--json']).stdout) as Array<{ item_count: number }>;
    expect(listed.reduce((n, t) => n + t.item_count, 0)).toBe(items);
    const doctor = JSON.parse(tripcal(['--data-dir', fresh, 'doctor', '--json']).stdout);
    expect(doctor.vault).toMatch(/^ok \(\d+ secrets?\)/);
  });

  test('without the key the backup is refused unless its secrets are dropped; a model there needs --force and is kept', () => {
    const dataDir = tempDir();
    withSecret(dataDir);
    const file = join(tempDir(), 'b.db');
    const made = tripcal(['--data-dir', dataDir, 'backup', file]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('not in the backup: keep a copy of that key somewhere safe');
    expect(tripcal(['--data-dir', dataDir, 'backup', file]).stderr).toContain('pass --force to replace it');

    const elsewhere = tempDir();
    tripcal(['--data-dir', elsewhere, 'doctor']); // a vault key of its own, and an empty model
    const refused = tripcal(['--data-dir', elsewhere, 'restore', file, '--force']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('encrypted with another key');
    const noForce = tripcal(['--data-dir', elsewhere, 'restore', file, '--drop-secrets']);
    expect(noForce.code).toBe(2);
    expect(noForce.stderr).toContain('pass --force to replace it');
    const dropped = tripcal(['--data-dir', elsewhere, 'restore', file, '--drop-secrets', '--force']);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toContain('Its secrets were left out');
    expect(readdirSync(elsewhere).some((f) => f.startsWith('tripcal.db.before-restore-'))).toBe(true);
    expect(JSON.parse(tripcal(['--data-dir', elsewhere, 'doctor', '--json']).stdout).vault).toMatch(/^empty/);
  });

  test('a restore is refused while `tripcal serve` has the model open (its next write would go to the old file)', async () => {
    const dataDir = tempDir();
    const file = join(tempDir(), 'b.db');
    expect(tripcal(['--data-dir', dataDir, 'backup', file, '--with-key']).code).toBe(0);
    const server = await connect({ dataDir });
    structured(await server.call('add_activity', { activity_details: { name: 'Museum', start_time: '2027-05-01T10:00:00Z' } }));
    const refused = tripcal(['--data-dir', dataDir, 'restore', file, '--force', '--key', `${file}.vault-key`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/tripcal .*serve \(pid \d+\) has this data directory open; stop it first/);
    expect(readdirSync(dataDir).some((f) => f.startsWith('tripcal.db.before-restore-'))).toBe(false);
    // The server's write is there, and once it has gone the restore goes ahead.
    await server.close();
    const restored = tripcal(['--data-dir', dataDir, 'restore', file, '--force', '--key', `${file}.vault-key`]);
    expect(restored.code, restored.stderr).toBe(0);
  });

  test('a damaged backup, a foreign file or one from a newer tripcal changes nothing', () => {
    const dataDir = tempDir();
    const file = join(tempDir(), 'b.db');
    expect(tripcal(['--data-dir', dataDir, 'backup', file]).code).toBe(0);
    const newer = new Database(file);
    newer.pragma('user_version = 99');
    newer.close();
    const fresh = tempDir();
    const run = tripcal(['--data-dir', fresh, 'restore', file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('made by a newer tripcal');
    const notes = join(tempDir(), 'notes.db');
    writeFileSync(notes, 'not a database\n'.repeat(100));
    const foreign = tripcal(['--data-dir', fresh, 'restore', notes]);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/cannot be read as a tripcal backup|damaged/);
    expect(foreign.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(fresh, 'tripcal.db'))).toBe(false);
  });
});
