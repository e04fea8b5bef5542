// Independent iCalendar parsers for the tests: npm's ical.js and Debian's python3-icalendar
// (under /usr/bin/python3: a python3 earlier on PATH may lack the module).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import ICAL from 'ical.js';

export interface PyEvent {
  uid: string;
  summary: string;
  description: string;
  location: string;
  dtstart: { value: string; tzid: string | null } | null;
  dtend: { value: string; tzid: string | null } | null;
  alarms: string[];
  x_key: string;
}

export function parseWithPython(ics: string): { timezones: string[]; events: PyEvent[] } {
  const out = execFileSync('/usr/bin/python3', [resolve(import.meta.dirname, 'pyical.py')], { input: ics, encoding: 'utf8' });
  return JSON.parse(out);
}

export interface JsEvent {
  uid: string;
  summary: string;
  startTzid: string | null;
  endTzid: string | null;
  /** Wall time as written, e.g. 2025-06-15T01:00:00 */
  startWall: string;
  endWall: string;
  startUtc: string;
  endUtc: string;
  alarms: string[];
  key: string | null;
}

/** Parses with ical.js, registering the file's own VTIMEZONEs so instants come from them. */
export function parseWithIcalJs(ics: string): JsEvent[] {
  const root = new ICAL.Component(ICAL.parse(ics));
  for (const tz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  return root.getAllSubcomponents('vevent').map((vevent) => {
    const event = new ICAL.Event(vevent);
    const start = vevent.getFirstProperty('dtstart')!;
    const end = vevent.getFirstProperty('dtend');
    return {
      uid: event.uid,
      summary: event.summary,
      startTzid: (start.getParameter('tzid') as string | undefined) ?? null,
      endTzid: (end?.getParameter('tzid') as string | undefined) ?? null,
      startWall: event.startDate.toString(),
      endWall: event.endDate.toString(),
      startUtc: event.startDate.toJSDate().toISOString(),
      endUtc: event.endDate.toJSDate().toISOString(),
      alarms: vevent.getAllSubcomponents('valarm').map((a) => String(a.getFirstPropertyValue('trigger'))),
      key: (vevent.getFirstPropertyValue('x-tripcal-key') as string | null) ?? null,
    };
  });
}

/** One time of an event as the zoneinfo oracle reads it (test/support/tzoracle.py). */
export interface OracleTime {
  utc: string | null;
  tzid: string | null;
  wall?: string | null;
  date?: string;
  floating?: boolean;
}

export interface OracleEvent {
  uid: string;
  key: string;
  summary: string;
  start: OracleTime;
  end: OracleTime | null;
  start_zone: string | null;
  end_zone: string | null;
}

function oracle<T>(command: string, input: string): T {
  const out = execFileSync('/usr/bin/python3', [resolve(import.meta.dirname, 'tzoracle.py'), command], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

/** Each event's instants from python3-icalendar's parse and zoneinfo (RFC 5545 readings), and VTIMEZONE problems. */
export function readWithOracle(ics: string): { events: OracleEvent[]; timezones: string[]; problems: string[] } {
  return oracle('read', ics);
}

/** The first instant of each wall time in its zone, by zoneinfo; null where the clocks skip it. */
export function oracleInstants(times: Array<{ zone: string; wall: string }>): Array<string | null> {
  return oracle('instants', JSON.stringify(times));
}

/** The wall time, offset and date of each instant in its zone, by zoneinfo. */
export function oracleLocal(times: Array<{ zone: string; utc: string }>): Array<{ wall: string; offset: string; date: string }> {
  return oracle('local', JSON.stringify(times));
}

export interface OracleFlight {
  n: number;
  dep: string;
  arr: string;
  departure_time: string;
  arrival_time: string;
  refused: boolean;
  start_utc?: string;
  end_utc?: string;
  dep_zone?: string;
  arr_zone?: string;
}

/** Random flights between `airports` (code → zone), with what zoneinfo says their instants are. */
export function oracleFlights(seed: number, count: number, airports: Record<string, string>, weights: Record<string, number> = {}): OracleFlight[] {
  return oracle('flights', JSON.stringify({ seed, count, airports, weights }));
}
