// The token vault: secrets (CalDAV passwords, Google OAuth tokens) encrypted at rest with
// AES-256-GCM, a random 96-bit nonce per value and the secret's name as associated data (a
// value cannot be moved to another name). The key comes from TRIPCAL_ENCRYPTION_KEY or from
// <data-dir>/vault.key, created with mode 0600 on first use. A wrong key is a clear error,
// never garbage: a check value written with the key must decrypt first. A key file that has
// gone missing is never quietly replaced while secrets made with it remain: `tripcal auth reset`
// is the way out when the key is lost for good.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretRows } from '../store/secrets.js';
import { TripcalError } from '../errors.js';

const FORMAT = 'v1';
const CHECK = 'vault:check';
const KEY_FILE = 'vault.key';

/** The way out of a lost key, for every message about it. */
export const RESET_HINT = 'put the right key back (the vault.key file, or TRIPCAL_ENCRYPTION_KEY); if it is lost for good, '
  + 'run `tripcal auth reset --all --yes` to delete the secrets it protected and then connect the accounts again';

export class VaultKeyError extends TripcalError {
  constructor(message: string) {
    super('config', message);
    this.name = 'VaultKeyError';
  }
}

/** What `tripcal doctor` says of the vault; never the key or a secret. */
export interface VaultStatus {
  key_source: string;
  state: 'ok' | 'empty' | 'key_missing' | 'wrong_key' | 'bad_key_file';
  secrets: number;
  detail: string;
}

/** 32 bytes from the environment: hex or base64 of exactly 32 bytes, else a passphrase stretched with scrypt. */
function keyFromEnv(value: string): Buffer {
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  const b64 = Buffer.from(value, 'base64');
  if (b64.length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(value)) return b64;
  return scryptSync(value, 'tripcal-vault-v1', 32);
}

/** The key a data directory would use now, as a vault.key file holds it; null when there is none yet. */
export function configuredKeyText(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TRIPCAL_ENCRYPTION_KEY) return keyFromEnv(env.TRIPCAL_ENCRYPTION_KEY).toString('base64');
  const path = join(dataDir, KEY_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
}

export const VAULT_KEY_FILE = KEY_FILE;

export class Vault {
  private key: Buffer | undefined;

