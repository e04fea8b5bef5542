// The same work on both stores: SQLite (the data directory's file) and PostgreSQL (a database of
// its own on the server at TRIPCAL_TEST_PG_URL, as the tests use). Edits one by one as a tool call
// makes them, a trip of 50 items in one transaction, listing 50 trips, and a first and a quiet
// Google sync of 500 items against the loopback fake.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openApp } from '../dist/src/app.js';
import { loadFake } from './google.js';
import { tmp, seedActivities } from './servers.js';

const SERVER = process.env.TRIPCAL_TEST_PG_URL ?? 'postgres://tripcal:tripcal@127.0.0.1:5432/postgres';
const SCOPES = 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly https://www.googleapis.com/auth/calendar.app.created';

async function onServer(text) {
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n) => Math.round(n * 100) / 100;

async function measure(storeUrl) {
  const fake = await (await loadFake()).startGoogleFake();
  const dir = tmp();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'google:', `  client_id: ${fake.clientId}`, `  client_secret: ${fake.clientSecret}`, `  token_url: ${fake.tokenUrl}`, `  api_root: ${fake.url}/`,
    'accounts:', '  - name: bench', '    provider: google', `    calendar: Trips ${randomBytes(3).toString('hex')}`, 'sync:', '  on_edit: false',
  ].join('\n'));
  const app = await openApp({ dataDir: dir, configPath: config, storeUrl });
  await app.vault.set('google:bench:tokens', JSON.stringify(fake.issueTokens(SCOPES)));
  try {
    const t0 = performance.now();
    const { ids } = await seedActivities(app, 500);
    const seedMs = performance.now() - t0;
    // The sync first, within the fake's per-user quota (600 a minute): 500 events.
    const t2 = performance.now();
    const [first] = await app.sync.sync();
    const firstMs = performance.now() - t2;
    const t3 = performance.now();
    const [quiet] = await app.sync.sync();
    const quietMs = performance.now() - t3;
    const edits = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await app.trips.updateItem(undefined, ids[i], { changes: { name: `Activity ${i} (moved)` } });
      edits.push(performance.now() - t);
    }
    const itinerary = [];
    for (let n = 0; n < 50; n++) {
      const t = performance.now();
      await app.trips.createItinerary(undefined, {
        title: `Trip ${n}`, timezone: 'Asia/Tokyo', flights: [], accommodations: [],
        activities: Array.from({ length: 8 }, (_, i) => ({ name: `Visit ${i}`, start_time: `2027-0${1 + (n % 9)}-1${i}T10:00` })),
      });
      itinerary.push(performance.now() - t);
    }
    const t1 = performance.now();
    const trips = await app.trips.listTrips();
    const listMs = performance.now() - t1;
    return {
      add_500_items_ms: Math.round(seedMs),
      update_item_p50_ms: round(median(edits)),
      itinerary_8_items_p50_ms: round(median(itinerary)),
      list_trips_ms: round(listMs),
      trips: trips.length,
      google_first_sync_ms: Math.round(firstMs),
      google_first_sync_events: first.counts.created,
      google_first_sync_requests: first.requests,
      google_quiet_sync_ms: Math.round(quietMs),
      google_quiet_sync_requests: quiet.requests,
    };
  } finally {
    await app.close();
    await fake.stop();
  }
}

export async function storeBench() {
  const name = `tripcal_bench_${randomBytes(4).toString('hex')}`;
  try {
    const sqlite = await measure(undefined);
    await onServer(`CREATE DATABASE ${name} LOCALE 'C' TEMPLATE template0`);
    const url = new URL(SERVER);
    url.pathname = `/${name}`;
    const postgres = await measure(url.toString());
    return { sqlite, postgres };
  } finally {
    await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  }
}
