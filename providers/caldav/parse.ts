// Reads our events back from iCalendar text with node-ical: the marker, and the content we
// manage, in the same shape we write it, so a remote edit shows as a changed content hash.
import { nodeIcal } from '../../core/ical/reader.js';
import { allDayDate, instantOf, propertyText as text, type ParsedDate, type ParsedEvent } from '../../core/ical/parsed.js';
import { canonicalZone } from '../../core/tz/names.js';
import type { BusyInterval, EventContent, Reminder } from '../types.js';

/** A relative TRIGGER such as -P2D, -PT2H, -PT90M as minutes before the start; null otherwise. */
export function triggerMinutes(trigger: string | undefined): number | null {
  const m = /^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(trigger ?? '');
  if (!m) return null;
  const [w, d, h, min, s] = [1, 2, 3, 4, 5].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number];
  return w * 10080 + d * 1440 + h * 60 + min + Math.round(s / 60);
}

function dateOnly(date: Date): string {
  return `${allDayDate(date)}T00:00:00Z`;
}

function instant(date: ParsedDate): string {
  return new Date(Math.floor(instantOf(date) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The zone a time is shown in: its TZID, or for one we wrote in UTC because it falls in the
 * second pass of a repeated hour, the zone we kept beside it (X-TRIPCAL-DTSTART-TZID).
 */
function zoneOf(date: ParsedDate, kept: unknown): string {
  const tz = date.tz && !/^(Etc\/)?(UTC|GMT)$/i.test(date.tz) ? canonicalZone(date.tz) ?? date.tz : undefined;
  return tz ?? (text(kept) || 'UTC');
}

export interface ParsedOwnEvent {
  uid: string;
  key: string;
  content: EventContent;
}

/** Our event in a calendar object, or null when it carries no tripcal marker (a foreign event). */
export function parseOwnEvent(data: string): ParsedOwnEvent | null {
  let parsed: Record<string, unknown>;
  try {
    parsed = nodeIcal().sync.parseICS(data) as Record<string, unknown>;
  } catch {
    return null;
  }
  for (const component of Object.values(parsed)) {
    const event = component as ParsedEvent;
    if (!event || event.type !== 'VEVENT' || !event.start || !event['TRIPCAL-KEY']) continue;
    const allDay = event.datetype === 'date' || event.start.dateOnly === true;
    const end = event.end ?? event.start;
    const reminders: Reminder[] = [];
    for (const alarm of event.alarms ?? []) {
      const minutes = triggerMinutes(alarm.trigger);
      if (minutes !== null) reminders.push({ method: String(alarm.action).toUpperCase() === 'EMAIL' ? 'email' : 'popup', minutesBefore: minutes });
    }
    return {
      uid: event.uid ?? '',
      key: text(event['TRIPCAL-KEY']),
      content: {
        summary: text(event.summary),
        description: text(event.description),
        location: text(event.location) || null,
        allDay,
        start: allDay ? { utc: dateOnly(event.start), zone: 'UTC' } : { utc: instant(event.start), zone: zoneOf(event.start, event['TRIPCAL-DTSTART-TZID']) },
        end: allDay ? { utc: dateOnly(end), zone: 'UTC' }
          : { utc: instant(end), zone: event.end ? zoneOf(end, event['TRIPCAL-DTEND-TZID']) : zoneOf(event.start, event['TRIPCAL-DTSTART-TZID']) },
        reminders,
        transparent: String(event.transparency ?? '').toUpperCase() === 'TRANSPARENT',
      },
    };
  }
  return null;
}

/**
 * Opaque events' [start, end) in UTC from a calendar object, recurrences expanded over [from, to].
 * tripcal's own events (with our marker) are left out: the trips themselves are not what makes
 * a traveller busy.
 */
export function parseBusy(data: string, from: string, to: string): BusyInterval[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = nodeIcal().sync.parseICS(data) as Record<string, unknown>;
  } catch {
    return [];
  }
  const busy: BusyInterval[] = [];
  // Expanded occurrences share the master's UID; node-ical files them under `recurrences`.
  const events = Object.values(parsed).flatMap((c) => {
    const event = c as ParsedEvent;
    return event && event.type === 'VEVENT' ? [event, ...Object.values(event.recurrences ?? {})] : [];
  });
  for (const event of events) {
    if (!event.start || event['TRIPCAL-KEY']) continue;
    if (String(event.transparency ?? '').toUpperCase() === 'TRANSPARENT') continue;
    const allDay = event.datetype === 'date' || event.start.dateOnly === true;
    // A server that did not expand the recurrence leaves that to us.
    const occurrences = event.rrule
      ? nodeIcal().expandRecurringEvent(event as never, { from: new Date(from), to: new Date(to) }).map((o) => ({ start: o.start as Date, end: o.end as Date }))
      : [{ start: event.start, end: event.end ?? event.start }];
    for (const { start, end } of occurrences) {
      busy.push(allDay
        ? { start: `${allDayDate(start)}T00:00:00Z`, end: `${allDayDate(end)}T00:00:00Z` }
        : { start: instant(start), end: instant(end) });
    }
  }
  return busy;
}

/** Sorted, with overlapping or touching intervals joined. */
export function mergeIntervals(intervals: BusyInterval[]): BusyInterval[] {
  const sorted = [...intervals].sort((a, b) => a.start.localeCompare(b.start));
  const out: BusyInterval[] = [];
  for (const interval of sorted) {
    const last = out[out.length - 1];
    if (last && interval.start <= last.end) {
      if (interval.end > last.end) last.end = interval.end;
    } else {
      out.push({ ...interval });
    }
  }
  return out;
}
