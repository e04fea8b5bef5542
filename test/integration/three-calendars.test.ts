// One trip synced to Google, Outlook and a CalDAV server (Radicale) at once, each through its real
// client against a loopback server: every event lands once in each, and the three agree on
// titles, instants, zones and reminders (Outlook keeps one reminder: the one closest to the start).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { openTestApp } from '../support/app.js';
import { googleTokensSecret, outlookCacheSecret } from '../../src/auth/vault.js';
import { desiredEvents } from '../../src/events/desired.js';
import { KEY_PROPERTY } from '../../providers/outlook/events.js';
import { listStored } from '../support/caldav.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { GraphFake } from '../support/graph-fake.js';
import { flight } from '../support/items.js';
import { tempDir } from '../support/mcp.js';
import { signIn } from '../support/outlook.js';
import { startRadicale, type Radicale } from '../support/radicale.js';

const Y = new Date().getUTCFullYear() + 1;
let google: GoogleFake;
let graph: GraphFake;
let radicale: Radicale;
let app: App;

beforeAll(async () => {
  [google, graph, radicale] = await Promise.all([startGoogleFake(), new GraphFake().start(), startRadicale()]);
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'google:', `  client_id: ${google.clientId}`, `  client_secret: ${google.clientSecret}`, `  token_url: ${google.tokenUrl}`, `  api_root: ${google.url}/`,
    'outlook:', `  client_id: ${graph.clientId}`, `  tenant_id: ${graph.tenant}`, `  authority: ${graph.authority}`, `  graph_url: ${graph.graphUrl}`,
    'accounts:',
    '  - name: g', '    provider: google',
    '  - name: o', '    provider: outlook',
    '  - name: c', '    provider: caldav', `    url: ${radicale.url}/`, `    username: ${radicale.username}`, `    password: ${radicale.password}`, '    calendar: Trips',
  ].join('\n'));
  app = await openTestApp({ dataDir: dir, configPath: config });
  await app.vault.set(googleTokensSecret('g'), JSON.stringify(google.issueTokens()));
  await app.vault.set(outlookCacheSecret('o'), (await signIn(graph)).cache!);
});
afterAll(async () => {
  await app?.close();
  await Promise.all([google?.stop(), graph?.stop()]);
  await radicale?.stop();
});

const utc = (iso: string) => new Date(iso.endsWith('Z') || /[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso.slice(0, 19)}Z`).toISOString().replace('.000Z', 'Z');

test('a trip lands once in Google, Outlook and CalDAV, identical in titles, instants, zones and reminders', async () => {
  const f = await app.trips.addItem(undefined, flight('Lufthansa', 'LH400', 'FRA', 'JFK', `${Y}-03-29T10:00`, `${Y}-03-29T12:45`, { confirmation_code: 'XYZ789' }), { path: 'f' });
  const tripId = f.trip.id;
  await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: `${Y}-03-29`, check_out: `${Y}-04-02` } }, { tripId, path: 's' });
  await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'MoMA', start_time: `${Y}-03-30T10:00`, end_time: `${Y}-03-30T13:00` } }, { tripId, path: 'a' });
  await app.trips.addItem(undefined, flight('Lufthansa', 'LH401', 'JFK', 'FRA', `${Y}-04-02T17:30`, `${Y}-04-03T07:10`), { tripId, path: 'f' });
  const reports = await app.sync.sync();
  expect(reports.map((r) => [r.account, r.status])).toEqual([['g', 'ok'], ['o', 'ok'], ['c', 'ok']]);

  const desired = desiredEvents((await app.store.userItems('me')));
  const inGoogle = google.liveEvents();
  const inOutlook = graph.liveEvents();
  const inCaldav = await listStored(radicale, `/${radicale.username}/trips/`);
  for (const list of [inGoogle, inOutlook, inCaldav]) expect(list).toHaveLength(desired.length);
  for (const d of desired) {
    const g = inGoogle.find((e) => e.extendedProperties.private.tripcal_key === d.key)!;
    const o = inOutlook.find((e) => graph.propertyOf(e, KEY_PROPERTY) === d.key)!;
    const c = inCaldav.find((e) => e.key === d.key)!;
    expect([g.summary, o.subject, c.summary]).toEqual([d.summary, d.summary, d.summary]);
    if (d.allDay) {
      expect(g.start.date).toBe(o.start.dateTime.slice(0, 10));
      expect(c.startUtc.slice(0, 10)).toBe(g.start.date);
      continue;
    }
    expect([utc(g.start.dateTime), utc(o.start.dateTime), utc(c.startUtc)]).toEqual([d.start.utc, d.start.utc, d.start.utc]);
    expect([utc(g.end.dateTime), utc(o.end.dateTime), utc(c.endUtc)]).toEqual([d.end.utc, d.end.utc, d.end.utc]);
    expect([g.start.timeZone, o.originalStartTimeZone, c.startTzid]).toEqual([d.start.zone, d.start.zone, d.start.zone]);
    expect([g.end.timeZone, o.originalEndTimeZone, c.endTzid]).toEqual([d.end.zone, d.end.zone, d.end.zone]);
    const minutes = (g.reminders.overrides ?? []).map((r: { minutes: number }) => r.minutes);
    expect(c.alarms).toHaveLength(minutes.length);
    expect(o.isReminderOn).toBe(minutes.length > 0);
    if (minutes.length) expect(o.reminderMinutesBeforeStart).toBe(Math.min(...minutes));
  }
  // The outbound flight: Frankfurt's zone at the start, New York's at the end, in all three.
  const lh400 = desired.find((d) => d.summary.includes('LH400'))!;
  expect([lh400.start.zone, lh400.end.zone]).toEqual(['Europe/Berlin', 'America/New_York']);
  // A second sync changes nothing anywhere.
  expect((await app.sync.sync()).map((r) => r.counts.created + r.counts.updated + r.counts.deleted)).toEqual([0, 0, 0]);

  // Deleting the trip removes its events from every calendar (a deleted trip is not a mass deletion to guard).
  await app.trips.deleteTrip(undefined, tripId);
  const gone = await app.sync.sync();
  expect(gone.map((r) => [r.status, r.counts.deleted])).toEqual([['ok', desired.length], ['ok', desired.length], ['ok', desired.length]]);
  expect(google.liveEvents()).toHaveLength(0);
  expect(graph.liveEvents()).toHaveLength(0);
  expect(await listStored(radicale, `/${radicale.username}/trips/`)).toHaveLength(0);
});
