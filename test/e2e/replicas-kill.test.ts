// The hosted layout under fire: three `tripcal daemon` replicas on one PostgreSQL database, 200
// accounts (140 calendars on a real Radicale, 40 Google users and 20 Outlook calendars of one
// mailbox on the loopback fakes), edits flowing in over MCP HTTP spread over the replicas, and a
// replica SIGKILLed at random moments five times (and started again). Afterwards every account
// converges: exactly one event per item in every calendar, with the item's latest name; no
// acknowledged edit is lost; no Google user went over their per-minute quota and the mailbox
// never had more than its 4 requests in flight (the fakes refuse both, and count the refusals).
// Expected values come from the database (pg) and the calendars' own storage, never from tripcal.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openApp } from '../../src/app.js';
import { googleTokensSecret, outlookCacheSecret } from '../../src/auth/vault.js';
import { KEY_PROPERTY } from '../../providers/outlook/events.js';
import { connectHttp, startDaemonProcess, type HttpClient, type RunningDaemon } from '../support/daemon.js';
import { SCOPE, startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { GraphFake } from '../support/graph-fake.js';
import { structured, tempDir } from '../support/mcp.js';
import { signIn } from '../support/outlook.js';
import { freshPostgres, query } from '../support/postgres.js';
import { freePort, startRadicale, type Radicale } from '../support/radicale.js';

const TOKEN = 'replicas-under-fire-0123456789abcdef';
const KEY = 'the vault passphrase all three replicas share';
const COUNTS = { caldav: 140, google: 40, outlook: 20 };
const ACCOUNTS = COUNTS.caldav + COUNTS.google + COUNTS.outlook;
/** Each Google user's requests per minute, on both sides: low enough that the budget must pace. */
const GOOGLE_PER_MINUTE = 20;
const Y = new Date().getUTCFullYear() + 1;

type Kind = 'caldav' | 'google' | 'outlook';
const kindOf = (i: number): Kind => (i < COUNTS.caldav ? 'caldav' : i < COUNTS.caldav + COUNTS.google ? 'google' : 'outlook');
const user = (i: number) => `t${String(i).padStart(3, '0')}`;

interface Replica { dir: string; port: number; daemon: RunningDaemon; client: HttpClient }

let database: { url: string; drop(): Promise<void> };
let radicale: Radicale;
let google: GoogleFake;
let graph: GraphFake;
const replicas: Replica[] = [];
let configText: (port: number) => string;
const env = () => ({ DATABASE_URL: database.url, TRIPCAL_ENCRYPTION_KEY: KEY, TRIPCAL_LOG_LEVEL: 'warn' });

async function start(dir: string, port: number): Promise<Replica> {
  writeFileSync(join(dir, 'config.yaml'), configText(port));
  const daemon = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], env());
  const client = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${TOKEN}` });
  return { dir, port, daemon, client };
}

beforeAll(async () => {
  [database, radicale, google, graph] = await Promise.all([freshPostgres(), startRadicale(), startGoogleFake(), new GraphFake().start()]);
  google.quota = { perMinute: GOOGLE_PER_MINUTE, status: 429 };
  graph.mailboxConcurrency = 4;
  graph.latencyMs = 5;
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => {
    const base = [`  - name: a${i}`, `    user: ${user(i)}`];
    const kind = kindOf(i);
    if (kind === 'caldav') return [...base, '    provider: caldav', `    url: ${radicale.url}/`, `    username: ${radicale.username}`, `    password: ${radicale.password}`, `    calendar: c${i}`];
    return [...base, `    provider: ${kind}`, `    calendar: ${kind[0]}${i}`];
  }).flat();
  configText = (port) => [
    'log_level: warn',
    'sync:', '  wait_seconds: 2', '  run_timeout_seconds: 10', "  schedule: '* * * * *'",
    'http:', `  listen: 127.0.0.1:${port}`, `  token: ${TOKEN}`,
    'google:', `  client_id: ${google.clientId}`, `  client_secret: ${google.clientSecret}`, `  token_url: ${google.tokenUrl}`, `  api_root: ${google.url}/`,
    `  requests_per_minute: ${GOOGLE_PER_MINUTE}`,
    'outlook:', `  client_id: ${graph.clientId}`, `  tenant_id: ${graph.tenant}`, `  authority: ${graph.authority}`, `  graph_url: ${graph.graphUrl}`,
    'accounts:', ...accounts, '',
  ].join('\n');

  // The accounts' sign-ins, in the shared vault (as `tripcal auth` would leave them): each Google
  // account is a user of its own; the Outlook calendars are all in one mailbox.
  const setup = tempDir();
  writeFileSync(join(setup, 'config.yaml'), configText(await freePort()));
  const saved = process.env.TRIPCAL_ENCRYPTION_KEY;
  process.env.TRIPCAL_ENCRYPTION_KEY = KEY;
  try {
    const app = await openApp({ dataDir: setup, configPath: join(setup, 'config.yaml'), storeUrl: database.url });
    for (let i = 0; i < ACCOUNTS; i++) {
      if (kindOf(i) === 'google') await app.vault.set(googleTokensSecret(`a${i}`), JSON.stringify(google.issueTokens(`${SCOPE.events} ${SCOPE.calendarList} ${SCOPE.freebusy} ${SCOPE.appCreated}`, `${user(i)}@example.com`)));
      if (kindOf(i) === 'outlook') await app.vault.set(outlookCacheSecret(`a${i}`), (await signIn(graph)).cache!);
    }
    await app.close();
  } finally {
    if (saved === undefined) delete process.env.TRIPCAL_ENCRYPTION_KEY;
    else process.env.TRIPCAL_ENCRYPTION_KEY = saved;
  }
  replicas.push(...await Promise.all([0, 1, 2].map(async () => start(tempDir(), await freePort()))));
}, 120_000);

afterAll(async () => {
  for (const r of replicas) {
    await r.client.close().catch(() => undefined);
    await r.daemon.stop();
  }
  await Promise.all([google?.stop(), graph?.stop(), radicale?.stop()]);
  await database?.drop();
});

/** The items of a user whose name is `name`, from the database itself. */
const itemsNamed = async (userId: string, name: string) =>
  query<{ id: string }>(database.url, "SELECT id FROM items WHERE user_id = $1 AND deleted_at IS NULL AND (data::json ->> 'name') = $2", [userId, name]);

/**
 * Calls a tool on replica `r`, and on another should `r` die meanwhile. A call whose answer was
 * lost is looked for in the database first, so an edit is carried out once (`done` says whether
 * it already was).
 */
async function edit(r: number, name: string, args: Record<string, unknown>, done: () => Promise<boolean>): Promise<CallToolResult> {
  for (let attempt = 0; ; attempt++) {
    const replica = replicas[(r + attempt) % replicas.length]!;
    try {
      return await replica.client.call(name, args);
    } catch (error) {
      if (attempt > 20) throw error;
      if (await done()) return { content: [], structuredContent: { already: true } } as CallToolResult;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Kills replica `r` with SIGKILL in the middle of whatever it does, and starts it again on its directory and port. */
async function killAndRestart(r: number): Promise<void> {
  const old = replicas[r]!;
  await old.daemon.stop('SIGKILL');
  await old.client.close().catch(() => undefined);
  replicas[r] = await start(old.dir, old.port);
}

/** Every tripcal event in each account's calendar, by account: [key, name] pairs read from the calendars' own storage. */
function remoteEvents(): Map<number, Array<[key: string, summary: string]>> {
  const found = new Map<number, Array<[string, string]>>();
  const root = join(radicale.storage, 'collection-root', radicale.username);
  for (const dir of readdirSync(root)) {
    const props = JSON.parse(readFileSync(join(root, dir, '.Radicale.props'), 'utf8')) as Record<string, string>;
    const i = Number(/^c(\d+)$/.exec(props['D:displayname'] ?? '')?.[1]);
    if (!Number.isInteger(i)) continue;
    const events: Array<[string, string]> = [];
    for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.ics'))) {
      const text = readFileSync(join(root, dir, file), 'utf8').replace(/\r?\n[ \t]/g, '');
      events.push([/^X-TRIPCAL-KEY:(.*)$/m.exec(text)?.[1]?.trim() ?? '', /^SUMMARY:(.*)$/m.exec(text)?.[1]?.trim() ?? '']);
    }
    found.set(i, [...(found.get(i) ?? []), ...events]);
  }
  for (const cal of google.calendars.values()) {
    const i = Number(/^g(\d+)$/.exec(cal.summary)?.[1]);
    if (!Number.isInteger(i)) continue;
    found.set(i, [...(found.get(i) ?? []), ...google.liveEvents(cal.id).map((e) => [(e.extendedProperties as { private: Record<string, string> }).private.tripcal_key!, e.summary as string] as [string, string])]);
  }
  for (const cal of graph.calendars.values()) {
    const i = Number(/^o(\d+)$/.exec(cal.name)?.[1]);
    if (!Number.isInteger(i)) continue;
    found.set(i, [...(found.get(i) ?? []), ...graph.liveEvents(cal.id).map((e) => [graph.propertyOf(e, KEY_PROPERTY) as string, e.subject as string] as [string, string])]);
  }
  return found;
}

/** What each account's calendar must hold, from the database: one event per live item, by its name. */
async function expected(): Promise<Map<number, Map<string, string>>> {
  const rows = await query<{ id: string; user_id: string; name: string }>(database.url,
    "SELECT id, user_id, data::json ->> 'name' AS name FROM items WHERE deleted_at IS NULL");
  const want = new Map<number, Map<string, string>>();
  for (const row of rows) {
    const i = Number(row.user_id.slice(1));
    if (!want.has(i)) want.set(i, new Map());
    want.get(i)!.set(row.id, row.name);
  }
  return want;
}

/** The accounts whose calendar is not yet exactly the model: each item once, by its latest name, nothing else. */
async function unconverged(): Promise<string[]> {
  const [want, have] = [await expected(), remoteEvents()];
  const wrong: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const items = want.get(i) ?? new Map<string, string>();
    const events = have.get(i) ?? [];
    const byItem = new Map<string, string[]>();
    for (const [key, summary] of events) byItem.set(key.split(':')[0]!, [...(byItem.get(key.split(':')[0]!) ?? []), summary]);
    const ok = events.length === items.size && [...items].every(([id, name]) => byItem.get(id)?.length === 1 && byItem.get(id)![0]!.includes(name));
    if (!ok) wrong.push(`a${i} (${kindOf(i)}): ${items.size} item(s), ${events.length} event(s)`);
  }
  return wrong;
}

test('200 accounts, 3 replicas, 5 SIGKILLs: every calendar converges to the model, once per item, within quota', { timeout: 600_000 }, async () => {
  // Two activities per traveller, then a rename of the first for every fourth: edits spread over
  // the replicas, twelve at a time, while a replica is killed now and then.
  const acknowledged: Array<{ user: string; name: string }> = [];
  const firstItem = new Map<number, string>();
  const work: Array<() => Promise<void>> = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    for (const n of [1, 2]) {
      work.push(async () => {
        const name = `Visit ${n} of ${user(i)}`;
        const result = await edit(i + n, 'add_activity', {
          user_id: user(i), activity_details: { name, start_time: `${Y}-05-${String(1 + (i % 27)).padStart(2, '0')}T${9 + n}:00`, timezone: 'Europe/Lisbon' },
        }, async () => (await itemsNamed(user(i), name)).length > 0);
        const out = structured(result);
        if (n === 1) firstItem.set(i, out.item?.item_id ?? (await itemsNamed(user(i), name))[0]!.id);
        acknowledged.push({ user: user(i), name });
      });
    }
  }
  const renames: Array<() => Promise<void>> = [];
  for (let i = 0; i < ACCOUNTS; i += 4) {
    renames.push(async () => {
      const name = `Renamed visit of ${user(i)}`;
      await edit(i, 'update_item', { user_id: user(i), item_id: firstItem.get(i)!, changes: { name } }, async () => (await itemsNamed(user(i), name)).length > 0);
      acknowledged.push({ user: user(i), name });
      acknowledged.splice(acknowledged.findIndex((a) => a.user === user(i) && a.name === `Visit 1 of ${user(i)}`), 1);
    });
  }
  const run = async (tasks: Array<() => Promise<void>>) => {
    let next = 0;
    await Promise.all(Array.from({ length: 12 }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }));
  };
  const kills: number[] = [];
  const killing = (async () => {
    for (let k = 0; k < 5; k++) {
      await new Promise((resolve) => setTimeout(resolve, 2_000 + Math.random() * 4_000));
      const r = Math.floor(Math.random() * replicas.length);
      kills.push(r);
      await killAndRestart(r);
    }
  })();
  await run(work);
  await run(renames);
  await killing;
  expect(kills).toHaveLength(5);
  expect(acknowledged).toHaveLength(ACCOUNTS * 2);

  // No acknowledged edit is lost: each is in the database, once.
  for (const { user: u, name } of acknowledged) expect(await itemsNamed(u, name), `${u}: ${name}`).toHaveLength(1);
  expect(Number((await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM items WHERE deleted_at IS NULL'))[0]!.n)).toBe(ACCOUNTS * 2);

  // Every account converges (the runs left by the killed replicas are handed on, or the minute's tick catches them).
  const deadline = Date.now() + 240_000;
  let wrong = await unconverged();
  while (wrong.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    wrong = await unconverged();
  }
  expect(wrong).toEqual([]);

  // Within the services' limits, as the fakes saw it.
  expect(google.quotaRefusals).toBe(0);
  expect(graph.faultsServed).toBe(0);
  // The replicas answer, and the queue drains.
  for (const r of replicas) {
    const health = await (await fetch(r.daemon.healthUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { sync_jobs: { queued: number; oldest_job_age_seconds: number | null } };
    expect(health.sync_jobs.queued).toBeLessThan(ACCOUNTS);
  }
});
