// `tripcal restore FILE`: puts a backup in place of the data directory's database. Nothing is
// lost on the way: the backup is checked first (intact, a tripcal database, not newer than this
// tripcal, its secrets opened by the key that will be used), no daemon may be running, a model
// already there is replaced only with --force and kept beside it, and the copy is moved into
// place whole. An older backup is brought up to date by the usual migrations.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configuredKeyText, Vault, VAULT_KEY_FILE } from '../auth/vault.js';
import { loadConfig } from '../config/load.js';
import { DaemonLock, Presence } from '../daemon/lock.js';
import { InputError } from '../errors.js';
import { openDatabase } from '../store/database.js';
import { dropSecrets, inspectBackup, liveTrips } from '../store/files.js';
import { MIGRATIONS } from '../store/migrations.js';
import { DB_FILE } from '../store/store.js';
import type { GlobalOptions } from './common.js';

export interface RestoreOptions extends GlobalOptions {
  key?: string;
  force?: boolean;
  dropSecrets?: boolean;
}

/** Live trips in the database now there, or null when there is none (-1: there, but damaged). */
function currentTrips(path: string): number | null {
  return existsSync(path) ? liveTrips(path) : null;
}

export async function restoreCommand(file: string, options: RestoreOptions): Promise<void> {
  const source = resolve(file);
  const { dataDir } = loadConfig({ configPath: options.config, dataDir: options.dataDir });
  if (options.key && process.env.TRIPCAL_ENCRYPTION_KEY) {
    throw new InputError('key', 'TRIPCAL_ENCRYPTION_KEY is set, so a key file would not be used: set that variable to the backup\'s key instead, or unset it');
  }
  if (!existsSync(source)) throw new InputError('file', `${source} does not exist`);
  const keyText = options.key ? readFileSync(resolve(options.key), 'utf8').trim() : configuredKeyText(dataDir);
  // No key at all opens nothing: a backup holding secrets then needs --key (or --drop-secrets).
  const checked = await inspectBackup(source, (rows) => Vault.keyOpens(rows, keyText ?? ''));
  if (checked.secrets === false && !options.dropSecrets) {
    const which = options.key ? `another key than ${resolve(options.key)}` : keyText === null ? 'a key this data directory does not have (it has none yet)' : 'another key than this data directory\'s';
    throw new InputError(options.key ? 'key' : 'file', `the backup's secrets were encrypted with ${which}; `
      + 'pass --key FILE (the .vault-key written beside the backup by --with-key, or your old vault.key). If that key is lost, restore with '
      + '--drop-secrets: the trips come back, and the calendar accounts must be connected again. Nothing was changed');
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = DaemonLock.take(dataDir, true); // refuses while a daemon runs, and keeps one from starting meanwhile
  try {
    // `tripcal serve` (kept running by an MCP client) or another command with the model open
    // would go on writing into the file moved aside: nothing may have it open.
    const open = Presence.others(dataDir);
    if (open.length > 0) {
      throw new InputError('file', `${open.map((o) => `tripcal ${o.command} (pid ${o.pid})`).join(', ')} ${open.length === 1 ? 'has' : 'have'} this data directory open; `
        + 'stop it first (quit the MCP client that started `tripcal serve`, e.g. Claude Desktop). Nothing was changed');
    }
    const target = join(dataDir, DB_FILE);
    const existing = currentTrips(target);
    if (existing !== null && !options.force) {
      throw new InputError('force', `${target} is there already (${existing < 0 ? 'damaged' : `${existing} trip${existing === 1 ? '' : 's'}`}); `
        + 'pass --force to replace it (the one there now is kept as tripcal.db.before-restore-…). Nothing was changed');
    }
    const staged = join(dataDir, `.restore-${process.pid}.db`);
    copyFileSync(source, staged);
    if (options.dropSecrets) dropSecrets(staged);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (existing !== null) {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(target + suffix)) renameSync(target + suffix, `${target}.before-restore-${stamp}${suffix}`);
    }
    renameSync(staged, target);
    if (options.key) {
      const keyPath = join(dataDir, VAULT_KEY_FILE);
      if (existsSync(keyPath)) renameSync(keyPath, `${keyPath}.before-restore-${stamp}`);
      writeFileSync(keyPath, `${keyText}\n`, { mode: 0o600 });
    }
    openDatabase(target).close(); // migrations bring an older backup up to date
    process.stdout.write(`Restored ${checked.trips} trip${checked.trips === 1 ? '' : 's'} and ${checked.items} item${checked.items === 1 ? '' : 's'} from ${source} into ${target}`
      + `${checked.version < MIGRATIONS.length ? ` (schema ${checked.version} → ${MIGRATIONS.length})` : ''}.\n`
      + (existing !== null ? `The model that was there is kept as ${target}.before-restore-${stamp}.\n` : '')
      + (options.dropSecrets ? 'Its secrets were left out: connect the calendar accounts again (tripcal auth caldav|google|outlook ACCOUNT); the feed links are new.\n' : ''));
  } finally {
    rmSync(join(dataDir, `.restore-${process.pid}.db`), { force: true });
    lock.release();
  }
}
