// Any travel document, as bytes: what it is decides how it is read. Text carrying JSON-LD
// (JSON, HTML, an e-mail with ld+json) is read here as it always was (reservations.ts); what has
// no markup — a PDF, an Apple Wallet pass, a barcode's image or text, a vendor's plain e-mail —
// goes to KDE's itinerary extractor (extractor.ts) when it is installed, and its JSON-LD is
// mapped the same way. Nothing is stored until a document has been read whole.
import { InputError } from '../errors.js';
import { MAX_RESERVATION_CHARS } from './booking-text.js';
import { INSTALL_HINT, locateExtractor, runExtractor, type ExtractorSettings } from './extractor.js';
import { importFound, readReservations, type ReservationImport } from './reservations.js';
import type { Trips } from './service.js';
import { checkZip } from './zip-check.js';

export interface IncomingDocument {
  bytes: Buffer;
  /** The field a refusal names: content (MCP text), content_base64 (MCP bytes) or FILE (the CLI). */
  field: string;
  /** Hints from the caller: the file's name, its media type. The bytes decide; these only help. */
  filename?: string;
  mediaType?: string;
  /** When the file was last written (the CLI's file): a boarding pass's year is read against it. */
  modified?: Date;
}

/** What a document looks like from its first bytes, as messages name it, and the extension the extractor is given. */
interface Kind {
  label: string;
  extension: string;
  binary: boolean;
}

const startsWith = (bytes: Buffer, magic: string, at = 0) => bytes.subarray(at, at + magic.length).equals(Buffer.from(magic, 'latin1'));

function kindOf(doc: IncomingDocument, text: string | null): Kind {
  const { bytes } = doc;
  const name = doc.filename?.toLowerCase() ?? '';
  if (bytes.subarray(0, 1024).includes('%PDF-')) return { label: 'a PDF', extension: '.pdf', binary: true };
  if (startsWith(bytes, 'PK\x03\x04')) {
    const pass = name.endsWith('.pkpass') || doc.mediaType === 'application/vnd.apple.pkpass' || bytes.includes('pass.json');
    return { label: pass ? 'an Apple Wallet pass' : 'a zip archive', extension: pass ? '.pkpass' : '.zip', binary: true };
  }
  if (startsWith(bytes, '\x89PNG\r\n\x1a\n')) return { label: 'a PNG image', extension: '.png', binary: true };
  if (startsWith(bytes, '\xff\xd8\xff')) return { label: 'a JPEG image', extension: '.jpg', binary: true };
  if (startsWith(bytes, 'GIF8')) return { label: 'a GIF image', extension: '.gif', binary: true };
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WEBP', 8)) return { label: 'a WebP image', extension: '.webp', binary: true };
  if (text === null) return { label: 'a binary file', extension: '.bin', binary: true };
  if (/^(from|received|date|subject|return-path|delivered-to|mime-version):/im.test(text.slice(0, 4096))) return { label: 'an e-mail', extension: '.eml', binary: false };
  return { label: 'text', extension: '.txt', binary: false };
}

/** The bytes as text when they are UTF-8 without NUL (what a person or a mail program writes), else null. */
export function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** When the document arrived: an e-mail's Date header, else the file's time, else now. */
export function contextDate(doc: IncomingDocument, now = new Date()): Date {
  const head = doc.bytes.subarray(0, 65_536).toString('latin1');
  const blank = head.search(/\r?\n\r?\n/);
  const headers = blank < 0 ? head : head.slice(0, blank);
  const sent = /^date:[ \t]*([^\r\n]{1,100})/im.exec(headers)?.[1];
  const parsed = sent ? new Date(sent) : undefined;
  if (parsed && !Number.isNaN(parsed.getTime())) return parsed;
  return doc.modified && !Number.isNaN(doc.modified.getTime()) ? doc.modified : now;
}

/** The refusal when the extractor is not there, saying what it would have read. */
function extractorMissing(field: string, kind: Kind, location: ReturnType<typeof locateExtractor>): InputError {
  const what = `this looks like ${kind.label}; tripcal reads PDFs, Apple Wallet passes, boarding-pass barcodes and e-mails without markup with KDE's itinerary extractor`;
  const why = location.state === 'off'
    ? 'which is turned off here (import.extractor: false, or TRIPCAL_EXTRACTOR=off)'
    : location.state === 'missing' && location.path
      ? `which is not at ${location.path} (import.extractor or TRIPCAL_EXTRACTOR): install it with \`${INSTALL_HINT}\` or give its path`
      : `which is not installed: \`${INSTALL_HINT}\` (Debian, Ubuntu), or set import.extractor / TRIPCAL_EXTRACTOR to its path`;
  return new InputError(field, `${what}, ${why}. Nothing was imported`);
}

