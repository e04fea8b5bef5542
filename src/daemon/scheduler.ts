// Background sync on the configured schedule (node-cron), one task per account with its own
// random delay (jitter, so many daemons do not hit a provider at the same second). Nothing is
// skipped silently: a tick that finds the account's previous run still going is logged and run
// right after it; a tick the process missed (suspended, event loop blocked) is logged and run now.
import cron, { type ScheduledTask } from 'node-cron';
import type { ScheduleInfo } from '../app.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import type { SyncEngine } from '../sync/engine.js';


/** The zone the schedule's clock times are in: sync.timezone, else the default user's. */
export function scheduleZone(config: Config): string {
  return config.sync.timezone ?? config.users[config.default_user]?.timezone ?? 'UTC';
}

export class Scheduler {
  private tasks = new Map<string, ScheduledTask>();
  private catchUp = new Set<string>();
  private runs = new Map<string, Promise<void>>();
  /** Push notices waiting out their coalescing window, per account. */
  private readonly triggers = new Map<string, NodeJS.Timeout>();
  /** Whether a scheduled tick should sync the account (push: an account with a live channel is polled less often). */
  due: (account: string) => Promise<boolean> = async () => true;

  constructor(
    private readonly engine: SyncEngine,
    private readonly config: Config,
  ) {}

  get timezone(): string {
    return scheduleZone(this.config);
  }

  static check(config: Config): void {
    const detail = cron.validateDetailed(config.sync.schedule);
    if (!detail.valid) {
      throw new ConfigError([`sync.schedule: "${config.sync.schedule}" is not a cron expression (${detail.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`]);
    }
  }

  /** (Re)creates one task per configured account. */
  async start(): Promise<void> {
    Scheduler.check(this.config);
    const accounts = await this.engine.accounts();
    this.stopTasks();
    for (const account of accounts) {
      const task = cron.createTask(this.config.sync.schedule, () => this.scheduled(account.name), {
        name: `sync ${account.name}`,
        timezone: this.timezone,
        maxRandomDelay: this.config.sync.jitter_seconds * 1000,
        suppressMissedWarning: true,
      });
      task.on('execution:missed', () => {
        log.warn('a scheduled sync was missed (the process was suspended or busy); running it now', { account: account.name });
        void this.tick(account.name, 'missed');
      });
      void task.start();
      this.tasks.set(account.name, task);
    }
    log.info('background sync scheduled', { schedule: this.config.sync.schedule, timezone: this.timezone, accounts: this.tasks.size });
  }

  private async scheduled(account: string): Promise<void> {
    let due = true;
    try {
      due = await this.due(account);
    } catch (error) {
      log.warn('could not tell whether the account is due; syncing it', { account, error: (error as Error).message });
    }
    if (due) await this.tick(account, 'scheduled');
  }

  /**
   * A change notice (push): the account runs once `coalesceMs` has passed; notices meanwhile join
   * that run, and one arriving during it makes one more run after it (the catch-up).
   */
  trigger(account: string, coalesceMs: number): void {
    if (this.triggers.has(account) || !this.tasks.has(account)) return;
    this.triggers.set(account, setTimeout(() => {
      this.triggers.delete(account);
      void this.tick(account, 'push');
    }, coalesceMs));
  }

  private tick(account: string, reason: 'scheduled' | 'missed' | 'catch-up' | 'push'): Promise<void> {
    if (this.runs.has(account)) {
      if (!this.catchUp.has(account)) log.warn('the previous sync is still running; this one follows right after it', { account });
      this.catchUp.add(account);
      return Promise.resolve();
    }
    const run = this.engine.sync({ account })
      .then(([report]) => {
        if (report?.status === 'ok') log.info('background sync', { account, reason, created: report.counts.created, updated: report.counts.updated, deleted: report.counts.deleted, requests: report.requests });
      })
      .catch((error: Error) => log.error('background sync failed', { account, error: error.message }))
      .finally(() => {
        this.runs.delete(account);
        if (this.catchUp.delete(account) && this.tasks.has(account)) void this.tick(account, 'catch-up');
      });
    this.runs.set(account, run);
    return run;
  }

  info(): ScheduleInfo {
    const next = [...this.tasks.values()].map((t) => t.getNextRun()).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0];
    return { expression: this.config.sync.schedule, timezone: this.timezone, jitter_seconds: this.config.sync.jitter_seconds, next_run: next ? next.toISOString() : null };
  }

  private stopTasks(): void {
    for (const timer of this.triggers.values()) clearTimeout(timer);
    this.triggers.clear();
    for (const task of this.tasks.values()) void task.destroy();
    this.tasks.clear();
  }

  /** No new runs; resolves when the runs under way have ended. */
  async stop(): Promise<void> {
    this.stopTasks();
    this.catchUp.clear();
    await Promise.allSettled([...this.runs.values()]);
  }
}
