// The providers' request budget shared by every replica on one PostgreSQL database (migration 11):
// what each Google user spent in the last minute, as a log of (when, how many) that one replica
// at a time reads and appends to under a transaction lock of that budget; and Graph's concurrent
// requests per mailbox, as slots that a request leases and gives back. Times are the database's
// clock, the one clock every replica shares. A replica killed while it holds a slot loses it when
// the lease ends (longer than any request may take: providers give up on a request after 30 s).
import { randomUUID } from 'node:crypto';
import { Semaphores, sleep, waitForRoom, waitUntil, WINDOW_MARGIN_MS, type RequestBudget } from '../../providers/budget.js';
import type { Sql } from './sql.js';

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** A slot's lease: well past the 30 s a request may take. */
export const SLOT_LEASE_MS = 60_000;

export class SharedBudget implements RequestBudget {
  /** This replica's own waiters queue here first, so they ask the database one at a time per free slot. */
  private readonly local = new Semaphores();
  private readonly madeSlots = new Set<string>();

  constructor(private readonly sql: Sql, private readonly leaseMs = SLOT_LEASE_MS) {}

  async spend(name: string, cost: number, limit: number, windowMs: number): Promise<void> {
    const window = windowMs + WINDOW_MARGIN_MS;
    await waitUntil(() => this.sql.transaction(async () => {
      // One replica at a time reads this budget and appends to it; the lock ends with the transaction.
      await this.sql.get("SELECT pg_advisory_xact_lock(hashtextextended('tripcal:budget:' || ?::text, 0))", [name]);
      const now = Number((await this.sql.get<{ now: string }>(`SELECT ${NOW_MS} AS now`))!.now);
      await this.sql.run('DELETE FROM request_spend WHERE budget = ? AND at_ms <= ?', [name, now - window]);
      const spent = (await this.sql.all<{ at_ms: string; cost: number }>('SELECT at_ms, cost FROM request_spend WHERE budget = ? ORDER BY at_ms', [name]))
        .map((r) => [Number(r.at_ms), r.cost] as const);
      const wait = waitForRoom(spent, cost, limit, window, now);
      if (wait === 0) await this.sql.run('INSERT INTO request_spend (budget, at_ms, cost) VALUES (?, ?, ?)', [name, now, cost]);
      return wait;
    }, { isolated: false }));
  }

  async withSlot<T>(name: string, max: number, fn: () => Promise<T>): Promise<T> {
    return this.local.run(name, max, async () => {
      const lease = await this.lease(name, max);
      try {
        return await fn();
      } finally {
        await this.sql.run('UPDATE request_slots SET holder = NULL, until_ms = NULL WHERE budget = ? AND slot = ? AND holder = ?', [name, lease.slot, lease.holder])
          .catch(() => undefined); // the lease ends by itself
      }
    });
  }

  /** A free (or expired) slot of `name`, leased to a new holder; waits, looking again with a growing pause, while all are taken. */
  private async lease(name: string, max: number): Promise<{ slot: number; holder: string }> {
    if (!this.madeSlots.has(`${name}\0${max}`)) {
      const values = Array.from({ length: max }, (_, i) => `(?, ${i})`).join(', ');
      await this.sql.run(`INSERT INTO request_slots (budget, slot) VALUES ${values} ON CONFLICT DO NOTHING`, Array.from({ length: max }, () => name));
      this.madeSlots.add(`${name}\0${max}`);
    }
    const holder = randomUUID();
    for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
      const row = await this.sql.get<{ slot: number }>(`UPDATE request_slots SET holder = ?, until_ms = ${NOW_MS} + ?
        WHERE budget = ? AND slot = (SELECT slot FROM request_slots WHERE budget = ? AND slot < ? AND (holder IS NULL OR until_ms < ${NOW_MS})
          ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING slot`, [holder, this.leaseMs, name, name, max]);
      if (row) return { slot: row.slot, holder };
      await sleep(pause * (0.5 + Math.random()));
    }
  }
}
