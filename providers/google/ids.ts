// Google event ids we choose: base32hex (RFC 4648 §7, lower case: a-v and 0-9), 5–1024
// characters (reference §4). Derived from the key, so the same desired event always has the same
// id in a calendar and a create repeated after a lost answer meets a 409 instead of a copy.
const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

export function eventIdForKey(key: string): string {
  const bytes = Buffer.from(`tripcal:${key}`, 'utf8');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out.slice(0, 1024);
}
