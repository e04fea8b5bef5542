// One event -> RFC 5545 text, for any calendar: the .ics export and feed of a trip, and the
// objects a CalDAV provider stores. ical-generator renders the VEVENT (text escaping, VALARM,
// X- properties); we add what it cannot do: a DTEND in another zone than DTSTART (a flight lands
// in the arrival airport's zone), VTIMEZONE blocks, and folding fast enough for feeds of
// thousands of events (its own folder encodes every character separately).
import ical, { escape, ICalAlarmType, ICalEvent, ICalEventTransparency } from 'ical-generator';
import type { EventTime, OutgoingEvent } from './event.js';
import { icsWallTime, wallTimeReadsBack } from '../tz/zones.js';
import { vtimezone } from './vtimezone.js';

export const PRODID = '-//tripcal//tripcal//EN';
export const MARKER = 'X-TRIPCAL-KEY';
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT']);
const template = ical({ prodId: PRODID });

/** The zones whose VTIMEZONE a timed event needs; none for all-day or all-UTC events. */
export function timedZones(startZone: string, endZone: string, allDay: boolean): string[] {
  if (allDay || (UTC_ZONES.has(startZone) && UTC_ZONES.has(endZone))) return [];
  return [startZone, endZone];
}

/** Folds one content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence. */
export function fold(line: string): string {
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

/** `20250615T010000Z`: an instant in UTC, as iCalendar writes it. */
function utcStamp(utc: string): string {
  return `${utc.slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/**
 * One DTSTART or DTEND line, written by us (ical-generator knows one zone per event and swaps a
 * DTEND whose wall clock reads earlier than the DTSTART's, as every eastbound flight over the
 * date line has). A time is its wall clock under its zone's TZID, unless that wall time happens
 * twice (the hour repeated when clocks go back) and this is the second: a TZID time reads as the
 * first (RFC 5545 §3.3.5), so that one is written in UTC, and its zone in X-TRIPCAL-TZID so we
 * read it back as written. All-day: the local date, DTEND exclusive.
 */
function timeLines(name: 'DTSTART' | 'DTEND', time: EventTime, allDay: boolean): string[] {
  const ms = Date.parse(time.utc);
  if (allDay) return [`${name};VALUE=DATE:${icsWallTime(ms, time.zone).slice(0, 8)}`];
  if (UTC_ZONES.has(time.zone)) return [`${name}:${utcStamp(time.utc)}`];
  if (wallTimeReadsBack(ms, time.zone)) return [`${name};TZID=${time.zone}:${icsWallTime(ms, time.zone)}`];
  return [`${name}:${utcStamp(time.utc)}`, `${zoneProperty(name)}:${time.zone}`];
}

/** The property that keeps the zone of a DTSTART or DTEND written in UTC (the repeated hour). */
export const zoneProperty = (name: 'DTSTART' | 'DTEND') => `X-TRIPCAL-${name}-TZID`;

/** The VEVENT of `event`, folded, without a trailing line break. `stamp` is its DTSTAMP. */
export function renderVEvent(event: OutgoingEvent, stamp: string): string {
  const ics = new ICalEvent({
    id: event.uid,
    sequence: event.sequence,
    stamp,
    // A placeholder: the DTSTART line is replaced below with ours, and our DTEND follows it.
    start: stamp,
    summary: event.summary,
    description: event.description || null,
    location: event.location,
    transparency: event.transparent ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
    alarms: event.reminders.map((r) => ({ type: ICalAlarmType.display, trigger: r.minutesBefore * 60, description: event.summary })),
    x: [[MARKER, event.key], ['X-TRIPCAL-TRIP', event.tripId]],
  }, template);
  const times = [...timeLines('DTSTART', event.start, event.allDay), ...timeLines('DTEND', event.end, event.allDay)].join('\r\n');
  const text = ics.toString().replace(/^DTSTART[;:][^\r\n]*/m, () => times);
  return foldAll(text).replace(/\r\n$/, '');
}

/** Which VTIMEZONE blocks a calendar needs: its zones, over the years its events span. */
export interface CalendarScope {
  zones: Iterable<string>;
  firstYear: number;
  lastYear: number;
}

/** The opening of a VCALENDAR with its VTIMEZONEs, ending in a line break. */
export function calendarHead(name: string | null, scope: CalendarScope): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODID}`];
  if (name !== null) {
    const escaped = escape(name, false);
    lines.push(fold(`NAME:${escaped}`), fold(`X-WR-CALNAME:${escaped}`));
  }
  // One VTIMEZONE per zone (RFC 5545 §3.6.5), however often the scope names it.
  for (const zone of [...new Set(scope.zones)].sort()) lines.push(vtimezone(zone, scope.firstYear, scope.lastYear));
  return `${lines.join('\r\n')}\r\n`;
}

export const CALENDAR_END = 'END:VCALENDAR\r\n';

/** A whole calendar object holding one event, as CalDAV stores it (RFC 4791 §4.1). */
export function singleEventCalendar(event: OutgoingEvent, stamp: string): string {
  const scope = {
    zones: new Set(timedZones(event.start.zone, event.end.zone, event.allDay)),
    firstYear: Number(event.start.utc.slice(0, 4)),
    lastYear: Number(event.end.utc.slice(0, 4)),
  };
  return `${calendarHead(null, scope)}${renderVEvent(event, stamp)}\r\n${CALENDAR_END}`;
}
