// Background sync when the model is in PostgreSQL: jobs on pg-boss (its 10.x line, in the same
// database), shared by every replica. The schedule is one pg-boss cron (each replica declares it;
// pg-boss fires it once per minute slot, whichever replica's clock comes first); each tick queues
// one job per account, with the account as singleton key under the `stately` policy, so an
// account has at most one run going and one waiting, however many replicas tick or how often.
// Any replica's worker takes a job; a run that ends in an error is retried with backoff; a job
// whose replica died in the middle expires and is taken by another (the links' write-ahead states
// make the second run safe, and the account lock keeps two runs apart). Stopping lets the runs
// under way finish, for a while, and hands what is left back to the queue for another replica.
import cron from 'node-cron';
import type PgBoss from 'pg-boss';
import type { ScheduleInfo } from '../app.js';
import type { Config } from '../config/schema.js';
import { log } from '../log.js';
import { queueDepth, type QueueDepth } from '../store/job-queue.js';
import { scheduleZone } from './scheduler.js';
import type { SyncEngine } from '../sync/engine.js';

const TICK = 'tripcal-sync-tick';
const ACCOUNT = 'tripcal-sync-account';

export interface JobOptions {
  /** A run not finished after this long is taken as dead (its replica gone) and given to another. */
  expireSeconds?: number;
  /** How often an idle worker asks for a job. */
  pollSeconds?: number;
  /** How often pg-boss looks for expired jobs. */
  maintenanceSeconds?: number;
  /** The first retry's wait after a failed run (then growing). */
  retryDelaySeconds?: number;
}

export class SyncJobs {
  /** The runs this replica has under way: job id → account. */
  private readonly active = new Map<string, string>();

  private constructor(
    private readonly boss: PgBoss,
    private readonly engine: SyncEngine,
    private readonly config: Config,
    private readonly options: Required<JobOptions>,
  ) {}

  /**
   * Connects to the queue (making its tables in schema tripcal_jobs the first time) and declares
   * the queues. `alone` runs that under a lock of the database: pg-boss setting itself up in two
   * replicas at once deadlocks.
   */
  static async open(url: string, engine: SyncEngine, config: Config, alone: <T>(fn: () => Promise<T>) => Promise<T>, options: JobOptions = {}): Promise<SyncJobs> {
    // A dead replica's run is found by pg-boss's maintenance, so it looks several times per timeout.
    const timeout = config.sync.run_timeout_seconds;
    const settings = {
      expireSeconds: options.expireSeconds ?? timeout, pollSeconds: options.pollSeconds ?? 2,
      maintenanceSeconds: options.maintenanceSeconds ?? Math.max(1, Math.min(60, Math.floor(timeout / 5))),
      retryDelaySeconds: options.retryDelaySeconds ?? Math.max(1, Math.min(30, Math.floor(timeout / 2))),
    };
    // Loaded only here: a daemon on SQLite never reads it.
    const { default: Boss } = await import('pg-boss');
    const boss = new Boss({
      connectionString: url, schema: 'tripcal_jobs', application_name: 'tripcal (jobs)', max: 4,
      maintenanceIntervalSeconds: settings.maintenanceSeconds, monitorStateIntervalSeconds: Math.max(settings.maintenanceSeconds, 10),
    });
    boss.on('error', (error) => log.warn('the sync job queue reported an error', { error: error.message }));
    await alone(async () => {
      await boss.start();
      await boss.createQueue(TICK, { name: TICK, policy: 'singleton', retryLimit: 0 });
      await boss.createQueue(ACCOUNT, {
        name: ACCOUNT, policy: 'stately', retryLimit: config.sync.retry_attempts, retryDelay: settings.retryDelaySeconds, retryBackoff: true, expireInSeconds: settings.expireSeconds,
      });
    });
    return new SyncJobs(boss, engine, config, settings);
  }

  get timezone(): string {
    return scheduleZone(this.config);
  }

