// A zip (an Apple Wallet pass is one) checked before the extractor sees it: the extractor
// inflates every entry whole into memory, so a pass.json of a gigabyte compressed into a megabyte
// would take that gigabyte. Each entry is inflated here with a ceiling on its output (the sizes a
// zip declares can lie), and an archive of more entries than a pass ever has is refused.
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';

/** A pass holds pass.json, a manifest, a signature, a few images and localizations. */
export const MAX_ZIP_ENTRIES = 200;
/** All entries inflated together, at most: a pass's images are a few hundred KB. */
export const MAX_ZIP_INFLATED = 20_000_000;

const refuse = (field: string, why: string) => new InputError(field, `${why}; a Wallet pass is a small zip, so nothing was imported`);

/** Throws an InputError naming `field` when the zip holds too many entries or inflates past the cap. */
export function checkZip(bytes: Buffer, field: string): void {
  // The end of central directory record: in the last 64 KB + 22 bytes.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw refuse(field, 'not a readable zip (no central directory)');
  let at = bytes.readUInt32LE(end + 16);
  let inflated = 0;
  for (let n = 0; at + 46 <= bytes.length && bytes.readUInt32LE(at) === 0x02014b50; n++) {
    if (n >= MAX_ZIP_ENTRIES) throw refuse(field, `more than ${MAX_ZIP_ENTRIES} files in the zip`);
    const method = bytes.readUInt16LE(at + 10);
    const compressed = bytes.readUInt32LE(at + 20);
    const local = bytes.readUInt32LE(at + 42);
    const next = at + 46 + bytes.readUInt16LE(at + 28) + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50) throw refuse(field, 'a damaged zip (an entry points outside the file)');
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(start, Math.min(bytes.length, start + compressed));
    if (method === 0) inflated += data.length;
    else if (method === 8) {
      try {
        inflated += inflateRawSync(data, { maxOutputLength: MAX_ZIP_INFLATED - inflated + 1, finishFlush: 2 /* Z_SYNC_FLUSH: a cut stream is not an error here */ }).length;
      } catch (error) {
        if (error instanceof RangeError) throw refuse(field, `the zip inflates to more than ${MAX_ZIP_INFLATED.toLocaleString('en-US')} bytes (a zip bomb)`);
        throw refuse(field, 'a damaged zip (an entry does not inflate)');
      }
    } else throw refuse(field, `a zip entry compressed with method ${method}, which no Wallet pass uses`);
    if (inflated > MAX_ZIP_INFLATED) throw refuse(field, `the zip inflates to more than ${MAX_ZIP_INFLATED.toLocaleString('en-US')} bytes (a zip bomb)`);
    at = next;
  }
}
