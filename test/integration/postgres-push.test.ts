// Push with two daemon replicas on one PostgreSQL database: one channel for the account however
// many replicas run (one at a time manages them, under a lock of the database), and a
// notification that reaches either replica — the proxy sends each to one of them — queues the
// account's job, which a replica's worker runs: the user's edit reaches the model. Counts come
// from the fake's storage and pg-boss's own job table.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openApp } from '../../src/app.js';
import { googleTokensSecret } from '../../src/auth/vault.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { eventIdForKey } from '../../providers/google/ids.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { CLI, tempDir } from '../support/mcp.js';
import { freshPostgres, query } from '../support/postgres.js';
import { freePort } from '../support/radicale.js';

const PUBLIC = 'https://tripcal.example';
const KEY = 'two replicas, one vault passphrase';
const Y = new Date().getUTCFullYear() + 1;

let google: GoogleFake;
let database: { url: string; drop(): Promise<void> };
const replicas: Daemon[] = [];
const saved = { url: process.env.DATABASE_URL, key: process.env.TRIPCAL_ENCRYPTION_KEY };

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

async function configFile(port: number): Promise<{ dir: string; config: string }> {
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'log_level: warn',
    'google:', `  client_id: ${google.clientId}`, `  client_secret: ${google.clientSecret}`, `  token_url: ${google.tokenUrl}`, `  api_root: ${google.url}/`,
    'accounts:', '  - name: work', '    provider: google', '    policy: remote_wins',
    'sync:', '  schedule: "0 0 1 1 *"', '  on_edit: false',
    'http:', `  listen: 127.0.0.1:${port}`, '  token: push-replicas-0123456789abcdef', `  public_url: ${PUBLIC}`,
    'push:', '  coalesce_seconds: 0.3', '  check_seconds: 1', '',
  ].join('\n'));
  return { dir, config };
}

beforeAll(async () => {
  [google, database] = await Promise.all([startGoogleFake(), freshPostgres()]);
  process.env.DATABASE_URL = database.url;
  process.env.TRIPCAL_ENCRYPTION_KEY = KEY;
  const ports = [await freePort(), await freePort()];
  // The proxy in front of both: notifications alternate between the replicas.
  let next = 0;
  google.reach = (address) => address.replace(PUBLIC, `http://127.0.0.1:${ports[next++ % 2]}`);
  const setup = await configFile(await freePort());
  const app = await openApp({ dataDir: setup.dir, configPath: setup.config });
  await app.vault.set(googleTokensSecret('work'), JSON.stringify(google.issueTokens()));
  await app.close();
  for (const port of ports) {
    const { dir, config } = await configFile(port);
    replicas.push(await startDaemon({ dataDir: dir, configPath: config }));
  }
}, 60_000);

afterAll(async () => {
  for (const d of replicas) await d.stop('test over');
  await google?.stop();
  await database?.drop();
  for (const [name, value] of [['DATABASE_URL', saved.url], ['TRIPCAL_ENCRYPTION_KEY', saved.key]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const jobsDone = async () => Number((await query<{ n: string }>(database.url,
  "SELECT count(*) AS n FROM tripcal_jobs.job WHERE name = 'tripcal-sync-account' AND state = 'completed'"))[0]!.n);

test('one channel for two replicas; a notice to either queues one job, and the edit reaches the model', { timeout: 60_000 }, async () => {
  await until('a live channel', () => google.liveChannels().length >= 1);
  // Both replicas' passes have run (check_seconds: 1): still one channel, one row.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(google.liveChannels()).toHaveLength(1);
  expect(await query(database.url, 'SELECT account, provider FROM push_channels')).toEqual([{ account: 'work', provider: 'google' }]);
  // Heard from (its first message reached one of the replicas): only now does it thin the polling.
  const [channel] = await query<{ confirmed_at: string | null; created_at: string }>(database.url, 'SELECT confirmed_at, created_at FROM push_channels');
  expect(channel!.confirmed_at).not.toBeNull();
  expect(channel!.confirmed_at! >= channel!.created_at).toBe(true);
  // tripcal doctor, from any machine with the database's URL, says so.
  const { dir, config } = await configFile(await freePort());
  const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--config', config, '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, TRIPCAL_LOG_LEVEL: 'error' } });
  expect(JSON.parse(doctor.stdout).push).toBe(`on: notifications at ${PUBLIC}/push/…; 1 live channel`);

  const [a, b] = replicas as [Daemon, Daemon];
  const made = await a.app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: `${Y}-06-16T10:00` } }, { path: 'a' });
  expect((await a.app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 1 } });
  await google.notificationsSettled();
  const eventId = eventIdForKey(`${made.item.id}:activity`);
  const startOf = async () => (await b.app.store.userItems('me')).find((i) => i.id === made.item.id)?.startUtc;

  for (const hour of [19, 21]) {
    const before = await jobsDone();
    google.editAsUser(eventId, { start: { dateTime: `${Y}-06-16T${hour}:00:00Z`, timeZone: 'UTC' }, end: { dateTime: `${Y}-06-16T${hour + 1}:00:00Z`, timeZone: 'UTC' } });
    await google.notificationsSettled();
    expect(google.deliveries.at(-1)).toMatchObject({ state: 'exists', status: 200 });
    await until(`the edit to ${hour}:00 in the model`, async () => (await startOf()) === `${Y}-06-16T${hour}:00:00Z`);
    // Run as a job of the shared queue (no schedule and no on-edit sync here: nothing else runs).
    await until('the job done', async () => (await jobsDone()) > before);
  }
});
