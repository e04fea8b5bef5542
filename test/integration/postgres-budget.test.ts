// The providers' request budget across replicas, in PostgreSQL: several processes' worth of
// connections (one PostgresSql each, as each replica has) spending one Google user's requests per
// minute and one mailbox's concurrent requests. What counts is what the services saw: the Google
// fake refuses what is over its sliding window and the Graph fake what is over 4 in flight, and
// both count those refusals; the same work without the budget is refused (so these can fail).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { UNLIMITED, type AccountBudget } from '../../providers/budget.js';
import { GoogleProvider } from '../../providers/google/provider.js';
import { OutlookProvider } from '../../providers/outlook/provider.js';
import type { OutgoingEvent } from '../../providers/types.js';
import { SharedBudget } from '../../src/store/budget.js';
import { PostgresSql } from '../../src/store/postgres.js';
import { startGoogleFake } from '../support/google-fake.js';
import { GraphFake } from '../support/graph-fake.js';
import { outlookSettings, signIn } from '../support/outlook.js';
import { freshPostgres, query } from '../support/postgres.js';

let db: { url: string; drop(): Promise<void> };
/** Three replicas' connections to one database. */
let replicas: PostgresSql[];

beforeAll(async () => {
  db = await freshPostgres();
  replicas = await Promise.all([1, 2, 3].map(() => PostgresSql.open(db.url, { max: 4 })));
});
afterAll(async () => {
  await Promise.all(replicas?.map((r) => r.close()) ?? []);
  await db?.drop();
});

/** The most spent inside any window of `windowMs` ending at one of the spends. */
function busiestWindow(spends: Array<[at: number, cost: number]>, windowMs: number): number {
  return Math.max(...spends.map(([t]) => spends.filter(([u]) => u > t - windowMs && u <= t).reduce((n, [, c]) => n + c, 0)));
}

test('replicas spending one budget together never spend more than its limit in any window', async () => {
  const budgets = replicas.map((sql) => new SharedBudget(sql));
  const spends: Array<[number, number]> = [];
  const costs = [3, 1, 4, 1, 5, 2, 6, 2];
  await Promise.all(budgets.flatMap((budget, r) => costs.map(async (cost, i) => {
    await budget.spend('google:shared', (cost + r + i) % 5 + 1, 20, 500);
    spends.push([Date.now(), (cost + r + i) % 5 + 1]);
  })));
  const total = spends.reduce((n, [, c]) => n + c, 0);
  expect(spends).toHaveLength(24);
  expect(total).toBeGreaterThan(60);
  // The test's own clock, not the budget's: at most 20 in any half second (the budget keeps a margin besides).
  expect(busiestWindow(spends, 500)).toBeLessThanOrEqual(20);
  // What the database holds is what was spent inside the last window, no more.
  const sum = (await query<{ sum: string }>(db.url, "SELECT coalesce(sum(cost), 0) AS sum FROM request_spend WHERE budget = 'google:shared'"))[0]!.sum;
  expect(Number(sum)).toBeLessThanOrEqual(20);
});

test('at most N slots are held at once over every replica, and a slot whose replica died is free again when its lease ends', async () => {
  const budgets = replicas.map((sql) => new SharedBudget(sql, 800));
  let inside = 0;
  let most = 0;
  await Promise.all(budgets.flatMap((budget) => Array.from({ length: 8 }, () => budget.withSlot('outlook:box', 4, async () => {
    most = Math.max(most, ++inside);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
    inside -= 1;
  }))));
  expect(most).toBe(4);
  expect(await query(db.url, "SELECT count(*)::int AS held FROM request_slots WHERE budget = 'outlook:box' AND holder IS NOT NULL")).toEqual([{ held: 0 }]);

  // A replica takes the only slot and dies holding it (its connections end, nothing gives it back).
  const doomed = await PostgresSql.open(db.url, { max: 2 });
  let taken!: () => void;
  const holding = new Promise<void>((resolve) => { taken = resolve; });
  void new SharedBudget(doomed, 800).withSlot('outlook:lone', 1, async () => {
    taken();
    await new Promise(() => undefined);
  });
  await holding;
  await doomed.close();
  const started = Date.now();
  await budgets[0]!.withSlot('outlook:lone', 1, async () => undefined);
  // It waited for the lease (800 ms), not for ever.
  expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  expect(Date.now() - started).toBeLessThan(10_000);
});

