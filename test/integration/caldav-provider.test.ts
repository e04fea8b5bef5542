// The CalDAV provider's contract on a real Radicale, below the sync engine: conditional writes,
// listings, and free/busy over everything in the calendar.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CalDavProvider } from '../../providers/caldav/provider.js';
import { RemoteConflictError, type OutgoingEvent } from '../../providers/types.js';
import { putObject } from '../support/caldav.js';
import { startRadicale, type Radicale } from '../support/radicale.js';

let radicale: Radicale;
let provider: CalDavProvider;

beforeAll(async () => {
  radicale = await startRadicale();
  provider = new CalDavProvider({ kind: 'caldav', url: `${radicale.url}/`, username: radicale.username, password: radicale.password, calendar: 'Contract' });
  await provider.connect();
});
afterAll(async () => {
  await radicale?.stop();
});

const event = (key: string, start: string, end: string, over: Partial<OutgoingEvent> = {}): OutgoingEvent => ({
  key, uid: `${key.replace(':', '-')}@tripcal`, tripId: 'trip_1', itemId: key.split(':')[0]!, sequence: 1,
  summary: 'Tour', description: 'Line one\nLine two; with, punctuation', location: 'Pier 83', allDay: false,
  start: { utc: start, zone: 'America/New_York' }, end: { utc: end, zone: 'America/New_York' }, reminders: [{ method: 'popup', minutesBefore: 60 }],
  transparent: false, ...over,
});

test('create is conditional, and a repeated create names the existing event', async () => {
  const created = await provider.create(event('item_c1:activity', '2025-06-16T14:00:00Z', '2025-06-16T15:00:00Z'));
  expect(created.content).toMatchObject({ summary: 'Tour', description: 'Line one\nLine two; with, punctuation', location: 'Pier 83' });
  const again = await provider.create(event('item_c1:activity', '2025-06-16T14:00:00Z', '2025-06-16T15:00:00Z')).catch((e) => e);
  expect(again).toBeInstanceOf(RemoteConflictError);
  expect((again as RemoteConflictError).existing).toMatchObject({ id: created.id, etag: created.etag });
  await expect(provider.update(created.id, '"not-the-etag"', event('item_c1:activity', '2025-06-16T15:00:00Z', '2025-06-16T16:00:00Z'))).rejects.toBeInstanceOf(RemoteConflictError);
  await expect(provider.delete(created.id, '"not-the-etag"')).rejects.toBeInstanceOf(RemoteConflictError);
  await provider.delete(created.id, created.etag);
  expect(await provider.get(created.id)).toBeNull();
});

test('free/busy covers other events (not ours), expands recurrences, skips transparent ones, and merges overlaps', async () => {
  await provider.create(event('item_fb1:activity', '2025-07-07T14:00:00Z', '2025-07-07T15:00:00Z'));
  const dentist = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:dentist@example.com', 'DTSTAMP:20250101T000000Z',
    'DTSTART:20250707T140000Z', 'DTEND:20250707T150000Z', 'SUMMARY:Dentist', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  expect((await putObject(radicale, `/${radicale.username}/contract/dentist.ics`, dentist)).status).toBe(201);
  const lunch = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:lunch@example.com', 'DTSTAMP:20250101T000000Z',
    'DTSTART:20250707T200000Z', 'DTEND:20250707T203000Z', 'TRANSP:TRANSPARENT', 'SUMMARY:Maybe lunch', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  expect((await putObject(radicale, `/${radicale.username}/contract/lunch.ics`, lunch)).status).toBe(201);
  const weekly = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:standup@example.com', 'DTSTAMP:20250101T000000Z',
    'DTSTART:20250701T143000Z', 'DTEND:20250701T153000Z', 'RRULE:FREQ=DAILY;COUNT=10', 'SUMMARY:Stand-up', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  expect((await putObject(radicale, `/${radicale.username}/contract/standup.ics`, weekly)).status).toBe(201);
  const busy = await provider.freeBusy('2025-07-06T00:00:00Z', '2025-07-09T00:00:00Z');
  expect(busy).toEqual([
    { start: '2025-07-06T14:30:00Z', end: '2025-07-06T15:30:00Z' },
    { start: '2025-07-07T14:00:00Z', end: '2025-07-07T15:30:00Z' },
    { start: '2025-07-08T14:30:00Z', end: '2025-07-08T15:30:00Z' },
  ]);
});
