// The sync engine against the Graph fake, the Google scenario set again: the trip lands once with
// the right zones; what Outlook changes is handled by each policy (also a 412 between listing and
// write); an expired delta link; a revoked refresh token; 20 % injected faults and lost answers;
// `tripcal sync` killed after its Nth write. Every time: each desired event exactly once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { outlookCacheSecret } from '../../src/auth/vault.js';
import { desiredEvents } from '../../src/events/desired.js';
import { syncStatus } from '../../src/sync/status.js';
import { KEY_PROPERTY } from '../../providers/outlook/events.js';
import { GraphFake } from '../support/graph-fake.js';
import { flight } from '../support/items.js';
import { syncKilledAfterWrite } from '../support/kill.js';
import { tempDir } from '../support/mcp.js';
import { signIn } from '../support/outlook.js';
import { syncUntilSettled, openTestApp } from '../support/app.js';

// Delta follows a window around today (§3.1): trips next year are always inside it.
const Y = new Date().getUTCFullYear() + 1;
let fake: GraphFake;
const apps: App[] = [];

beforeAll(async () => {
  fake = await new GraphFake().start();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await fake?.stop();
});
beforeEach(async () => {
  fake.events.clear();
  fake.randomFaults = null;
  fake.beforeWrite = null;
  fake.afterWrite = null;
});

interface Setup {
  app: App;
  dir: string;
  config: string;
}

async function setup(policy = 'model_wins', extra = ''): Promise<Setup> {
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'outlook:',
    `  client_id: ${fake.clientId}`,
    `  tenant_id: ${fake.tenant}`,
    `  authority: ${fake.authority}`,
    `  graph_url: ${fake.graphUrl}`,
    'accounts:',
    '  - name: work',
    '    provider: outlook',
    `    policy: ${policy}`,
    'sync:',
    '  retry_max_wait_seconds: 1',
    '  retry_attempts: 4',
    extra,
  ].join('\n'));
  const app = await openTestApp({ dataDir: dir, configPath: config });
  await app.vault.set(outlookCacheSecret('work'), (await signIn(fake)).cache!);
  apps.push(app);
  return { app, dir, config };
}

async function fillTrip(app: App) {
  const f1 = await app.trips.addItem(undefined, flight('United Airlines', 'UA123', 'LAX', 'JFK', `${Y}-06-15T08:00`, `${Y}-06-15T16:30`), { path: 'f' });
  const tripId = f1.trip.id;
  await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: `${Y}-06-15`, check_out: `${Y}-06-18` } }, { tripId, path: 's' });
  const tour = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: `${Y}-06-16T10:00` } }, { tripId, path: 'a' });
  await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Hamilton', start_time: `${Y}-06-17T19:00` } }, { tripId, path: 'a' });
  await app.trips.addItem(undefined, flight('United Airlines', 'UA456', 'JFK', 'LAX', `${Y}-06-18T18:00`, `${Y}-06-18T21:15`), { tripId, path: 'f' });
  return { tripId, tour: tour.item };
}

const ours = () => fake.liveEvents().filter((e) => fake.propertyOf(e, KEY_PROPERTY));
const utc = (t: { dateTime: string }) => `${t.dateTime.slice(0, 19)}Z`;

/** Every desired event exactly once, with its current title, instants and zones; nothing else of ours. */
async function expectConverged(app: App): Promise<void> {
  const desired = desiredEvents((await app.store.userItems('me')));
  const stored = ours();
  expect(stored.map((e) => fake.propertyOf(e, KEY_PROPERTY)).sort()).toEqual(desired.map((d) => d.key).sort());
  for (const d of desired) {
    const s = stored.find((e) => fake.propertyOf(e, KEY_PROPERTY) === d.key)!;
    expect(s.subject).toBe(d.summary);
    if (d.allDay) continue;
    expect(utc(s.start)).toBe(d.start.utc);
    expect(utc(s.end)).toBe(d.end.utc);
    expect(s.originalStartTimeZone).toBe(d.start.zone);
    expect(s.originalEndTimeZone).toBe(d.end.zone);
  }
}

