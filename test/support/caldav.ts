// Reads a real CalDAV collection directly (plain HTTP REPORT, no tsdav), so tests check what the
// server holds, independently of the code under test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import type { Radicale } from './radicale.js';

export interface StoredEvent {
  href: string;
  etag: string;
  uid: string;
  key: string | null;
  summary: string;
  location: string | null;
  startTzid: string | null;
  endTzid: string | null;
  startUtc: string;
  endUtc: string;
  alarms: string[];
  data: string;
}

const QUERY = '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>'
  + '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>';

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#13;/g, '\r').replace(/&amp;/g, '&');
}

export async function listStored(server: { url: string; authHeader?: string }, collection: string): Promise<StoredEvent[]> {
  const res = await fetch(`${server.url}${collection}`, {
    method: 'REPORT',
    headers: { ...(server.authHeader ? { authorization: server.authHeader } : {}), depth: '1', 'content-type': 'application/xml' },
    body: QUERY,
  });
  if (res.status === 404) return [];
  if (res.status !== 207) throw new Error(`REPORT ${collection}: ${res.status} ${await res.text()}`);
  const body = await res.text();
  const out: StoredEvent[] = [];
  for (const block of body.split(/<(?:\w+:)?response>/).slice(1)) {
    const href = /<(?:\w+:)?href>([^<]+)</.exec(block)?.[1];
    const etag = /<(?:\w+:)?getetag>([^<]+)</.exec(block)?.[1];
    const data = /<(?:\w+:)?calendar-data[^>]*>([\s\S]*?)<\/(?:\w+:)?calendar-data>/.exec(block)?.[1];
    if (!href || !data) continue;
    const text = unescapeXml(data.replace(/^<!\[CDATA\[|\]\]>$/g, ''));
    const root = new ICAL.Component(ICAL.parse(text));
    for (const tz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
    const vevent = root.getFirstSubcomponent('vevent')!;
    const event = new ICAL.Event(vevent);
    out.push({
      href, etag: unescapeXml(etag ?? ''), uid: event.uid, key: (vevent.getFirstPropertyValue('x-tripcal-key') as string | null) ?? null,
      summary: event.summary, location: event.location || null,
      startTzid: (vevent.getFirstProperty('dtstart')?.getParameter('tzid') as string | undefined) ?? null,
      endTzid: (vevent.getFirstProperty('dtend')?.getParameter('tzid') as string | undefined) ?? null,
      startUtc: event.startDate.toJSDate().toISOString(), endUtc: event.endDate.toJSDate().toISOString(),
      alarms: vevent.getAllSubcomponents('valarm').map((a) => String(a.getFirstPropertyValue('trigger'))),
      data: text,
    });
  }
  return out.sort((a, b) => a.href.localeCompare(b.href));
}

/** PUT a calendar object as another client (a calendar app) would. */
export async function putObject(server: { url: string; authHeader?: string }, path: string, ics: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'PUT',
    headers: { ...(server.authHeader ? { authorization: server.authHeader } : {}), 'content-type': 'text/calendar; charset=utf-8', ...headers },
    body: ics,
  });
}

export async function deleteObject(server: { url: string; authHeader?: string }, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'DELETE', headers: server.authHeader ? { authorization: server.authHeader } : {} });
}

/** A config file with one CalDAV account on `radicale` (password from the environment, as users would). */
export function caldavConfig(dir: string, radicale: Radicale, extra: { policy?: string; calendar?: string; url?: string; name?: string; sync?: string } = {}): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, [
    'users:', '  me:', '    timezone: Europe/Berlin',
    'accounts:',
    `  - name: ${extra.name ?? 'home'}`,
    '    provider: caldav',
    `    url: ${extra.url ?? `${radicale.url}/`}`,
    `    username: ${radicale.username}`,
    '    password: ${TEST_CALDAV_PASSWORD}',
    `    calendar: ${extra.calendar ?? 'Trips'}`,
    `    policy: ${extra.policy ?? 'model_wins'}`,
    'sync:',
    '  wait_seconds: 5',
    '  retry_max_wait_seconds: 5',
    ...(extra.sync ? [extra.sync] : []),
    '',
  ].join('\n'));
  process.env.TEST_CALDAV_PASSWORD = radicale.password;
  return path;
}
