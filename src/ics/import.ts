// .ics -> activities to import, read with node-ical (TZID, Windows zone names, RRULE, EXDATE and
// RECURRENCE-ID overrides). Pure apart from parsing; node-ical is loaded only when importing.
import { DateTime } from 'luxon';
import { InputError } from '../errors.js';
import { cleanText } from '../model/schemas.js';
import { isValidZone } from '../model/time.js';
import type { ActivityDetails } from '../model/types.js';
import { allDayDate, propertyText, type ParsedDate, type ParsedEvent } from './parsed.js';

/** At most this many events (after expanding recurrences) from one file. */
export const MAX_IMPORTED_EVENTS = 1000;

export interface ImportedEvent {
  /** UID, or UID#instant for one occurrence of a recurring event: what makes a re-import a no-op. */
  sourceUid: string;
  details: ActivityDetails;
  startUtc: string;
}

export interface Skipped {
  uid: string | null;
  reason: string;
}

function textOf(value: unknown): string | undefined {
  const cleaned = cleanText(propertyText(value));
  return cleaned === '' ? undefined : cleaned;
}

function instantIn(date: Date, zone: string | undefined): string {
  const dt = DateTime.fromJSDate(date, { zone: zone ?? 'UTC' });
  return dt.toISO({ suppressMilliseconds: true }) ?? date.toISOString();
}

function zoneOf(date: ParsedDate | undefined): string | undefined {
  const tz = date?.tz;
  if (!tz || tz === 'Etc/Unknown') return undefined;
  return isValidZone(tz) ? tz : undefined;
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
    details.start_time = instantIn(start, zone);
    if (end && end.getTime() > start.getTime()) details.end_time = instantIn(end, zone);
  }
  if (zone) details.timezone = zone;
  return { sourceUid, details, startUtc: start.toISOString() };
}

export interface ReadResult {
  events: ImportedEvent[];
  skipped: Skipped[];
}

/**
 * Reads every VEVENT of `text`. Recurring events are expanded over `range` (inclusive), which the
 * caller picks: the trip's dates, else the span of the file's single events.
 */
export async function readIcs(text: string, range?: { from: Date; to: Date }): Promise<ReadResult> {
  if (!/BEGIN:VCALENDAR/i.test(text)) throw new InputError('ics', 'not iCalendar text (no BEGIN:VCALENDAR)');
  const ical = (await import('node-ical')).default;
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
  const single = all.filter((e) => !e.rrule && e.start);
  const span = range ?? spanOf(single);

  for (const event of all) {
    const uid = event.uid ?? null;
    if (!uid) { skipped.push({ uid, reason: 'no UID' }); continue; }
    if (!event.start) { skipped.push({ uid, reason: 'no DTSTART' }); continue; }
    if (String(event.status ?? '').toUpperCase() === 'CANCELLED') { skipped.push({ uid, reason: 'cancelled' }); continue; }
    const allDay = event.datetype === 'date' || event.start.dateOnly === true;
    if (!event.rrule) {
      events.push(toImported(event, event.start, event.end, allDay, uid));
      continue;
    }
    const window = span ?? { from: event.start, to: DateTime.fromJSDate(event.start).plus({ days: 30 }).toJSDate() };
    const instances = ical.expandRecurringEvent(event as never, { from: window.from, to: window.to });
    if (instances.length === 0) skipped.push({ uid, reason: 'no occurrence within the trip\'s dates' });
    for (const instance of instances) {
      const source = instance.isFullDay ? allDayDate(instance.start) : instance.start.toISOString();
      events.push(toImported(instance.event as ParsedEvent, instance.start, instance.end, instance.isFullDay, `${uid}#${source}`));
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
