// Accounts synced per minute with 1, 2 and 4 `tripcal daemon` replicas on one PostgreSQL database
// (issue #22): ACCOUNTS Google accounts (each a user of its own on the loopback fake, which takes
// LATENCY_MS per call as Google does), ITEMS new items each; every account's run is queued at once
// on the shared job queue, and the clock stops when the database says every link is synced.
// Prints numbers only. PostgreSQL at TRIPCAL_TEST_PG_URL (a superuser; .ci/run makes one).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { openApp } from '../dist/src/app.js';
import { loadFake } from './google.js';
import { freePort, tmp } from './servers.js';

const SERVER = process.env.TRIPCAL_TEST_PG_URL ?? 'postgres://tripcal:tripcal@127.0.0.1:5432/postgres';
const ACCOUNTS = 120;
const ITEMS = 4;
const LATENCY_MS = 40;
const KEY = 'bench replicas share this vault passphrase';
const TOKEN = 'bench-replicas-0123456789abcdef';
const SCOPES = 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.calendarlist.readonly https://www.googleapis.com/auth/calendar.app.created';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function sql(url, text, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function freshDatabase() {
  const name = `tripcal_bench_${Math.random().toString(16).slice(2, 10)}`;
  await sql(SERVER, `CREATE DATABASE ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => sql(SERVER, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function config(fake, port) {
  return [
    'log_level: error',
    // No schedule to speak of and no sync on edit: the runs measured are the ones queued below.
    'sync:', '  schedule: "0 0 1 1 *"', '  on_edit: false', '  jobs_per_replica: 4',
    'http:', `  listen: 127.0.0.1:${port}`, `  token: ${TOKEN}`,
    'google:', `  client_id: ${fake.clientId}`, `  client_secret: ${fake.clientSecret}`, `  token_url: ${fake.tokenUrl}`, `  api_root: ${fake.url}/`,
    'accounts:',
    ...Array.from({ length: ACCOUNTS }, (_, i) => [`  - name: a${i}`, `    user: u${i}`, '    provider: google', `    calendar: g${i}`]).flat(), '',
  ].join('\n');
}

function startReplica(dir, env) {
  const child = spawn(process.execPath, ['dist/tripcal.mjs', 'daemon', '--config', join(dir, 'config.yaml'), '--data-dir', dir], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const started = new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c;
      if (/Background sync:.*\n/.test(out)) resolve();
    });
    void exited.then((code) => reject(new Error(`replica exited with ${code}`)));
  });
  child.stderr.resume();
  return { started, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

async function round(fake, replicas) {
  const db = await freshDatabase();
  const env = { DATABASE_URL: db.url, TRIPCAL_ENCRYPTION_KEY: KEY };
  const dirs = [];
  try {
    // The model and the sign-ins, written as `tripcal auth` and an assistant would leave them.
    const setup = tmp();
    writeFileSync(join(setup, 'config.yaml'), config(fake, await freePort()));
    process.env.TRIPCAL_ENCRYPTION_KEY = KEY;
    const app = await openApp({ dataDir: setup, configPath: join(setup, 'config.yaml'), storeUrl: db.url });
    for (let i = 0; i < ACCOUNTS; i++) {
      await app.vault.set(`google:a${i}:tokens`, JSON.stringify(fake.issueTokens(SCOPES, `u${i}@example.com`)));
      for (let n = 0; n < ITEMS; n++) {
        await app.trips.addItem(`u${i}`, { kind: 'activity', details: { name: `Visit ${n}`, start_time: `2027-05-${String(1 + n).padStart(2, '0')}T10:00`, timezone: 'Europe/Lisbon' } }, { path: 'a' });
      }
    }
    await app.close();
    delete process.env.TRIPCAL_ENCRYPTION_KEY;

    const running = [];
    for (let r = 0; r < replicas; r++) {
      const dir = tmp();
      dirs.push(dir);
      writeFileSync(join(dir, 'config.yaml'), config(fake, await freePort()));
      running.push(startReplica(dir, env));
    }
    await Promise.all(running.map((r) => r.started));
    const before = fake.requests.length;
    // Every account's run queued at once, as a tick queues them.
    const boss = new PgBoss({ connectionString: db.url, schema: 'tripcal_jobs', max: 2 });
    await boss.start();
    const started = performance.now();
    for (let i = 0; i < ACCOUNTS; i++) await boss.send('tripcal-sync-account', { account: `a${i}` }, { singletonKey: `a${i}` });
    await boss.stop({ graceful: false, wait: true });
    const want = ACCOUNTS * ITEMS;
    for (;;) {
      const [{ n }] = await sql(db.url, "SELECT count(*)::int AS n FROM links WHERE state = 'synced'");
      if (n >= want) break;
      if (performance.now() - started > 600_000) throw new Error(`only ${n} of ${want} links synced after 10 minutes`);
      await pause(100);
    }
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(running.map((r) => r.stop()));
    return { replicas, seconds: Math.round(seconds * 10) / 10, accounts_per_minute: Math.round((ACCOUNTS / seconds) * 60), requests: fake.requests.length - before };
  } finally {
    await db.drop();
  }
}

export async function replicasBench() {
  const { startGoogleFake } = await loadFake();
  const fake = await startGoogleFake();
  fake.latencyMs = LATENCY_MS;
  try {
    const rounds = [];
    for (const n of [1, 2, 4]) {
      rounds.push(await round(fake, n));
      for (const cal of [...fake.calendars.values()]) if (!cal.primary) fake.calendars.delete(cal.id);
    }
    const one = rounds[0].accounts_per_minute;
    return {
      accounts: ACCOUNTS, items_per_account: ITEMS, google_latency_ms: LATENCY_MS, jobs_per_replica: 4, cores: (await import('node:os')).availableParallelism(),
      rounds, scaling: Object.fromEntries(rounds.map((r) => [`${r.replicas}_replicas`, Math.round((r.accounts_per_minute / one) * 100) / 100])),
    };
  } finally {
    await fake.stop();
  }
}
