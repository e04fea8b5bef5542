// Our events as Google stores them (reference §7): both zones kept (dateTime + timeZone), at most
// five reminder overrides, transparency, and our marker in extendedProperties.private; and back
// from what Google returns (times re-rendered in some zone: compare instants, never strings).
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { localDateOf } from '../../core/tz/zones.js';
import type { EventContent, EventTime, OutgoingEvent, Reminder } from '../types.js';
import { eventIdForKey } from './ids.js';

export type Event = calendar_v3.Schema$Event;

/** Our marker in extendedProperties.private. */
export const MARK = 'tripcal';
const MAX_OVERRIDES = 5; // reminders.overrides limit (§7)
const MAX_REMINDER_MINUTES = 40_320;

export const utcOf = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

function sortReminders(reminders: Reminder[]): Reminder[] {
  return [...reminders].sort((a, b) => a.minutesBefore - b.minutesBefore || a.method.localeCompare(b.method));
}

function timeOf(t: calendar_v3.Schema$EventDateTime | undefined, fallbackZone: string): EventTime {
  if (t?.date) return { utc: `${t.date}T00:00:00Z`, zone: 'UTC' };
  return { utc: utcOf(t?.dateTime ?? '1970-01-01T00:00:00Z'), zone: t?.timeZone ?? fallbackZone };
}

export function contentOf(event: Event, calendarZone = 'UTC'): EventContent {
  const overrides = event.reminders?.useDefault ? [] : event.reminders?.overrides ?? [];
  return {
    summary: event.summary ?? '',
    description: event.description ?? '',
    location: event.location || null,
    allDay: Boolean(event.start?.date),
    start: timeOf(event.start, calendarZone),
    end: timeOf(event.end, calendarZone),
    reminders: sortReminders(overrides.map((r) => ({ method: r.method === 'email' ? 'email' : 'popup', minutesBefore: r.minutes ?? 0 }))),
    transparent: event.transparency === 'transparent',
  };
}

/** The body we send for an event: everything we manage, and our marker. */
export function googleEvent(event: OutgoingEvent): Event {
  const time = (t: EventTime): calendar_v3.Schema$EventDateTime => (event.allDay
    ? { date: localDateOf(Date.parse(t.utc), t.zone) }
    : { dateTime: utcOf(t.utc), timeZone: t.zone });
  return {
    id: eventIdForKey(event.key),
    summary: event.summary,
    description: event.description || undefined,
    location: event.location || undefined,
    start: time(event.start),
    end: time(event.end),
    transparency: event.transparent ? 'transparent' : 'opaque',
    reminders: {
      useDefault: false,
      overrides: sortReminders(event.reminders).slice(0, MAX_OVERRIDES)
        .map((r) => ({ method: r.method, minutes: Math.min(Math.max(0, Math.round(r.minutesBefore)), MAX_REMINDER_MINUTES) })),
    },
    extendedProperties: { private: { [MARK]: '1', tripcal_key: event.key, tripcal_trip: event.tripId, tripcal_item: event.itemId } },
    status: 'confirmed',
  };
}

export function keyOf(event: Event): string | undefined {
  const props = event.extendedProperties?.private;
  return props?.[MARK] === '1' ? props.tripcal_key ?? undefined : undefined;
}

/**
 * Our body for a PATCH (reference §5, "patch semantics"): only the fields tripcal manages, so
 * guests, colours, attachments and whatever else a person added stay as they are without reading
 * the event first. A field we no longer set is sent as null, which clears it; so is the other
 * form of a time (date vs dateTime) when an item turns all-day or back.
 */
export function patchBody(event: OutgoingEvent): Event {
  const ours = googleEvent(event);
  const other = event.allDay ? { dateTime: null, timeZone: null } : { date: null };
  const { id: _id, ...fields } = ours;
  void _id;
  return {
    ...fields,
    description: event.description || null,
    location: event.location || null,
    start: { ...ours.start, ...other },
    end: { ...ours.end, ...other },
  };
}
