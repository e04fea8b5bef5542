// `tripcal backup FILE`: a consistent copy of the model while tripcal runs (SQLite's online
// backup), readable only by its owner. The secrets in it stay encrypted with the vault key, which
// is not in the copy unless asked for (--with-key writes it beside the copy): a backup without
// its key restores the trips but not the calendar connections.
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { withApp, type GlobalOptions } from './common.js';

export interface BackupOptions extends GlobalOptions {
  withKey?: boolean;
  force?: boolean;
}

export async function backupCommand(file: string, options: BackupOptions): Promise<void> {
  const target = resolve(file);
  const keyFile = `${target}.vault-key`;
  if (!options.force && existsSync(target)) throw new InputError('file', `${target} exists; pass --force to replace it`);
  await withApp(options, async (app) => {
    rmSync(target, { force: true });
    await app.store.backup(target);
    chmodSync(target, 0o600);
    const { trips, items } = await app.store.counts();
    const vault = await app.vault.status();
    process.stdout.write(`Wrote ${target}: ${trips} trip${trips === 1 ? '' : 's'}, ${items} item${items === 1 ? '' : 's'}, schema version ${await app.store.schemaVersion()}.\n`);
    if (options.withKey) {
      writeFileSync(keyFile, `${await app.vault.keyText()}\n`, { mode: 0o600 });
      process.stdout.write(`Wrote the vault key to ${keyFile} (mode 0600). Anyone with both files can read the calendar passwords and tokens: keep them apart, or both somewhere safe.\n`);
    } else if (vault.secrets > 0) {
      process.stdout.write(`Its ${vault.secrets} secret${vault.secrets === 1 ? '' : 's'} (calendar passwords and tokens, feed links) are encrypted with the key from ${vault.key_source}, `
        + 'which is not in the backup: keep a copy of that key somewhere safe (or run again with --with-key). '
        + 'Without it a restore brings back the trips, and the calendar accounts must be connected again.\n');
    }
  });
}
