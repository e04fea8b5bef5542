// Our events as Microsoft Graph stores them (reference docs/reference/microsoft-graph-calendar.md
// §2): wall time plus an explicit IANA zone on the way out, UTC on the way back (every read sends
// `Prefer: outlook.timezone="UTC"`, so nothing depends on the mailbox's zone), all-day events as
// midnight to midnight in their own zone, one reminder, busy or free, and our key in a
// single-value extended property (§2a).
import { remoteZone } from '../../core/tz/windows.js';
import { icsWallTime, localDateOf, startOfLocalDay, wallTimeReadsBack } from '../../core/tz/zones.js';
import type { EventContent, EventTime, OutgoingEvent, Reminder } from '../types.js';

export type GraphEvent = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Our property: a namespace GUID of tripcal's own plus a name (§2a); the value is the event's key. */
export const KEY_PROPERTY = 'String {5b1e2c1a-7d3f-4e8b-9a61-3c2f8e4d7a90} Name tripcal_key';
/** Set to "1" on every event we own: what a full listing filters on (`ep/value eq '1'`, the documented form). */
export const MARK_PROPERTY = 'String {5b1e2c1a-7d3f-4e8b-9a61-3c2f8e4d7a90} Name tripcal';

/** Every read: times in UTC, bodies as text (§2: several preferences in one Prefer header). */
export const READ_PREFER = 'outlook.timezone="UTC", outlook.body-content-type="text"';

/** `2025-06-15T01:00:00`: the wall time in a zone, without an offset (Graph's dateTime). */
function wallTime(ms: number, zone: string): string {
  const w = icsWallTime(ms, zone);
  return `${w.slice(0, 4)}-${w.slice(4, 6)}-${w.slice(6, 8)}T${w.slice(9, 11)}:${w.slice(11, 13)}:${w.slice(13, 15)}`;
}

/**
 * Outlook keeps one reminder per event: the one closest to the start (a flight's "3 hours
 * before" rather than its "the day before").
 */
export function reminderOf(reminders: Reminder[]): Reminder | null {
  if (reminders.length === 0) return null;
  const minutes = Math.min(...reminders.map((r) => Math.max(0, Math.round(r.minutesBefore))));
  return { method: 'popup', minutesBefore: minutes };
}

/** The body of a POST or PATCH: everything we manage, and our marker. */
export function graphEvent(event: OutgoingEvent): GraphEvent {
  const time = (t: EventTime) => {
    const ms = Date.parse(t.utc);
    if (event.allDay) return { dateTime: `${localDateOf(ms, t.zone)}T00:00:00`, timeZone: t.zone };
    // The second pass of a repeated hour (01:30 EST after 01:30 EDT) would be read as the first:
    // that one instant goes out in UTC, which cannot be misread.
    if (!wallTimeReadsBack(ms, t.zone)) return { dateTime: wallTime(ms, 'UTC'), timeZone: 'UTC' };
    return { dateTime: wallTime(ms, t.zone), timeZone: t.zone };
  };
  const reminder = reminderOf(event.reminders);
  return {
    subject: event.summary,
    body: { contentType: 'text', content: event.description },
    start: time(event.start),
    end: time(event.end),
    isAllDay: event.allDay,
    // Writing location replaces the whole locations collection (§2): ours is the only one.
    location: { displayName: event.location ?? '' },
    isReminderOn: reminder !== null,
    ...(reminder ? { reminderMinutesBeforeStart: reminder.minutesBefore } : {}),
    showAs: event.transparent ? 'free' : 'busy',
    singleValueExtendedProperties: [{ id: MARK_PROPERTY, value: '1' }, { id: KEY_PROPERTY, value: event.key }],
  };
}

const sameTime = (a: EventTime, b: EventTime) => a.utc === b.utc && a.zone === b.zone;

/**
 * The PATCH that makes a stored event reading as `current` read as `event`: only the fields that
 * would change (§1: send only the fields you change), so what is set on the event besides them
 * (a category, an attendee, a location the user added where the model has none) stays as it is.
 * Compared as both read back (expectedContent), so a field written as it already is is left out.
 */