  constructor(
    private readonly rows: SecretRows,
    private readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Where the key comes from, for messages (never the key itself). */
  keySource(): string {
    return this.env.TRIPCAL_ENCRYPTION_KEY ? 'TRIPCAL_ENCRYPTION_KEY' : join(this.dataDir, KEY_FILE);
  }

  private async loadKey(): Promise<Buffer> {
    if (this.key) return this.key;
    let key: Buffer;
    if (this.env.TRIPCAL_ENCRYPTION_KEY) {
      key = keyFromEnv(this.env.TRIPCAL_ENCRYPTION_KEY);
    } else {
      const path = join(this.dataDir, KEY_FILE);
      if (!existsSync(path)) {
        const held = await this.count();
        if (held > 0) {
          throw new VaultKeyError(`the encryption key file ${path} is missing, and this data directory holds ${held} secret${held === 1 ? '' : 's'} `
            + `encrypted with it (calendar passwords or tokens, feed links); ${RESET_HINT}`);
        }
        // Nothing was protected by the old key but its check value: start afresh.
        await this.rows.delete(CHECK);
        try {
          writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
        } catch (error) {
          // Another process created it first: use theirs.
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
      if (key.length !== 32) throw new VaultKeyError(`${path} does not hold a 32-byte key (base64)`);
    }
    const check = await this.checkValue();
    if (check !== undefined) {
      if (this.decryptWith(key, CHECK, check) === null) {
        throw new VaultKeyError(`the encryption key (${this.keySource()}) is not the one this data directory's secrets were stored with; ${RESET_HINT}`);
      }
    } else {
      await this.rows.putIfAbsent(CHECK, this.encryptWith(key, CHECK, 'ok'));
    }
    this.key = key;
    return key;
  }

  private checkValue(): Promise<string | undefined> {
    return this.rows.value(CHECK);
  }

  /** Secrets stored, not counting the key check. */
  private count(): Promise<number> {
    return this.rows.countExcept(CHECK);
  }

  /**
   * A key for one purpose, derived from the vault's (HMAC-SHA256): every process on this data
   * directory (a daemon and its replicas) derives the same one, and it tells nothing of the vault key.
   */
  async derivedKey(purpose: string): Promise<Buffer> {
    return createHmac('sha256', await this.loadKey()).update(`tripcal:${purpose}`).digest();
  }

  /** The key as a vault.key file holds it (base64), for `tripcal backup --with-key`; checked first. */
  async keyText(): Promise<string> {
    return (await this.loadKey()).toString('base64');
  }

  /**
   * Whether the key in `keyText` (a vault.key file's content) opens the secrets of `db`: null when
   * that database holds no secrets, so any key will do.
   */
  static async keyOpens(rows: SecretRows, keyText: string): Promise<boolean | null> {
    const check = await rows.value(CHECK);
    if (!check || (await rows.countExcept(CHECK)) === 0) return null;
    const key = Buffer.from(keyText.trim(), 'base64');
    return key.length === 32 && new Vault(rows, '').decryptWith(key, CHECK, check) !== null;
  }

  /** Loads and checks the key now (the daemon does this before it starts serving), or throws a VaultKeyError. */
  async check(): Promise<void> {
    await this.loadKey();
  }

  async status(): Promise<VaultStatus> {
    const base = { key_source: this.keySource(), secrets: await this.count() };
    try {
      await this.loadKey();
      return { ...base, state: base.secrets ? 'ok' : 'empty', detail: base.secrets ? 'the key opens the stored secrets' : 'no secrets stored yet' };
    } catch (error) {
      if (!(error instanceof VaultKeyError)) throw error;
      const state = /missing/.test(error.message) ? 'key_missing' : /32-byte/.test(error.message) ? 'bad_key_file' : 'wrong_key';
      return { ...base, state, detail: error.message };
    }
  }

  /**
   * Deletes secrets without needing the key: `names` exactly, or with `all` every secret and the
   * key check, so the next use starts afresh with whatever key is configured. Returns the names removed.
   */
  async reset(target: { names: string[] } | { all: true }): Promise<string[]> {
    // With all: sign-ins under way carry verifiers sealed with the old key, so they go too.
    const removed = await this.rows.remove((name) => ('all' in target ? true : target.names.includes(name)), 'all' in target);
    this.key = undefined;
    return removed.filter((name) => name !== CHECK);
  }

  private encryptWith(key: Buffer, name: string, plain: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}:${nonce.toString('base64')}:${body.toString('base64')}`;
  }

  private decryptWith(key: Buffer, name: string, stored: string): string | null {
    const [format, nonce, body] = stored.split(':');
    if (format !== FORMAT || !nonce || !body) return null;
    try {
      const data = Buffer.from(body, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  async set(name: string, plain: string): Promise<void> {
    const key = await this.loadKey();
    await this.rows.put(name, this.encryptWith(key, name, plain));
  }

  /** Stores `plain` under `name` unless another process stored one first; returns the one kept. */
  async setIfAbsent(name: string, plain: string): Promise<string> {
    await this.rows.putIfAbsent(name, this.encryptWith(await this.loadKey(), name, plain));
    return (await this.get(name))!;
  }

  async get(name: string): Promise<string | null> {
    const value = await this.rows.value(name);
    if (value === undefined) return null;
    const plain = this.decryptWith(await this.loadKey(), name, value);
    if (plain === null) throw new VaultKeyError(`secret "${name}" cannot be decrypted with the key from ${this.keySource()}; ${RESET_HINT}`);
    return plain;
  }

  /** Encrypts a value kept elsewhere (e.g. a PKCE verifier in oauth_states), bound to `name`. */
  async seal(name: string, plain: string): Promise<string> {
    return this.encryptWith(await this.loadKey(), name, plain);
  }

  async open(name: string, sealed: string): Promise<string> {
    const plain = this.decryptWith(await this.loadKey(), name, sealed);
    if (plain === null) throw new VaultKeyError(`"${name}" cannot be decrypted with the key from ${this.keySource()}`);
    return plain;
  }

  has(name: string): Promise<boolean> {
    return this.rows.has(name);
  }

  delete(name: string): Promise<void> {
    return this.rows.delete(name);
  }
}

// The vault names of each provider's secrets, as the provider folders define them.
export { caldavPasswordSecret } from '../../providers/caldav/index.js';
export { googleTokensSecret } from '../../providers/google/index.js';
export { outlookCacheSecret } from '../../providers/outlook/index.js';
export { accountSecrets } from '../../providers/registry.js';