const event = (key: string, hour: number): OutgoingEvent => ({
  key, uid: `${key.replace(':', '-')}@tripcal`, tripId: 'trip_1', itemId: key.split(':')[0]!, sequence: 1,
  summary: `Activity ${key}`, description: '', location: '', allDay: false,
  start: { utc: `2026-06-15T${String(hour).padStart(2, '0')}:00:00Z`, zone: 'Europe/Lisbon' }, end: { utc: `2026-06-15T${String(hour).padStart(2, '0')}:30:00Z`, zone: 'Europe/Lisbon' },
  reminders: [], transparent: false,
});

test("three replicas writing one Google user's calendar stay inside the fake's per-user window; without the budget they do not", async () => {
  const fake = await startGoogleFake();
  try {
    // Google's per-user window, short for the test: 15 requests per second (batch parts counted one by one).
    fake.quota = { perMinute: 15, windowMs: 1_000, status: 429 };
    const providers = (share: (r: number) => AccountBudget) => replicas.map((_, r) => new GoogleProvider({
      kind: 'google', calendar: 'primary', clientId: fake.clientId, clientSecret: fake.clientSecret, tokens: fake.issueTokens(),
      saveTokens: async () => undefined, apiRoot: fake.url, tokenUrl: fake.tokenUrl, batchSize: 5,
    }, share(r)));
    const write = (ps: GoogleProvider[], round: string) => Promise.allSettled(ps.flatMap((p, r) =>
      Array.from({ length: 8 }, (_, i) => p.create(event(`item_${round}${r}x${i}:activity`, i)))));

    const budgets = replicas.map((sql) => new SharedBudget(sql));
    const paced = await write(providers((r) => ({ spend: (cost) => budgets[r]!.spend('google:traveller', cost, 15, 1_000), withSlot: (fn) => fn() })), 'a');
    expect(paced.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(fake.quotaRefusals).toBe(0);
    expect(fake.liveEvents()).toHaveLength(24);

    // The same work, each replica on its own: Google refuses some of it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const unpaced = await write(providers(() => UNLIMITED), 'b');
    expect(fake.quotaRefusals).toBeGreaterThan(0);
    expect(unpaced.some((s) => s.status === 'rejected')).toBe(true);
  } finally {
    await fake.stop();
  }
});

test('three replicas reading one mailbox keep to its 4 concurrent requests; without the budget Outlook throttles them', async () => {
  const fake = await new GraphFake().start();
  try {
    fake.mailboxConcurrency = 4;
    fake.latencyMs = 30;
    const box = await signIn(fake);
    const readAll = async (share: (r: number) => AccountBudget) => {
      const providers = replicas.map((_, r) => new OutlookProvider(outlookSettings(fake, box), share(r)));
      for (const p of providers) await p.connect();
      const served = fake.faultsServed;
      const reads = await Promise.allSettled(providers.flatMap((p) => Array.from({ length: 8 }, (_, i) => p.get(`AAMkAD-missing-${i}`))));
      return { throttled: fake.faultsServed - served, failed: reads.filter((s) => s.status === 'rejected').length };
    };
    const budgets = replicas.map((sql) => new SharedBudget(sql));
    expect(await readAll((r) => ({ spend: async () => undefined, withSlot: (fn) => budgets[r]!.withSlot('outlook:traveller', 4, fn) })))
      .toEqual({ throttled: 0, failed: 0 });
    const unpaced = await readAll(() => UNLIMITED);
    expect(unpaced.throttled).toBeGreaterThan(0);
  } finally {
    await fake.stop();
  }
});
