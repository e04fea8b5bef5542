// Desired events -> RFC 5545 text. ical-generator renders each VEVENT (text escaping, VALARM,
// X- properties); we add what it cannot do: a DTEND in another zone than DTSTART (a flight
// lands in the arrival airport's zone), VTIMEZONE blocks, and folding fast enough for feeds of
// thousands of events (its own folder encodes every character separately). Each item's VEVENT
// text is cached by item version, so rewriting a feed after one change re-renders one item.
import ical, { escape, ICalAlarmType, ICalEvent, ICalEventTransparency } from 'ical-generator';
import { desiredEventsForItem, type DesiredEvent, type EventTime } from '../events/desired.js';
import { offsetAt } from '../model/zones.js';
import type { Item } from '../model/types.js';
import { vtimezone } from './vtimezone.js';

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT']);
const PRODID = '-//tripcal//tripcal//EN';
const CACHE_LIMIT = 100_000;

export interface CalendarInput {
  name: string;
  /** Any iterable: a streaming query keeps only the rendered text of each item in memory. */
  items: Iterable<Item>;
}

interface RenderedEvent {
  text: string;
}

/** The zones whose VTIMEZONE a timed event needs; none for all-day or all-UTC events. */
function timedZones(startZone: string, endZone: string, allDay: boolean): string[] {
  if (allDay || (UTC_ZONES.has(startZone) && UTC_ZONES.has(endZone))) return [];
  return [startZone, endZone];
}

const template = ical({ prodId: PRODID });
const rendered = new Map<string, RenderedEvent[]>();

/** Folds one content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence. */
function fold(line: string): string {
  if (line.length <= 75 && Buffer.byteLength(line) <= 75) return line;
  let out = '';
  let bytes = 0;
  for (const ch of line) {
    const cp = ch.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > 75) {
      out += '\r\n ';
      bytes = 1;
    }
    out += ch;
    bytes += size;
  }
  return out;
}

/** Folds every long line of `text`; a line under 26 characters cannot exceed 75 octets. */
function foldAll(text: string): string {
  return text.replace(/^[^\r\n]{26,}$/gm, fold);
}

/**
 * The wall time of `time` written as if it were UTC. ical-generator prints a floating date from a
 * string with UTC getters, so this yields exactly the local wall time, on any host, with no ICU call.
 */
function wall(time: EventTime): string {
  const ms = Date.parse(time.utc);
  return new Date(ms + offsetAt(time.zone, ms) * 60_000).toISOString();
}

function render(item: Item, event: DesiredEvent): RenderedEvent {
  const utc = timedZones(event.start.zone, event.end.zone, false).length === 0;
  const ics = new ICalEvent({
    id: event.uid,
    sequence: item.version,
    stamp: item.updatedAt,
    start: wall(event.start),
    end: wall(event.end),
    // Floating wall times, given their TZID below: ical-generator knows only one zone per event.
    floating: !utc,
    allDay: event.allDay,
    summary: event.summary,
    description: event.description || null,
    location: event.location,
    transparency: event.transparent ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
    alarms: event.reminders.map((r) => ({ type: ICalAlarmType.display, trigger: r.minutesBefore * 60, description: event.summary })),
    x: [['X-TRIPCAL-KEY', event.key], ['X-TRIPCAL-TRIP', event.tripId]],
  }, template);
  let text = ics.toString();
  if (timedZones(event.start.zone, event.end.zone, event.allDay).length > 0) {
    text = text.replace(/^DTSTART:/m, `DTSTART;TZID=${event.start.zone}:`).replace(/^DTEND:/m, `DTEND;TZID=${event.end.zone}:`);
  }
  return { text: foldAll(text).replace(/\r\n$/, '') };
}

/** Enough to find an item's rendered events in the cache; `load` fetches the item on a miss. */
export interface ItemRef {
  id: string;
  version: number;
  updatedAt: string;
}

function isItem(entry: Item | ItemRef): entry is Item {
  return 'kind' in entry;
}

function renderedEvents(entry: Item | ItemRef, options: WriteOptions): RenderedEvent[] {
  const cacheKey = `${entry.id}|${entry.version}|${entry.updatedAt}`;
  let events = rendered.get(cacheKey);
  if (!events) {
    const item = isItem(entry) ? entry : options.load?.(entry.id);
    if (!item) throw new Error(`item ${entry.id} is neither rendered nor loadable`);
    events = desiredEventsForItem(item).map((event) => render(item, event));
    if (options.cache) {
      if (rendered.size >= CACHE_LIMIT) rendered.clear();
      rendered.set(cacheKey, events);
    }
  }
  return events;
}

/** Which VTIMEZONE blocks a calendar needs: its zones, over the years its events span. */
export interface CalendarScope {
  zones: Iterable<string>;
  firstYear: number;
  lastYear: number;
}

export function scopeOf(items: Iterable<Pick<Item, 'startTz' | 'endTz' | 'allDay' | 'startUtc' | 'endUtc'>>): CalendarScope {
  const zones = new Set<string>();
  let firstYear = Infinity;
  let lastYear = -Infinity;
  for (const item of items) {
    for (const zone of timedZones(item.startTz, item.endTz, item.allDay)) zones.add(zone);
    firstYear = Math.min(firstYear, Number(item.startUtc.slice(0, 4)));
    lastYear = Math.max(lastYear, Number(item.endUtc.slice(0, 4)));
  }
  return { zones, firstYear, lastYear };
}

export interface WriteOptions {
  /** Keep each item's rendered text for the next call (feeds, rewritten after every change). */
  cache?: boolean;
  /** Loads an item given only by reference whose text is not cached. */
  load?: (id: string) => Item | undefined;
}

/**
 * Streams a calendar to `write` one piece at a time: the header, the VTIMEZONEs of `scope`, then
 * each item's events as it comes from `items`. Returns the number of events written.
 */
export function writeCalendar(name: string, scope: CalendarScope, items: Iterable<Item | ItemRef>, write: (text: string) => void, options: WriteOptions = {}): number {
  const escaped = escape(name, false);
  write(['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODID}`, fold(`NAME:${escaped}`), fold(`X-WR-CALNAME:${escaped}`), ''].join('\r\n'));
  for (const zone of [...scope.zones].sort()) write(`${vtimezone(zone, scope.firstYear, scope.lastYear)}\r\n`);
  let count = 0;
  for (const item of items) {
    for (const event of renderedEvents(item, options)) {
      write(`${event.text}\r\n`);
      count += 1;
    }
  }
  write('END:VCALENDAR\r\n');
  return count;
}

export function calendarText(input: CalendarInput, options: WriteOptions = {}): string {
  const items = [...input.items];
  const parts: string[] = [];
  writeCalendar(input.name, scopeOf(items), items, (text) => parts.push(text), options);
  return parts.join('');
}
