// Passwords for the built-in authorization server's sign-in page, stored as a slow hash: scrypt
// (RFC 7914) with a random 16-byte salt, N = 2^15, r = 8, p = 1 (32 MiB and some tens of
// milliseconds per try), written `scrypt$N$r$p$salt$hash` so the cost can be raised later and
// old hashes still check. Comparison is constant time; checking a user without a password costs
// the same as checking one with (a dummy hash), so the time taken does not tell which exists.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** Shortest password `tripcal user passwd` accepts. */
export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  // maxmem: 128 · N · r bytes are needed, over Node's 32 MiB default at N = 2^15.
  const maxmem = 256 * (options.N ?? N) * (options.r ?? R) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...options, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

let dummy: Promise<string> | undefined;

/** Whether `password` matches `stored`; with no stored hash, false after the same work. */
export async function checkPassword(password: string, stored: string | undefined): Promise<boolean> {
  const hash = stored ?? await (dummy ??= hashPassword(randomBytes(16).toString('hex')));
  const [scheme, n, r, p, salt, key] = hash.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const got = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected) && stored !== undefined;
}
