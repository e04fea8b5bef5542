// The exported .ics read back by two independent parsers and accepted by a real CalDAV server.
// Run with TZ set to an odd zone (CI uses Pacific/Chatham): nothing may depend on the host's zone.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RenderCache, renderCalendar, scopeOf, writeCalendar } from '../../src/ics/export.js';
import { flight, makeItem } from '../support/items.js';
import { parseWithIcalJs, parseWithPython } from '../support/parsers.js';
import { startRadicale, type Radicale } from '../support/radicale.js';

const specFlight = makeItem(
  flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00:00Z', '2025-06-15T16:30:00Z', { confirmation_code: 'ABC123', seat: '12A' }),
  { remind: 48, id: 'item_spec00000001' },
);
const stay = makeItem(
  { kind: 'stay', details: { name: 'The Plaza; "Fifth Ave", NYC', address: '768 5th Ave\nNew York, NY', check_in: '2025-06-15', check_out: '2025-10-28T10:00', confirmation_code: 'H-77' } },
  { zone: 'America/New_York', id: 'item_stay00000001' },
);
const allDay = makeItem({ kind: 'activity', details: { name: 'Museum day', start_time: '2025-06-16', end_time: '2025-06-17' } }, { zone: 'America/New_York', id: 'item_actv00000001' });
const chatham = makeItem({ kind: 'activity', details: { name: 'Chatham walk', start_time: '2025-04-06T03:00', timezone: 'Pacific/Chatham' } }, { id: 'item_chat00000001' });
const utcActivity = makeItem({ kind: 'activity', details: { name: 'Call', start_time: '2025-06-16T10:00', timezone: 'UTC' } }, { id: 'item_utc000000001' });
const items = [specFlight, stay, allDay, chatham, utcActivity];
const { text: ics, events: eventCount } = renderCalendar({ name: 'Test trip', items });

