// `tripcal export TRIP_ID [-o file.ics]` and `tripcal export --all`: RFC 5545 text, streamed to
// stdout or a file item by item, so even thousands of trips export in bounded memory.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { App } from '../app.js';
import { InputError } from '../errors.js';
import { scopeOf, writeCalendar } from '../ics/export.js';
import { withApp, type GlobalOptions } from './common.js';

export interface ExportOptions extends GlobalOptions {
  output?: string;
  user?: string;
  all?: boolean;
}

const CHUNK = 256 * 1024;

/** Writes one trip, or all of a user's trips, to `fd`; returns the calendar's name and event count. */
export async function exportCalendar(app: App, target: { tripId?: string; user?: string }, fd: number): Promise<{ name: string; events: number }> {
  let pending: string[] = [];
  let size = 0;
  const drain = () => {
    if (pending.length) writeSync(fd, pending.join(''));
    pending = [];
    size = 0;
  };
  const write = (text: string) => {
    pending.push(text);
    size += text.length;
    if (size >= CHUNK) drain();
  };
  let name: string;
  let events: number;
  if (target.tripId) {
    const { trip, items } = await app.trips.getTrip(target.user, target.tripId);
    name = trip.title;
    events = writeCalendar(name, scopeOf(items), items, write);
  } else {
    const user = await app.trips.user(target.user);
    name = `Trips (${user.id})`;
    events = writeCalendar(name, scopeOf(await app.store.userItemZones(user.id)), await app.store.userItems(user.id), write);
  }
  drain();
  return { name, events };
}

export async function exportCommand(tripId: string | undefined, options: ExportOptions): Promise<void> {
  if (!tripId && !options.all) throw new InputError('trip-id', 'name a trip (see `tripcal list`) or pass --all');
  if (tripId && options.all) throw new InputError('trip-id', 'give a trip id or --all, not both');
  await withApp(options, async (app) => {
    const toFile = options.output && options.output !== '-';
    const fd = toFile ? openSync(options.output!, 'w') : 1;
    try {
      const { name, events } = await exportCalendar(app, { tripId, user: options.user }, fd);
      if (toFile) process.stderr.write(`Wrote ${events} events of "${name}" to ${options.output}\n`);
    } finally {
      if (toFile) closeSync(fd);
    }
  });
}
