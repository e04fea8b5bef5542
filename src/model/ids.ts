// Random identifiers in the base32hex alphabet (0-9a-v): safe in URLs, file names, CalDAV hrefs
// and Google event ids alike.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

export function randomId(prefix: string, length = 12): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return `${prefix}${out}`;
}

export const newTripId = () => randomId('trip_');
export const newItemId = () => randomId('item_');