export function patchOf(event: OutgoingEvent, current: EventContent): GraphEvent {
  const full = graphEvent(event);
  const wanted = expectedContent(event);
  const patch: GraphEvent = {};
  if (wanted.summary !== current.summary) patch.subject = full.subject;
  if (wanted.description !== current.description) patch.body = full.body;
  if (wanted.location !== current.location) patch.location = full.location;
  // The times and the all-day flag go together: Graph checks an all-day event's start and end as one.
  if (wanted.allDay !== current.allDay || !sameTime(wanted.start, current.start) || !sameTime(wanted.end, current.end)) {
    Object.assign(patch, { start: full.start, end: full.end, isAllDay: full.isAllDay });
  }
  if (JSON.stringify(wanted.reminders) !== JSON.stringify(current.reminders)) {
    patch.isReminderOn = full.isReminderOn;
    if (full.reminderMinutesBeforeStart !== undefined) patch.reminderMinutesBeforeStart = full.reminderMinutesBeforeStart;
  }
  if (wanted.transparent !== current.transparent) patch.showAs = full.showAs;
  // Nothing differs: the subject as it is, so Graph still answers with the stored event.
  return Object.keys(patch).length > 0 ? patch : { subject: full.subject };
}

/** Our key, when the event was read with the `$expand` that brings the property back (§2a). */
export function keyOf(event: GraphEvent): string | undefined {
  const props = event.singleValueExtendedProperties as Array<{ id: string; value: string }> | undefined;
  return props?.find((p) => p.id.toLowerCase() === KEY_PROPERTY.toLowerCase())?.value;
}

const utcOf = (dateTime: string) => `${dateTime.replace(/\.\d+$/, '').slice(0, 19)}Z`;

function timeOf(t: GraphEvent | undefined, allDay: boolean, original: string | undefined): EventTime {
  const dateTime = String(t?.dateTime ?? '1970-01-01T00:00:00');
  // All-day events come back as created (midnight in their own zone), whatever Prefer says (§2).
  if (allDay) return { utc: `${dateTime.slice(0, 10)}T00:00:00Z`, zone: 'UTC' };
  // Asked for in UTC (READ_PREFER); the zone it is shown in is the one it was written with,
  // whether Graph names it the IANA way or the Windows way ("Tokyo Standard Time").
  return { utc: utcOf(dateTime), zone: remoteZone(original) ?? 'UTC' };
}

export function contentOf(event: GraphEvent): EventContent {
  const allDay = event.isAllDay === true;
  return {
    summary: event.subject ?? '',
    description: String(event.body?.content ?? '').replace(/\r\n/g, '\n').trim(),
    location: event.location?.displayName || null,
    allDay,
    start: timeOf(event.start, allDay, event.originalStartTimeZone),
    end: timeOf(event.end, allDay, event.originalEndTimeZone),
    reminders: event.isReminderOn ? [{ method: 'popup', minutesBefore: event.reminderMinutesBeforeStart ?? 15 }] : [],
    transparent: event.showAs === 'free',
  };
}

/** What an event we write reads back as. */
export function expectedContent(event: OutgoingEvent): EventContent {
  const body = graphEvent(event);
  return contentOf({
    ...body,
    start: { dateTime: event.allDay ? body.start.dateTime : event.start.utc.slice(0, 19), timeZone: 'UTC' },
    end: { dateTime: event.allDay ? body.end.dateTime : event.end.utc.slice(0, 19), timeZone: 'UTC' },
    originalStartTimeZone: body.start.timeZone,
    originalEndTimeZone: body.end.timeZone,
  });
}

/**
 * The instants an event occupies, for free/busy: an all-day event runs from midnight to midnight
 * in the zone it was made in (Graph gives it back as created, whatever Prefer asks), anything
 * else comes in UTC.
 */
export function occupiedSpan(event: GraphEvent): { start: string; end: string } {
  const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  if (event.isAllDay === true) {
    const zone = remoteZone(event.start?.timeZone) ?? remoteZone(event.originalStartTimeZone) ?? 'UTC';
    const day = (t: GraphEvent | undefined) => startOfLocalDay(String(t?.dateTime ?? '1970-01-01').slice(0, 10), zone);
    return { start: iso(day(event.start)), end: iso(day(event.end)) };
  }
  return { start: utcOf(String(event.start?.dateTime ?? '1970-01-01T00:00:00')), end: utcOf(String(event.end?.dateTime ?? '1970-01-01T00:00:00')) };
}