  /** Declares the schedule (again, after a reload) and starts taking jobs. */
  async start(): Promise<void> {
    await this.boss.schedule(TICK, this.config.sync.schedule, {}, { tz: this.timezone });
    await this.boss.offWork(TICK).catch(() => undefined);
    await this.boss.offWork(ACCOUNT).catch(() => undefined);
    await this.boss.work(TICK, { pollingIntervalSeconds: this.options.pollSeconds }, async () => {
      await this.tick();
    });
    // sync.jobs_per_replica workers: each takes one account's run at a time. pg-boss waits out the
    // polling interval even after a job; a worker that just ran one asks again at once (notified),
    // so a queue of many accounts goes at the speed of the runs, not one per interval.
    for (let i = 0; i < this.config.sync.jobs_per_replica; i++) {
      let id = '';
      id = await this.boss.work<{ account: string }>(ACCOUNT, { pollingIntervalSeconds: this.options.pollSeconds }, async ([job]) => {
        this.active.set(job!.id, job!.data.account);
        try {
          await this.run(job!.data.account);
        } finally {
          this.active.delete(job!.id);
          if (id) this.boss.notifyWorker(id);
        }
      });
    }
  }

  /** Whether a tick should queue the account (push: an account with a live channel is polled less often). */
  due: (account: string) => Promise<boolean> = async () => true;

  /** Queues one run for each account (an account with a run waiting already keeps that one). */
  async tick(): Promise<number> {
    let queued = 0;
    for (const account of await this.engine.accounts()) {
      if (!(await this.due(account.name).catch(() => true))) continue;
      if (await this.queue(account.name)) queued += 1;
    }
    return queued;
  }

  /**
   * Queues a run of `account` in `delaySeconds` for whichever replica is free then (coalesced with
   * one already waiting: singleton key, `stately`). An edit's own sync runs at once in the replica
   * that took the edit; a run queued behind it is what finishes the job should that replica die
   * first (a quiet run otherwise). A change notice (push) from any replica queues one at once.
   */
  async queue(account: string, delaySeconds = 0): Promise<boolean> {
    return (await this.boss.send(ACCOUNT, { account }, { singletonKey: account, startAfter: delaySeconds })) !== null;
  }

  /** A change notice (push): one run of the account, now (see queue). */
  trigger(account: string): Promise<boolean> {
    return this.queue(account);
  }

  /** One account's run; an error (the calendar unreachable, rate limited) fails the job, to be retried with backoff. */
  private async run(account: string): Promise<void> {
    const [report] = await this.engine.sync({ account });
    if (!report) return;
    log.info('background sync', { account, status: report.status, created: report.counts.created, updated: report.counts.updated, deleted: report.counts.deleted, requests: report.requests });
    // needs_reauth waits for a person and guarded for a decision: retrying would not help.
    if (report.status === 'error') throw new Error(report.message ?? 'the sync failed');
  }

  /** Runs waiting and under way, and the oldest one's age, for /healthz (a number that only grows: no replica takes work). */
  depth(): Promise<QueueDepth> {
    return queueDepth(this.boss.getDb(), ACCOUNT);
  }

  info(): ScheduleInfo {
    const probe = cron.createTask(this.config.sync.schedule, () => undefined, { timezone: this.timezone });
    const next = probe.getNextRun();
    void probe.destroy();
    return { expression: this.config.sync.schedule, timezone: this.timezone, jitter_seconds: 0, next_run: next ? next.toISOString() : null };
  }

  /**
   * No new jobs taken; the runs under way may finish for `graceMs`; what is left is handed back
   * (failed as "the replica stopped", so it is retried after sync.retry delay by whichever
   * replica is free, instead of waiting out sync.run_timeout_seconds). The run itself ends with
   * this process; the account lock keeps the retry from running beside it meanwhile.
   * `handBack: false` leaves them to expire, as a replica that died would (tests).
   */
  async stop(graceMs = 10_000, { handBack = true }: { handBack?: boolean } = {}): Promise<void> {
    await this.boss.offWork(ACCOUNT).catch(() => undefined);
    await this.boss.offWork(TICK).catch(() => undefined);
    const until = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = [...this.active.keys()];
    if (handBack && left.length > 0) {
      await this.boss.fail(ACCOUNT, left).catch((error: Error) => log.warn('sync jobs not handed back; they expire instead', { error: error.message }));
      log.info('sync jobs handed back to the queue', { jobs: left.length, accounts: [...this.active.values()] });
    }
    await this.boss.stop({ graceful: false, wait: true });
  }
}
