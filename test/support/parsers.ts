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