describe('export', () => {
  test('the specification example: TZIDs and wall times of each end, a 48 h alarm', () => {
    const flightBlock = ics.split('BEGIN:VEVENT').find((b) => b.includes('UA123'))!;
    expect(flightBlock).toContain('DTSTART;TZID=America/Los_Angeles:20250615T010000');
    expect(flightBlock).toContain('DTEND;TZID=America/New_York:20250615T123000');
    expect(flightBlock).toContain('TRIGGER:-P2D');
    expect(flightBlock).toContain('X-TRIPCAL-KEY:item_spec00000001:flight');
    expect(ics).toMatch(/BEGIN:VTIMEZONE\r\nTZID:America\/Los_Angeles\r\n/);
    expect(ics).toMatch(/BEGIN:VTIMEZONE\r\nTZID:America\/New_York\r\n/);
    expect(ics.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
  });

  test('the same items export to the same text, so UIDs and feeds are stable', () => {
    expect(renderCalendar({ name: 'Test trip', items }).text).toBe(ics);
    expect(eventCount).toBe(6);
  });

  test('ical.js reads every event at the right instant with its own VTIMEZONEs', () => {
    const events = parseWithIcalJs(ics);
    expect(events).toHaveLength(6);
    const ua = events.find((e) => e.summary === 'Flight: United Airlines UA123')!;
    expect(ua).toMatchObject({
      uid: 'item_spec00000001-flight@tripcal', startTzid: 'America/Los_Angeles', endTzid: 'America/New_York',
      startWall: '2025-06-15T01:00:00', endWall: '2025-06-15T12:30:00',
      startUtc: '2025-06-15T08:00:00.000Z', endUtc: '2025-06-15T16:30:00.000Z',
    });
    expect(ua.alarms).toEqual(['-P2D', '-PT2H']);
    const checkOut = events.find((e) => e.summary.startsWith('Check-out'))!;
    expect(checkOut.endWall).toBe('2025-10-28T10:00:00');
    expect(checkOut.endUtc).toBe('2025-10-28T14:00:00.000Z'); // EST after the DST change
    const walk = events.find((e) => e.summary === 'Chatham walk')!;
    expect(walk.startUtc).toBe('2025-04-05T14:15:00.000Z'); // +12:45 after Chatham's change at 03:45
    const museum = events.find((e) => e.summary === 'Museum day')!;
    expect(museum.startWall).toBe('2025-06-16');
    expect(museum.endWall).toBe('2025-06-18');
    expect(events.find((e) => e.summary === 'Call')!.startUtc).toBe('2025-06-16T10:00:00.000Z');
  });

  test('python3-icalendar reads it too, with escaped text intact', () => {
    const parsed = parseWithPython(ics);
    expect(parsed.timezones).toEqual(expect.arrayContaining(['America/Los_Angeles', 'America/New_York', 'Pacific/Chatham']));
    const ua = parsed.events.find((e) => e.summary === 'Flight: United Airlines UA123')!;
    expect(ua.dtstart).toEqual({ value: '2025-06-15T01:00:00-07:00', tzid: 'America/Los_Angeles' });
    expect(ua.dtend).toEqual({ value: '2025-06-15T12:30:00-04:00', tzid: 'America/New_York' });
    expect(ua.alarms).toEqual(['-P2D', '-PT2H']);
    expect(ua.description).toContain('Confirmation: ABC123');
    expect(ua.description).toContain('Seat: 12A');
    const checkIn = parsed.events.find((e) => e.summary.startsWith('Check-in'))!;
    expect(checkIn.summary).toBe('Check-in: The Plaza; "Fifth Ave", NYC');
    expect(checkIn.location).toBe('768 5th Ave\nNew York, NY');
  });
});

describe('a feed\'s render cache', () => {
  const write = (list: typeof items, cache: RenderCache, load?: (id: string) => (typeof items)[number] | undefined) => {
    const parts: string[] = [];
    const refs = list.map((i) => ({ id: i.id, version: i.version, updatedAt: i.updatedAt }));
    writeCalendar('Test trip', scopeOf(list), refs, (t) => parts.push(t), { cache, load });
    return parts.join('');
  };

  test('unchanged items come from the cache, an edited one is rendered again, a deleted one is forgotten', () => {
    const cache = new RenderCache();
    const loads: string[] = [];
    let current = items;
    const load = (id: string) => (loads.push(id), current.find((i) => i.id === id));
    const edited = { ...allDay, version: allDay.version + 1, updatedAt: '2025-07-01T00:00:00Z', details: { ...allDay.details, name: 'Museum night' } };
    expect(write(items, cache, load)).toBe(ics);
    expect([loads.length, cache.size]).toEqual([5, 5]);
    loads.length = 0;
    expect(write(items, cache, load)).toBe(ics);
    expect(loads).toEqual([]);
    // One edited, one deleted: the edit is read again, the deleted item's text is dropped.
    const next = [specFlight, stay, edited, chatham];
    current = next;
    const text = write(next, cache, load);
    expect(loads).toEqual([allDay.id]);
    expect(text).toContain('Museum night');
    expect(text).not.toContain('SUMMARY:Call');
    expect(cache.size).toBe(4);
    // Thousands of items added and deleted leave nothing behind: memory follows the live items.
    for (let round = 0; round < 50; round++) {
      const passing = Array.from({ length: 20 }, (_, k) => ({ ...utcActivity, id: `item_pass${String(round * 20 + k).padStart(8, '0')}` }));
      write([...next, ...passing], cache, (id) => passing.find((i) => i.id === id));
      expect(cache.size).toBe(24);
    }
    write(next, cache, load);
    expect(cache.size).toBe(4);
  });
});

describe('a real CalDAV server accepts the export', () => {
  let radicale: Radicale;
  beforeAll(async () => {
    radicale = await startRadicale();
  });
  afterAll(async () => {
    await radicale.stop();
  });

  test('Radicale stores the whole calendar and serves back each event', async () => {
    const collection = `${radicale.url}/${radicale.username}/export-test/`;
    const put = await fetch(collection, { method: 'PUT', headers: { authorization: radicale.authHeader, 'content-type': 'text/calendar; charset=utf-8' }, body: ics });
    expect(put.status).toBe(201);
    const report = await fetch(collection, {
      method: 'REPORT',
      headers: { authorization: radicale.authHeader, depth: '1', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>',
    });
    expect(report.status).toBe(207);
    const body = await report.text();
    const uids = [...body.matchAll(/UID:([^\r\n<]+)/g)].map((m) => m[1]);
    expect(new Set(uids)).toEqual(new Set(parseWithIcalJs(ics).map((e) => e.uid)));
    expect(body).toContain('DTEND;TZID=America/New_York:20250615T123000');
  });
});
