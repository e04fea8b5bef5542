// What a provider may spend against its service's limits, whichever process spends it: Google's
// requests per user per minute (a sliding window; each part of a batch counts) and Outlook's
// concurrent requests per mailbox. A provider asks before each request and waits when the answer
// is "not yet", so the service never has to refuse it. Processes that share a database share the
// budget (src/store/budget.ts, in PostgreSQL); a lone daemon keeps it in memory (LocalBudget).

export interface RequestBudget {
  /**
   * Waits until `cost` more requests to `name` fit in `limit` per `windowMs`, counted over every
   * process that shares this budget, then counts them as spent now.
   */
  spend(name: string, cost: number, limit: number, windowMs: number): Promise<void>;
  /** Runs `fn` holding one of `max` slots of `name`: at most `max` run at once, over every process. */
  withSlot<T>(name: string, max: number, fn: () => Promise<T>): Promise<T>;
}

/** One account's share of the budget, as its provider sees it. */
export interface AccountBudget {
  spend(cost: number): Promise<void>;
  /** `shared`: what the limit is really for, when several accounts may share it (an Outlook mailbox); default the account. */
  withSlot<T>(fn: () => Promise<T>, shared?: string): Promise<T>;
}

/**
 * A request's journey to the service takes a moment after it is counted: an entry is kept this
 * much longer than the window, so one counted at its very end still lies inside the service's
 * window when the next is sent.
 */
export const WINDOW_MARGIN_MS = 1_000;

/** The longest a spend waits in one sleep before looking again (another process may have freed room sooner). */
const LONGEST_NAP_MS = 5_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How long until `cost` more fits, given what was spent in the window (oldest first, each
 * `[at, cost]`): 0 when it fits now. The wait is until enough of the oldest entries have left.
 */
export function waitForRoom(spent: ReadonlyArray<readonly [at: number, cost: number]>, cost: number, limit: number, windowMs: number, now: number): number {
  let used = 0;
  for (const [, c] of spent) used += c;
  let over = used + cost - limit;
  if (over <= 0) return 0;
  for (const [at, c] of spent) {
    over -= c;
    if (over <= 0) return Math.max(1, at + windowMs - now + 1);
  }
  // More than the whole limit at once: the window must be empty first, then it goes alone.
  const last = spent.at(-1);
  return last ? Math.max(1, last[0] + windowMs - now + 1) : 0;
}

/** Sleeps until `attempt` says there is room (0), looking again at least every few seconds. */
export async function waitUntil(attempt: () => Promise<number>): Promise<void> {
  for (;;) {
    const wait = await attempt();
    if (wait <= 0) return;
    await sleep(Math.min(wait, LONGEST_NAP_MS));
  }
}

/** A counting semaphore: at most `max` holders, the rest wait in order. */
export class Semaphore {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.held -= 1;
    }
  }
}

/** A semaphore per name, made the first time the name is asked for with its `max`. */
export class Semaphores {
  private readonly byName = new Map<string, Semaphore>();

  run<T>(name: string, max: number, fn: () => Promise<T>): Promise<T> {
    let semaphore = this.byName.get(name);
    if (!semaphore) this.byName.set(name, (semaphore = new Semaphore(max)));
    return semaphore.run(fn);
  }
}

/** The budget of one process alone (a daemon on SQLite): kept in memory. */
export class LocalBudget implements RequestBudget {
  private readonly spent = new Map<string, Array<[number, number]>>();
  private readonly slots = new Semaphores();

  async spend(name: string, cost: number, limit: number, windowMs: number): Promise<void> {
    const window = windowMs + WINDOW_MARGIN_MS;
    await waitUntil(async () => {
      const now = Date.now();
      const log = (this.spent.get(name) ?? []).filter(([at]) => at > now - window);
      this.spent.set(name, log);
      const wait = waitForRoom(log, cost, limit, window, now);
      if (wait === 0) log.push([now, cost]);
      return wait;
    });
  }

  withSlot<T>(name: string, max: number, fn: () => Promise<T>): Promise<T> {
    return this.slots.run(name, max, fn);
  }
}

/** No limits at all (a provider built on its own, by tests or the CLI's checks). */
export const UNLIMITED: AccountBudget = { spend: async () => undefined, withSlot: (fn) => fn() };

/** An account's share, named `provider:account` in the budget (`provider:shared:…` for what accounts share), with its provider's limits. */
export function accountBudget(budget: RequestBudget, provider: string, account: string, limits: { perMinute?: number; concurrent?: number }): AccountBudget {
  const name = `${provider}:${account}`;
  return {
    spend: (cost) => (limits.perMinute ? budget.spend(name, cost, limits.perMinute, 60_000) : Promise.resolve()),
    withSlot: (fn, shared) => (limits.concurrent ? budget.withSlot(shared ? `${provider}:shared:${shared.toLowerCase()}` : name, limits.concurrent, fn) : fn()),
  };
}
