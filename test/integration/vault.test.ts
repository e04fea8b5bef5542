// The vault: secrets encrypted at rest, a key file only its owner can read, a clear error for a
// wrong key, and `tripcal auth caldav` storing a checked password that sync then uses.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp } from '../../src/app.js';
import { Vault, VaultKeyError } from '../../src/auth/vault.js';
import { Store } from '../../src/store/store.js';
import { listStored } from '../support/caldav.js';
import { flight } from '../support/items.js';
import { CLI, tempDir } from '../support/mcp.js';
import { startRadicale, type Radicale } from '../support/radicale.js';
import { sql } from '../support/sqlite.js';

const SECRET = 'correct horse battery staple 42';

describe('the vault', () => {
  test('stores secrets encrypted: neither the database nor its WAL holds the plain text', async () => {
    const dir = tempDir();
    const store = await Store.open(dir);
    const vault = new Vault(store.secrets, dir, {});
    await vault.set('caldav:home:password', SECRET);
    expect(await vault.get('caldav:home:password')).toBe(SECRET);
    for (const file of ['tripcal.db', 'tripcal.db-wal']) {
      const bytes = readFileSync(join(dir, file));
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
      expect(bytes.includes(Buffer.from('battery'))).toBe(false);
    }
    expect(statSync(join(dir, 'vault.key')).mode & 0o777).toBe(0o600);
    await store.close();
  });

  test('a wrong key is a clear error, never garbage', async () => {
    const dir = tempDir();
    const store = await Store.open(dir);
    await new Vault(store.secrets, dir, { TRIPCAL_ENCRYPTION_KEY: 'the right passphrase' }).set('s', SECRET);
    const wrong = new Vault(store.secrets, dir, { TRIPCAL_ENCRYPTION_KEY: 'another passphrase' });
    await expect(wrong.get('s')).rejects.toThrow(VaultKeyError);
    await expect(wrong.get('s')).rejects.toThrow(/TRIPCAL_ENCRYPTION_KEY\) is not the one/);
    expect(await new Vault(store.secrets, dir, { TRIPCAL_ENCRYPTION_KEY: 'the right passphrase' }).get('s')).toBe(SECRET);
    await store.close();
  });

  test('a value moved to another name does not decrypt', async () => {
    const dir = tempDir();
    const store = await Store.open(dir);
    const vault = new Vault(store.secrets, dir, {});
    await vault.set('a', SECRET);
    await vault.set('b', 'other');
    await sql(store).run("UPDATE secrets SET value = (SELECT value FROM secrets WHERE name = 'a') WHERE name = 'b'");
    await expect((async () => await vault.get('b'))()).rejects.toThrow(/cannot be decrypted/);
    await store.close();
  });
});

describe('tripcal auth caldav', () => {
  let radicale: Radicale;
  beforeAll(async () => {
    radicale = await startRadicale();
  });
  afterAll(async () => {
    await radicale?.stop();
  });

  test('checks the password, stores it encrypted, and sync uses it; a wrong one is refused', async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `accounts:\n  - name: home\n    provider: caldav\n    url: ${radicale.url}/\n    username: ${radicale.username}\n    calendar: Vaulted\n`);
    const run = (input: string) => spawnSync(process.execPath, [CLI, 'auth', 'caldav', 'home', '--config', config, '--data-dir', dir], { input, encoding: 'utf8' });

    const wrong = run('not the password\n');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/password: .*nothing stored/);

    const right = run(`${radicale.password}\n`);
    expect(right.status).toBe(0);
    expect(right.stdout).toMatch(/Stored the password of account "home", encrypted with the key from .*vault\.key/);
    const raw = new Database(join(dir, 'tripcal.db'), { readonly: true });
    expect(JSON.stringify(raw.prepare('SELECT * FROM secrets').all())).not.toContain(radicale.password);
    raw.close();

    // No secret in any output, even at debug level.
    const synced = spawnSync(process.execPath, [CLI, 'sync', '--config', config, '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, TRIPCAL_LOG_LEVEL: 'debug' } });
    expect(synced.status).toBe(0);
    expect(`${synced.stdout}${synced.stderr}${wrong.stdout}${wrong.stderr}${right.stderr}`).not.toContain(radicale.password);

    const app = await openApp({ dataDir: dir, configPath: config });
    try {
      await app.trips.addItem(undefined, flight('Delta', 'DL1', 'JFK', 'LAX', '2025-07-01T10:00', '2025-07-01T13:00'), { path: 'f' });
      expect((await app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 1 } });
      expect(await listStored(radicale, `/${radicale.username}/vaulted/`)).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  test('an account without any password says how to give one', async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `accounts:\n  - name: home\n    provider: caldav\n    url: ${radicale.url}/\n    username: ${radicale.username}\n`);
    const app = await openApp({ dataDir: dir, configPath: config });
    try {
      const [report] = await app.sync.sync();
      expect(report).toMatchObject({ status: 'needs_reauth' });
      expect(report!.message).toMatch(/account "home" has no password\. To fix it, .*password: \$\{CALDAV_PASSWORD\}.* or run `tripcal auth caldav home`/);
    } finally {
      await app.close();
    }
  });
});
