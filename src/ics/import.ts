// .ics -> activities to import, read with node-ical (TZID, Windows zone names, RRULE, EXDATE and
// RECURRENCE-ID overrides). Pure apart from parsing; node-ical is loaded only when importing.
import { DateTime } from 'luxon';
import { InputError } from '../errors.js';
import { cleanText } from '../model/schemas.js';
import { isValidZone } from '../model/time.js';
import type { ActivityDetails } from '../model/types.js';
import { allDayDate, instantOf, propertyText, type ParsedDate, type ParsedEvent } from '../../core/ical/parsed.js';
import { nodeIcal } from '../../core/ical/reader.js';

/** At most this many events (after expanding recurrences) from one file. */
export const MAX_IMPORTED_EVENTS = 1000;

export interface ImportedEvent {
  /** UID, or UID#instant for one occurrence of a recurring event: what makes a re-import a no-op. */
  sourceUid: string;
  details: ActivityDetails;
}

export interface Skipped {
  uid: string | null;
  reason: string;
}

function textOf(value: unknown): string | undefined {
  const cleaned = cleanText(propertyText(value));
  return cleaned === '' ? undefined : cleaned;
}

/** Largest .ics text read (characters), and most VEVENTs in one file before recurrences expand. */
export const MAX_ICS_CHARS = 5_000_000;
export const MAX_FILE_EVENTS = 5_000;
/** Most occurrences one RRULE may yield within the window read. */
const MAX_OCCURRENCES = MAX_IMPORTED_EVENTS;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-03-01T10:00:00` from a date's fields as the host reads them (node-ical builds floating times in the host's zone). */
function hostWallText(date: Date): string {
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A floating date-time: no TZID, no Z. Its wall time means the trip's zone (else the user's), never the host's. */
function isFloating(date: ParsedDate): boolean {
  return !date.tz && date.dateOnly !== true;
}

/** The date-time as the model takes it: an instant with its offset, or a floating wall time for the model to place. */
function timeText(date: ParsedDate, zone: string | undefined): string {
  if (isFloating(date)) return hostWallText(date);
  const dt = DateTime.fromMillis(instantOf(date), { zone: zone ?? 'UTC' });
  return dt.toISO({ suppressMilliseconds: true }) ?? new Date(instantOf(date)).toISOString();
}

/** What makes one occurrence's source key: the same on every host. */
function occurrenceKey(date: ParsedDate, allDay: boolean): string {
  if (allDay) return allDayDate(date);
  return isFloating(date) ? hostWallText(date) : new Date(instantOf(date)).toISOString();
}

function zoneOf(date: ParsedDate | undefined): string | undefined {
  const tz = date?.tz;
  if (!tz || tz === 'Etc/Unknown') return undefined;
  return isValidZone(tz) ? tz : undefined;
}

/** Why a DTSTART / DTEND node-ical gave back cannot be used, or null when it can. */
function badDate(value: unknown, property: 'DTSTART' | 'DTEND'): string | null {
  if (value instanceof Date && Number.isFinite(value.getTime())) return null;
  const shown = typeof value === 'string' ? `"${cleanText(value).slice(0, 60)}"` : 'its value';
  return `${property} ${shown} is not a date or date-time (RFC 5545: 20260301 or 20260301T100000, optionally with Z or TZID)`;
}

function toImported(event: ParsedEvent, start: ParsedDate, end: ParsedDate | undefined, allDay: boolean, sourceUid: string): ImportedEvent {
  const zone = zoneOf(start) ?? zoneOf(event.start);
  const name = (textOf(event.summary) ?? '(untitled event)').slice(0, 200);
  const details: ActivityDetails = { name, start_time: '' };
  const location = textOf(event.location);
  const description = textOf(event.description);
  if (location) details.location = location.slice(0, 500);
  if (description) details.description = description.slice(0, 4000);
  if (allDay) {
    details.start_time = allDayDate(start);
    if (end) {
      // DTEND of an all-day event is exclusive; an activity's end_time is its last day.
      const last = new Date(end.getTime());
      last.setDate(last.getDate() - 1);
      const lastDay = allDayDate(last);
      if (lastDay > details.start_time) details.end_time = lastDay;
    }
  } else {
    details.start_time = timeText(start, zone);
    if (end && isFloating(end) === isFloating(start) && end.getTime() > start.getTime()) details.end_time = timeText(end, zone);
  }
  if (zone) details.timezone = zone;
  return { sourceUid, details };
}

export interface ReadResult {
  events: ImportedEvent[];
  skipped: Skipped[];
}

/**
 * Reads every VEVENT of `text`. Recurring events are expanded over `range` (inclusive), which the
 * caller picks: the trip's dates, else the span of the file's single events. An event that cannot
 * be read is skipped with its UID and the property at fault; the others are read.
 */
export async function readIcs(text: string, range?: { from: Date; to: Date }): Promise<ReadResult> {
  if (text.length > MAX_ICS_CHARS) {
    throw new InputError('ics', `is ${text.length} characters; at most ${MAX_ICS_CHARS} can be imported at once (split the file)`);
  }
  if (!/BEGIN:VCALENDAR/i.test(text)) throw new InputError('ics', 'not iCalendar text (no BEGIN:VCALENDAR)');
  // Counted before parsing: node-ical holds a whole file in memory and recurses per component.
  const declared = text.match(/^BEGIN:VEVENT\r?$/gim)?.length ?? 0;
  if (declared > MAX_FILE_EVENTS) {
    throw new InputError('ics', `holds ${declared} events; at most ${MAX_FILE_EVENTS} can be read from one file (split it)`);
  }
  const ical = nodeIcal();
  let parsed: Record<string, unknown>;
  try {
    parsed = ical.sync.parseICS(text) as Record<string, unknown>;
  } catch (error) {
    throw new InputError('ics', `cannot be parsed: ${(error as Error).message}`);
  }
  const all = Object.values(parsed).filter((c): c is ParsedEvent => Boolean(c) && (c as ParsedEvent).type === 'VEVENT');
  if (all.length === 0) throw new InputError('ics', 'holds no events (no BEGIN:VEVENT … END:VEVENT)');
  const events: ImportedEvent[] = [];
  const skipped: Skipped[] = [];
  const single = all.filter((e) => !e.rrule && !badDate(e.start, 'DTSTART') && (e.end === undefined || !badDate(e.end, 'DTEND')));
  const span = range ?? spanOf(single);

  for (const event of all) {
    const uid = typeof event.uid === 'string' && event.uid !== '' ? cleanText(event.uid).slice(0, 255) : null;
    if (!uid) { skipped.push({ uid, reason: 'no UID' }); continue; }
    if (!event.start) { skipped.push({ uid, reason: 'no DTSTART' }); continue; }
    const fault = badDate(event.start, 'DTSTART') ?? (event.end === undefined ? null : badDate(event.end, 'DTEND'));
    if (fault) { skipped.push({ uid, reason: fault }); continue; }
    if (String(event.status ?? '').toUpperCase() === 'CANCELLED') { skipped.push({ uid, reason: 'cancelled' }); continue; }
    const allDay = event.datetype === 'date' || event.start.dateOnly === true;
    if (!event.rrule) {
      events.push(toImported(event, event.start, event.end, allDay, uid));
      continue;
    }
    const window = span ?? { from: event.start, to: DateTime.fromJSDate(event.start).plus({ days: 30 }).toJSDate() };
    let instances: ReturnType<typeof ical.expandRecurringEvent>;
    try {
      instances = ical.expandRecurringEvent(event as never, { from: window.from, to: window.to });
    } catch (error) {
      // rrule gives up past 10,000 iterations (FREQ=SECONDLY without an end, say).
      skipped.push({ uid, reason: `RRULE repeats too often to expand (${(error as Error).message}); at most ${MAX_OCCURRENCES} occurrences are imported` });
      continue;
    }
    if (instances.length === 0) { skipped.push({ uid, reason: 'no occurrence within the trip\'s dates' }); continue; }
    if (instances.length > MAX_OCCURRENCES) {
      skipped.push({ uid, reason: `RRULE gives ${instances.length} occurrences within the trip's dates; at most ${MAX_OCCURRENCES} are imported` });
      continue;
    }
    for (const instance of instances) {
      const start = instance.start as ParsedDate;
      const key = occurrenceKey(start, instance.isFullDay);
      events.push(toImported(instance.event as ParsedEvent, start, instance.end as ParsedDate | undefined, instance.isFullDay, `${uid}#${key}`));
    }
  }
  if (events.length > MAX_IMPORTED_EVENTS) {
    throw new InputError('ics', `holds ${events.length} events (after expanding recurrences); at most ${MAX_IMPORTED_EVENTS} can be imported at once`);
  }
  return { events, skipped };
}

function spanOf(events: ParsedEvent[]): { from: Date; to: Date } | undefined {
  if (events.length === 0) return undefined;
  const starts = events.map((e) => e.start!.getTime());
  const ends = events.map((e) => (e.end ?? e.start!).getTime());
  const day = 86_400_000;
  return { from: new Date(Math.min(...starts) - day), to: new Date(Math.max(...ends) + day) };
}
