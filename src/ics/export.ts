// Desired events -> RFC 5545 text, made with ical-generator (escaping, folding, VALARM) plus our
// VTIMEZONE blocks. A flight starts in one zone and ends in another; ical-generator knows only
// one zone per event, so the DTEND of such an event is rewritten to the arrival zone afterwards.
import ical, { ICalAlarmType, ICalEventTransparency } from 'ical-generator';
import { DateTime } from 'luxon';
import { desiredEventsForItem, type DesiredEvent } from '../events/desired.js';
import type { Item } from '../model/types.js';
import { vtimezone } from './vtimezone.js';

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT']);

export interface CalendarInput {
  name: string;
  items: readonly Item[];
}

function zoneOrNull(zone: string): string | null {
  return UTC_ZONES.has(zone) ? null : zone;
}

function wall(time: { utc: string; zone: string }): DateTime {
  return DateTime.fromISO(time.utc, { zone: 'UTC' }).setZone(time.zone);
}

/** The years the VTIMEZONE blocks must cover: those of every event (in UTC; a block starts on 1 January UTC). */
function yearSpan(events: readonly DesiredEvent[]): [number, number] {
  if (events.length === 0) return [2000, 2000];
  let min = Infinity;
  let max = -Infinity;
  for (const e of events) {
    min = Math.min(min, Number(e.start.utc.slice(0, 4)));
    max = Math.max(max, Number(e.end.utc.slice(0, 4)));
  }
  return [min, max];
}

export function calendarText(input: CalendarInput): string {
  const entries = input.items.flatMap((item) => desiredEventsForItem(item).map((event) => ({ item, event })));
  const events = entries.map((e) => e.event);
  const [fromYear, toYear] = yearSpan(events);

  // ical-generator asks for a VTIMEZONE for each zone used as an event's start zone; zones used only
  // by an end (arrival airports) are emitted together with the first block it asks for.
  const startZones = new Set(events.map((e) => zoneOrNull(e.start.zone)).filter((z): z is string => z !== null));
  const endOnlyZones = [...new Set(events.map((e) => zoneOrNull(e.end.zone)))]
    .filter((z): z is string => z !== null && !startZones.has(z));
  let endZonesWritten = false;
  const generator = (zone: string): string => {
    const blocks = [vtimezone(zone, fromYear, toYear)];
    if (!endZonesWritten) {
      endZonesWritten = true;
      blocks.push(...endOnlyZones.map((z) => vtimezone(z, fromYear, toYear)));
    }
    return blocks.join('\r\n');
  };

  const calendar = ical({ prodId: { company: 'tripcal', product: 'tripcal', language: 'EN' }, name: input.name });
  calendar.timezone({ name: null, generator });
  for (const { item, event } of entries) {
    calendar.createEvent({
      id: event.uid,
      sequence: item.version,
      stamp: DateTime.fromISO(item.updatedAt, { zone: 'UTC' }),
      start: wall(event.start),
      // Written in the start zone here; moved to the end zone below when they differ.
      end: wall({ utc: event.end.utc, zone: event.start.zone }),
      timezone: zoneOrNull(event.start.zone),
      allDay: event.allDay,
      summary: event.summary,
      description: event.description || null,
      location: event.location,
      transparency: event.transparent ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
      alarms: event.reminders.map((r) => ({
        type: ICalAlarmType.display,
        trigger: r.minutesBefore * 60,
        description: event.summary,
      })),
      x: [
        ['X-TRIPCAL-KEY', event.key],
        ['X-TRIPCAL-TRIP', event.tripId],
      ],
    });
  }
  return withEndZones(calendar.toString(), events);
}

function dtend(time: { utc: string; zone: string }): string {
  const zone = zoneOrNull(time.zone);
  if (!zone) return `DTEND:${DateTime.fromISO(time.utc, { zone: 'UTC' }).toFormat("yyyyLLdd'T'HHmmss'Z'")}`;
  return `DTEND;TZID=${zone}:${wall(time).toFormat("yyyyLLdd'T'HHmmss")}`;
}

/** Rewrites the DTEND of every timed event whose end zone differs from its start zone. */
function withEndZones(text: string, events: readonly DesiredEvent[]): string {
  if (!events.some((e) => !e.allDay && e.end.zone !== e.start.zone)) return text;
  const blocks = text.split('BEGIN:VEVENT\r\n');
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.allDay || event.end.zone === event.start.zone) continue;
    blocks[i + 1] = blocks[i + 1]!.replace(/^DTEND[;:][^\r\n]*$/m, dtend(event.end));
  }
  return blocks.join('BEGIN:VEVENT\r\n');
}
