// The text a booking arrives in, read without anything that backtracks: an e-mail's MIME parts
// (base64 or quoted-printable), the `<script type="application/ld+json">` blocks of HTML, and
// JSON checked for depth before it is parsed. Everything here is a linear scan with a limit, so
// a hostile document of megabytes costs milliseconds.
import { InputError } from '../errors.js';

const hexValue = (c: number | undefined): number =>
  c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

/** Quoted-printable to text, in one pass over the bytes. */
function decodeQuotedPrintable(body: string): string {
  const bytes = Buffer.from(body.replace(/=\r?\n/g, ''), 'latin1');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const high = bytes[i] === 0x3d ? hexValue(bytes[i + 1]) : -1;
    const low = high >= 0 ? hexValue(bytes[i + 2]) : -1;
    if (low >= 0) {
      out[n++] = high * 16 + low;
      i += 2;
    } else out[n++] = bytes[i]!;
  }
  return out.subarray(0, n).toString('utf8');
}

/** Largest document import_reservations and `tripcal import` read (the MCP tool's `content` cap too). */
export const MAX_RESERVATION_CHARS = 5_000_000;
/** ld+json blocks read from one file at most. */
export const MAX_LD_JSON_BLOCKS = 1_000;
/** JSON-LD deeper than this is refused (real bookings are under 10 levels). */
export const MAX_JSON_DEPTH = 100;
/** MIME boundaries honoured at most (a real e-mail has a handful). */
const MAX_BOUNDARIES = 50;

/**
 * Every MIME part's body, decoded by its Content-Transfer-Encoding (the whole text when it is not
 * MIME). Delimiter lines are found line by line against a set of boundaries, never with one
 * regular expression made of them all (which is quadratic in the number of boundaries).
 */
function mimeBodies(text: string): string[] {
  const boundaries = new Set<string>();
  for (const m of text.matchAll(/boundary\s*=\s*"?([^";\r\n]+)"?/gi)) {
    if (boundaries.size >= MAX_BOUNDARIES) break;
    const b = m[1]!.trim();
    if (b) boundaries.add(b);
  }
  if (boundaries.size === 0) return [decodePart(text)];
  const parts: string[] = [];
  let partStart = 0;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (text.startsWith('--', lineStart)) {
      let line = text.slice(lineStart + 2, lineEnd).replace(/[ \t\r]+$/, '');
      if (line.endsWith('--') && !boundaries.has(line)) line = line.slice(0, -2);
      if (boundaries.has(line)) {
        // The line break before a delimiter belongs to it (RFC 2046), as it did with split().
        parts.push(text.slice(partStart, Math.max(partStart, lineStart - 1)));
        partStart = lineEnd + 1;
      }
    }
    lineStart = lineEnd + 1;
  }
  parts.push(text.slice(Math.min(partStart, text.length)));
  return parts.map(decodePart);
}

function decodePart(part: string): string {
  const split = /\r?\n\r?\n/.exec(part);
  if (!split) return part;
  const headers = part.slice(0, split.index);
  const body = part.slice(split.index + split[0].length);
  const encoding = /^content-transfer-encoding:[ \t]*([\w-]+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return part;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

/** The value of the `type` attribute in a tag's attribute text, read in one pass (no regex). */
function typeAttribute(attrs: string): string | undefined {
  let i = 0;
  const n = attrs.length;
  while (i < n) {
    while (i < n && (isSpace(attrs[i]) || attrs[i] === '/')) i++;
    const nameStart = i;
    while (i < n && !isSpace(attrs[i]) && attrs[i] !== '=' && attrs[i] !== '/') i++;
    const name = attrs.slice(nameStart, i).toLowerCase();
    while (i < n && isSpace(attrs[i])) i++;
    let value = '';
    if (attrs[i] === '=') {
      i++;
      while (i < n && isSpace(attrs[i])) i++;
      const quote = attrs[i];
      if (quote === '"' || quote === "'") {
        const close = attrs.indexOf(quote, i + 1);
        const end = close < 0 ? n : close;
        value = attrs.slice(i + 1, end);
        i = end + 1;
      } else {
        const valueStart = i;
        while (i < n && !isSpace(attrs[i])) i++;
        value = attrs.slice(valueStart, i);
      }
    }
    if (name === 'type') return value;
    if (i === nameStart) i++; // never stand still
  }
  return undefined;
}

/**
 * The bodies of a document's `<script type="application/ld+json">` elements. One forward scan
 * with indexOf: each `<`, `>` and `</script` is looked for once from a moving position, and the
 * scan stops at the first tag or script that is never closed (nothing after it can be), so the
 * time is linear in the length whatever the text (no regex that can backtrack).
 */
export function ldJsonScripts(body: string, limit = Infinity): string[] {
  const found: string[] = [];
  let pos = 0;
  for (;;) {
    const open = body.indexOf('<', pos);
    if (open < 0) break;
    pos = open + 1;
    if (body.slice(open + 1, open + 7).toLowerCase() !== 'script') continue;
    const after = body[open + 7];
    if (after !== '>' && after !== '/' && !isSpace(after)) continue;
    const gt = body.indexOf('>', open + 7);
    if (gt < 0) break;
    const type = typeAttribute(body.slice(open + 7, gt));
    // The element's end: the next `</script` (scripts do not nest).
    let close = body.indexOf('</', gt + 1);
    while (close >= 0 && body.slice(close + 2, close + 8).toLowerCase() !== 'script') close = body.indexOf('</', close + 2);
    if (close < 0) break;
    pos = close + 8;
    if (type?.split(';')[0]!.trim().toLowerCase() !== 'application/ld+json') continue;
    found.push(body.slice(gt + 1, close));
    if (found.length > limit) break;
  }
  return found;
}

export const tooDeep = () => new InputError('content', `JSON-LD nested deeper than ${MAX_JSON_DEPTH} levels; a booking is never that deep (nothing was imported)`);

/** Whether JSON text opens more than `max` arrays or objects inside each other (one pass, strings skipped), before JSON.parse builds them. */
function nestedDeeper(json: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      // A string: to its unescaped closing quote.
      for (i++; i < json.length; i++) {
        const d = json.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The JSON-LD values in a file: JSON itself, or the ld+json scripts of HTML or an e-mail. */
export function findJsonLd(text: string): { values: unknown[]; errors: string[] } {
  const values: unknown[] = [];
  const errors: string[] = [];
  const parse = (json: string, where: string) => {
    if (nestedDeeper(json, MAX_JSON_DEPTH)) throw tooDeep();
    try {
      values.push(JSON.parse(json));
    } catch (error) {
      errors.push(`${where} is not valid JSON (${(error as Error).message})`);
    }
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    parse(trimmed, 'the file');
    return { values, errors };
  }
  let n = 0;
  for (const body of mimeBodies(text)) {
    for (const script of ldJsonScripts(body, MAX_LD_JSON_BLOCKS - n)) {
      if (++n > MAX_LD_JSON_BLOCKS) {
        throw new InputError('content', `more than ${MAX_LD_JSON_BLOCKS} <script type="application/ld+json"> blocks; tripcal reads at most ${MAX_LD_JSON_BLOCKS} from one file (nothing was imported)`);
      }
      let json = script.trim();
      if (json.startsWith('<!--')) json = json.slice(4);
      if (json.endsWith('-->')) json = json.slice(0, -3);
      parse(json, `ld+json block ${n}`);
    }
  }
  return { values, errors };
}