const eventOf = (itemId: string) => ours().find((e) => fake.propertyOf(e, KEY_PROPERTY) === `${itemId}:activity`)!;
const moveTour = () => ({ start: { dateTime: `${Y}-06-16T15:00:00`, timeZone: 'America/New_York' }, end: { dateTime: `${Y}-06-16T16:00:00`, timeZone: 'America/New_York' } });

describe('changes made in Outlook', () => {
  test('first sync writes every event with its zones; a quiet sync costs one request; one change costs two', async () => {
    const { app } = await setup();
    const { tour } = (await fillTrip(app));
    const [first] = await app.sync.sync();
    expect(first).toMatchObject({ status: 'ok', counts: { created: 6 } });
    await expectConverged(app);
    const departure = ours().find((e) => e.subject.includes('UA123'))!;
    expect(departure).toMatchObject({ originalStartTimeZone: 'America/Los_Angeles', originalEndTimeZone: 'America/New_York' });
    expect(utc(departure.start)).toBe(`${Y}-06-15T15:00:00Z`);
    expect((await app.sync.sync())[0]).toMatchObject({ requests: 1, counts: { unchanged: 6 } });
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    expect((await app.sync.sync())[0]).toMatchObject({ requests: 2, counts: { updated: 1 } });
    await expectConverged(app);
    expect(eventOf(tour.id).location.displayName).toBe('Pier 84');
  });

  test('a quiet sync from a fresh process is one request on the wire, and that is what it reports', async () => {
    const { app, dir, config } = await setup();
    await fillTrip(app);
    await app.sync.sync();
    await app.close();
    const fresh = await openTestApp({ dataDir: dir, configPath: config });
    apps.push(fresh);
    const before = fake.requests.length;
    const [quiet] = await fresh.sync.sync();
    // Counted by the fake: the default calendar needs no lookup, so only the delta read goes out.
    const wire = fake.requests.slice(before).filter((r) => !r.part);
    expect(wire.map((r) => `${r.method} ${r.path}`)).toEqual([expect.stringMatching(/^GET \/me\/calendars\/[^/]+\/calendarView\/delta$|^GET \/me\/calendarView\/delta$/)]);
    expect(quiet).toMatchObject({ status: 'ok', requests: 1, counts: { unchanged: 6 } });
  });

  test('stays are free all-day events in their own zone; a second sync changes nothing', async () => {
    const { app } = await setup();
    await fillTrip(app);
    await app.sync.sync();
    const checkIn = ours().find((e) => e.subject.startsWith('Check-in'))!;
    expect(checkIn.showAs).toBe('free');
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ unchanged: 6, updated: 0 });
  });

  test('model_wins: a moved event is moved back', async () => {
    const { app } = await setup('model_wins');
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(eventOf(tour.id).id, moveTour());
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 1, unchanged: 5 });
    await expectConverged(app);
  });

  test('remote_wins: the moved time is taken into the model', async () => {
    const { app } = await setup('remote_wins');
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(eventOf(tour.id).id, moveTour());
    expect((await app.sync.sync())[0]!.counts.pulled).toBe(1);
    const item = (await app.store.userItems('me')).find((i) => i.id === tour.id)!;
    expect(item.startUtc).toBe(`${Y}-06-16T19:00:00Z`);
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 0, pulled: 0 });
    await expectConverged(app);
  });

  test('flag: the event is marked a conflict, untouched, with both versions in sync_status', async () => {
    const { app } = await setup('flag');
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(eventOf(tour.id).id, moveTour());
    expect((await app.sync.sync())[0]!.counts.conflicts).toBe(1);
    const [status] = await syncStatus(app.store, app.sync);
    expect(status!.conflicts[0]!.model!.start.utc).toBe(`${Y}-06-16T14:00:00Z`);
    expect(status!.conflicts[0]!.calendar!.start.utc).toBe(`${Y}-06-16T19:00:00Z`);
  });

  test.each(['model_wins', 'remote_wins', 'flag'])('%s: an edit that lands between our listing and our write gets a 412 and is decided by the policy', async (policy) => {
    const { app } = await setup(policy);
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    const id = eventOf(tour.id).id;
    await app.trips.updateItem(undefined, tour.id, { changes: { name: 'Harbor tour (sunset)' } });
    let slipped = false;
    fake.beforeWrite = (method, eventId) => {
      if (!slipped && eventId === id) {
        slipped = true;
        fake.editAsUser(id, moveTour());
      }
    };
    const [report] = await app.sync.sync();
    expect(slipped).toBe(true);
    const event = eventOf(tour.id);
    const item = (await app.store.userItems('me')).find((i) => i.id === tour.id)!;
    if (policy === 'model_wins') {
      expect(utc(event.start)).toBe(`${Y}-06-16T14:00:00Z`);
      expect(event.subject).toBe('Harbor tour (sunset)');
    } else if (policy === 'remote_wins') {
      expect(item.startUtc).toBe(`${Y}-06-16T19:00:00Z`);
      expect(event.subject).toBe('Harbor tour (sunset)');
    } else {
      expect(report!.counts.conflicts).toBe(1);
      expect(utc(event.start)).toBe(`${Y}-06-16T19:00:00Z`);
    }
  });

  test.each(['model_wins', 'remote_wins', 'flag'])('%s: an event deleted in Outlook is reported, not recreated, until its item changes', async (policy) => {
    const { app } = await setup(policy);
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.deleteAsUser(eventOf(tour.id).id);
    const [report] = await app.sync.sync();
    expect(report!.gone).toEqual([`${tour.id}:activity`]);
    expect((await app.sync.sync())[0]!.counts.created).toBe(0);
    expect(ours()).toHaveLength(5);
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    expect((await app.sync.sync())[0]!.counts.created).toBe(1);
    expect(ours()).toHaveLength(6);
    expect(eventOf(tour.id).location.displayName).toBe('Pier 84');
  });

  test.each([410, 400])('an expired delta link (%i syncStateNotFound) leads to a full listing: nothing duplicated, nothing deleted', async (status) => {
    const { app } = await setup();
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    fake.expireDeltaTokens(status);
    const [report] = await app.sync.sync();
    expect(report).toMatchObject({ status: 'ok', counts: { updated: 1, created: 0, deleted: 0, unchanged: 5 } });
    expect(fake.requests.some((r) => r.path.endsWith('/events') && r.query.has('$filter'))).toBe(true);
    await expectConverged(app);
  });

  test('a revoked refresh token: needs_reauth with a fix; signing in again resumes', async () => {
    const { app } = await setup();
    await fillTrip(app);
    await app.sync.sync();
    fake.revokeRefreshTokens();
    const [report] = await app.sync.sync();
    expect(report!.status).toBe('needs_reauth');
    expect(report!.message).toMatch(/invalid_grant.*tripcal auth outlook work/);
    await app.vault.set(outlookCacheSecret('work'), (await signIn(fake)).cache!);
    app.sync.reconnect('work');
    expect((await app.sync.sync())[0]!.status).toBe('ok');
    await expectConverged(app);
  });
});