/** An InputError about `content` (reservations.ts's field) named as the document's field. */
function refield<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputError && error.field === 'content' && field !== 'content') throw new InputError(field, error.message.slice('content: '.length));
    throw error;
  }
}

const foundNothing = (read: ReturnType<typeof readReservations>) => read.found.length === 0 && read.skipped.every((s) => s.type === 'JSON-LD');

/** A file name for the temp copy: the caller's extension when it is a plain one, else the kind's. */
function tempName(doc: IncomingDocument, kind: Kind): string {
  const extension = /(\.[A-Za-z0-9]{1,10})$/.exec(doc.filename ?? '')?.[1];
  return `document${extension && !kind.binary ? extension.toLowerCase() : kind.extension}`;
}

/** Whether a text is one tripcal reads itself: JSON, or markup that may carry JSON-LD. */
export const hasMarkup = (text: string) => /^\s*[[{]/.test(text) || /ld\+json|schema\.org/i.test(text);

/**
 * The reservations in a document: JSON-LD read here when the text has it, else the extractor's
 * reading. Text the extractor finds nothing in either keeps the JSON-LD reading's "no JSON-LD
 * found"; a binary document it finds nothing in is refused (damaged, or not a travel document).
 */
export async function readDocument(settings: ExtractorSettings, doc: IncomingDocument): Promise<ReturnType<typeof readReservations>> {
  // Text given as text keeps its own cap, in characters (readReservations); bytes are capped here.
  const tooLarge = () => new InputError(doc.field, `${doc.bytes.length.toLocaleString('en-US')} bytes; a document to import may be at most ${MAX_RESERVATION_CHARS.toLocaleString('en-US')} (5 MB), nothing was imported`);
  if (doc.field !== 'content' && doc.bytes.length > MAX_RESERVATION_CHARS) throw tooLarge();
  const text = asText(doc.bytes);
  const kind = kindOf(doc, text);
  const marked = text !== null && !kind.binary ? refield(doc.field, () => readReservations(text)) : undefined;
  if (marked && (hasMarkup(text!) || !foundNothing(marked))) return marked;
  const location = locateExtractor(settings);
  if (location.state !== 'found') {
    if (!marked) throw extractorMissing(doc.field, kind, location);
    // Text as before, with the way to read more of it.
    const hint = `; KDE's itinerary extractor would read e-mails without markup and boarding-pass codes (${INSTALL_HINT})`;
    return { ...marked, skipped: marked.skipped.map((s) => (s.type === 'JSON-LD' ? { ...s, reason: s.reason + hint } : s)) };
  }
  if (doc.bytes.length > MAX_RESERVATION_CHARS) throw tooLarge();
  if (kind.extension === '.pkpass' || kind.extension === '.zip') checkZip(doc.bytes, doc.field);
  const output = await runExtractor({ path: location.path, settings, bytes: doc.bytes, filename: tempName(doc, kind), contextDate: contextDate(doc), field: doc.field });
  const extracted = refield(doc.field, () => readReservations(output.trim() || '[]', { volatileKeys: ['modifiedTime'] }));
  if (!foundNothing(extracted)) return extracted;
  if (marked) {
    return { ...marked, skipped: marked.skipped.map((s) => (s.type === 'JSON-LD' ? { ...s, reason: `${s.reason}; KDE's itinerary extractor found no reservation in it either` } : s)) };
  }
  throw new InputError(doc.field, `KDE's itinerary extractor found no reservation in ${kind.label.replace(/^an? /, 'this ')} (it may be damaged, or a kind of document it does not know); nothing was imported`);
}

/** Adds a document's reservations as items; the same document imported again updates them instead. */
export async function importDocument(trips: Trips, settings: ExtractorSettings, userId: string | undefined, doc: IncomingDocument, tripId?: string): Promise<ReservationImport> {
  return importFound(trips, userId, await readDocument(settings, doc), tripId);
}
