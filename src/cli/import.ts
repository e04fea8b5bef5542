// `tripcal import FILE [--trip ID]`: an .ics file's events become activities; schema.org
// reservations (JSON-LD, or HTML / an e-mail carrying it) become flights, stays and activities;
// any other document (a PDF, a Wallet pass, a barcode's image, a plain e-mail) is read by KDE's
// itinerary extractor when it is installed. The file is read as bytes: the content decides.
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { itemSummary } from '../events/desired.js';
import type { Item } from '../model/types.js';
import { MAX_RESERVATION_CHARS } from '../trips/booking-text.js';
import { asText, hasMarkup, importDocument } from '../trips/documents.js';
import { INSTALL_HINT, locateExtractor } from '../trips/extractor.js';
import { EXIT, withApp, type GlobalOptions } from './common.js';

export interface ImportOptions extends GlobalOptions {
  trip?: string;
  user?: string;
}

/** A refusal of the file's content names the file, as the FILE argument (the MCP tool says `content`). */
async function reservationsOf<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InputError && (error.field === 'content' || error.field === 'FILE')) {
      throw new InputError('FILE', `${file}: ${error.message.slice(`${error.field}: `.length)}`);
    }
    throw error;
  }
}

const NEITHER = 'is neither iCalendar (BEGIN:VCALENDAR) nor schema.org reservations (JSON-LD, or HTML / an e-mail carrying <script type="application/ld+json">)';

/** Whether a reservation import found nothing at all: only the "no JSON-LD found" entry. */
const foundNone = (r: { created: Item[]; updated: Item[]; unchanged: Item[]; skipped: Array<{ type?: string; reason: string }> }) =>
  r.created.length + r.updated.length + r.unchanged.length === 0 && r.skipped.length === 1 && r.skipped[0]!.type === 'JSON-LD' && /^no JSON-LD found/.test(r.skipped[0]!.reason);

export async function importCommand(file: string, options: ImportOptions): Promise<void> {
  let bytes: Buffer;
  let modified: Date;
  try {
    // A booking file is read whole: one larger than any booking is refused before it is read.
    const stat = statSync(file);
    if (stat.size > MAX_RESERVATION_CHARS) {
      throw new InputError('FILE', `${file} is ${stat.size.toLocaleString('en-US')} bytes; a file to import may be at most ${MAX_RESERVATION_CHARS.toLocaleString('en-US')} (5 MB), nothing was imported`);
    }
    modified = stat.mtime;
    bytes = readFileSync(file);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('FILE', `cannot read ${file}: ${(error as Error).message}`);
  }
  const text = asText(bytes);
  // JSON, or text carrying JSON-LD, is reservations; else BEGIN:VCALENDAR is iCalendar; else a document for the extractor.
  const isIcs = text !== null && !/^\s*[[{]/.test(text) && /^BEGIN:VCALENDAR/m.test(text) && !/application\/ld\+json/i.test(text);
  await withApp(options, async (app) => {
    if (text !== null && !isIcs && !hasMarkup(text) && locateExtractor(app.config.import).state !== 'found') {
      throw new InputError('FILE', `${file} ${NEITHER}; KDE's itinerary extractor would read e-mails without markup and boarding-pass codes (${INSTALL_HINT})`);
    }
    const result = isIcs
      ? await app.trips.importIcs(options.user, text!, options.trip)
      : await reservationsOf(file, () => importDocument(app.trips, app.config.import, options.user, { bytes, field: 'FILE', filename: basename(file), modified }, options.trip));
    if (!isIcs && foundNone(result)) throw new InputError('FILE', `${file} ${NEITHER}, and KDE's itinerary extractor found no reservation in it`);
    const line = (word: string, item: Item) =>
      process.stdout.write(`${word.padEnd(10)}${item.id}  ${item.tripId}  ${item.startUtc}  ${itemSummary(item)}\n`);
    result.created.forEach((i) => line('added', i));
    result.updated.forEach((i) => line('updated', i));
    // An .ics import has always listed only what it changed; a reservation import names every item it matched.
    if (!isIcs) result.unchanged.forEach((i) => line('unchanged', i));
    for (const skip of result.skipped) {
      const what = 'uid' in skip ? (skip.uid ?? '(no UID)') : `${skip.type} ${skip.reservation_number ?? '(no number)'}`;
      process.stdout.write(`skipped   ${what}: ${skip.reason}\n`);
    }
    process.stdout.write(`${result.created.length} added, ${result.updated.length} updated, ${result.unchanged.length} unchanged, ${result.skipped.length} skipped\n`);
    // Something in the file was not imported: scripts must not take that for success.
    if (result.skipped.length > 0) {
      process.stderr.write(`tripcal: ${result.skipped.length} of the file's entries ${result.skipped.length === 1 ? 'was' : 'were'} not imported (listed above as skipped)\n`);
      process.exitCode = EXIT.failed;
    }
  });
}