describe('updates carry only what changes (Graph event-update: supply only the properties to update)', () => {
  const patchesSince = (start: number) => fake.requests.slice(start).filter((r) => r.method === 'PATCH');

  test('a new title is a PATCH of the subject alone: a location and a category the user set in Outlook stay', async () => {
    const { app } = await setup();
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    const id = eventOf(tour.id).id;
    // The user's additions, put straight into the fake's store.
    const stored = fake.events.get(id)!;
    stored.data.location = { displayName: 'Pier 83, gate B' };
    stored.data.locations = [{ displayName: 'Pier 83, gate B' }];
    stored.data.categories = ['Family'];
    await app.trips.updateItem(undefined, tour.id, { changes: { name: 'Harbor tour (sunset)' } });
    const start = fake.requests.length;
    expect((await app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { updated: 1 } });
    const patches = patchesSince(start);
    expect(patches).toHaveLength(1);
    expect(patches[0]!.path).toBe(`/me/events/${id}`);
    const after = fake.events.get(id)!.data;
    expect(patches[0]!.body).toEqual({ subject: after.subject });
    expect(after.subject).toBe('Harbor tour (sunset)');
    expect(after.location).toEqual({ displayName: 'Pier 83, gate B' });
    expect(after.categories).toEqual(['Family']);
  });

  test('model_wins moving an event back is a PATCH of its times alone', async () => {
    const { app } = await setup('model_wins');
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    const id = eventOf(tour.id).id;
    const written = { ...fake.events.get(id)!.data };
    fake.editAsUser(id, moveTour());
    const start = fake.requests.length;
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 1, unchanged: 5 });
    const patches = patchesSince(start);
    expect(patches).toHaveLength(1);
    expect(Object.keys(patches[0]!.body!).sort()).toEqual(['end', 'isAllDay', 'start']);
    const after = fake.events.get(id)!.data;
    expect([after.start, after.end, after.subject]).toEqual([written.start, written.end, written.subject]);
    await expectConverged(app);
  });
});

