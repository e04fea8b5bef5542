// `tripcal import FILE [--trip ID]`: an .ics file's events become activities; schema.org
// reservations (JSON-LD, or HTML / an e-mail carrying it) become flights, stays and activities.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { itemSummary } from '../events/desired.js';
import type { Item } from '../model/types.js';
import { MAX_RESERVATION_CHARS } from '../trips/booking-text.js';
import { importReservations } from '../trips/reservations.js';
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
    if (error instanceof InputError && error.field === 'content') throw new InputError('FILE', `${file}: ${error.message.slice('content: '.length)}`);
    throw error;
  }
}

export async function importCommand(file: string, options: ImportOptions): Promise<void> {
  let text: string;
  try {
    // A booking file is read whole: one larger than any booking is refused before it is read.
    const size = statSync(file).size;
    if (size > MAX_RESERVATION_CHARS) {
      throw new InputError('FILE', `${file} is ${size.toLocaleString('en-US')} bytes; a file to import may be at most ${MAX_RESERVATION_CHARS.toLocaleString('en-US')} (5 MB), nothing was imported`);
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('FILE', `cannot read ${file}: ${(error as Error).message}`);
  }
  // JSON, or text carrying JSON-LD, is reservations; else BEGIN:VCALENDAR is iCalendar; else neither.
  const isJson = /^\s*[[{]/.test(text);
  const isIcs = !isJson && /^BEGIN:VCALENDAR/m.test(text) && !/application\/ld\+json/i.test(text);
  if (!isIcs && !isJson && !/ld\+json|schema\.org/i.test(text)) {
    throw new InputError('FILE', `${file} is neither iCalendar (BEGIN:VCALENDAR) nor schema.org reservations (JSON-LD, or HTML / an e-mail carrying <script type="application/ld+json">)`);
  }
  await withApp(options, async (app) => {
    const result = isIcs
      ? await app.trips.importIcs(options.user, text, options.trip)
      : await reservationsOf(file, () => importReservations(app.trips, options.user, text, options.trip));
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