describe('faults', () => {
  test('20 % of requests fail (429 with Retry-After, 503, 504, 500) or lose their answer: converges, no duplicates', async () => {
    const { app } = await setup('model_wins', '  concurrency: 4');
    await fillTrip(app);
    for (let i = 0; i < 20; i++) {
      await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Museum ${i}`, start_time: `${Y}-06-${String(10 + (i % 9)).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:00` } }, { path: 'a' });
    }
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    fake.randomFaults = { rate: 0.2, random, faults: [{ status: 429, retryAfter: '0' }, { status: 503, retryAfter: '0' }, { status: 504 }, { status: 500 }] };
    fake.loseNextAnswers(2);
    const faultsBefore = fake.faultsServed;
    await syncUntilSettled(app);
    fake.randomFaults = null;
    expect(fake.faultsServed - faultsBefore).toBeGreaterThan(4);
    const [final] = await app.sync.sync();
    expect(final).toMatchObject({ status: 'ok', counts: { created: 0, updated: 0, deleted: 0 } });
    await expectConverged(app);
  });

  async function editMany(app: App): Promise<void> {
    const items = (await app.store.userItems('me'));
    const change = { flight: { seat: '1A' }, stay: { notes: 'late arrival' }, activity: { location: 'Pier 86' } };
    for (const item of items.slice(0, 3)) await app.trips.updateItem(undefined, item.id, { changes: change[item.kind] });
    for (const item of items.slice(3, 5)) await app.trips.deleteItem(undefined, item.id, 'item_id');
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Jazz', start_time: `${Y}-06-17T22:00` } }, { path: 'a' });
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Brunch', start_time: `${Y}-06-18T10:00` } }, { path: 'a' });
  }

  test.each([
    ['a first sync', 1], ['a first sync', 3], ['a first sync', 6],
    ['an edit sync', 1], ['an edit sync', 2], ['an edit sync', 4], ['an edit sync', 7],
  ] as const)('`tripcal sync` killed (SIGKILL) during %s right after write %i converges on the next run', async (phase, n) => {
    const s = await setup('model_wins', '  concurrency: 1');
    await fillTrip(s.app);
    if (phase === 'an edit sync') {
      expect((await s.app.sync.sync())[0]!.status).toBe('ok');
      await editMany(s.app);
    }
    const killed = await syncKilledAfterWrite(fake, s.config, s.dir, n);
    expect(killed).toBe(true);
    s.app.sync.reconnect('work');
    const [report] = await s.app.sync.sync();
    expect(report!.status).toBe('ok');
    await expectConverged(s.app);
    const [again] = await s.app.sync.sync();
    expect(again!.counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });
});
