// Opens everything a command needs: configuration, the store, the trips service and the feed
// publisher. Commands and servers receive an App and close it when done.
import { pathToFileURL } from 'node:url';
import { loadConfig, type ConfigOptions } from './config/load.js';
import type { Config } from './config/schema.js';
import { FeedPublisher } from './feeds/publisher.js';
import { setLogLevel } from './log.js';
import { Presence } from './daemon/lock.js';
import { Store } from './store/store.js';
import { Vault } from './auth/vault.js';
import { providerFingerprint, providerFor } from './sync/accounts.js';
import { SyncEngine, type AccountReport } from './sync/engine.js';
import { Trips } from './trips/service.js';

/** How the sync after an edit went, as tool outputs report it. */
export interface EditSync {
  status: 'synced' | 'pending' | 'failed' | 'not_connected';
  message: string;
  accounts: Array<{ account: string; status: string; message: string | null }>;
}

/** The daemon's background sync, as sync_status and /healthz show it. */
export interface ScheduleInfo {
  expression: string;
  timezone: string;
  jitter_seconds: number;
  next_run: string | null;
}

export interface App {
  config: Config;
  configPath: string | null;
  dataDir: string;
  store: Store;
  trips: Trips;
  feeds: FeedPublisher;
  sync: SyncEngine;
  vault: Vault;
  /** The PostgreSQL URL the model is in (with its password: never shown), or null for SQLite. */
  databaseUrl: string | null;
  /** Syncs the trip (or all trips) to the user's accounts, waiting at most sync.wait_seconds; a timeout leaves it pending. */
  syncAfterEdit(userId: string, tripId?: string): Promise<EditSync>;
  /** Where a user's events can be seen now: their .ics feed (file, or the daemon's URL). */
  calendarLink: (userId: string) => Promise<string>;
  /** A key for one purpose, derived from the vault's: the same in every process on this data directory. */
  derivedKey: (purpose: string) => Promise<Buffer>;
  /** The background sync schedule when the daemon runs one. */
  schedule: () => ScheduleInfo | null;
  /** Queues a background run of an account on any replica, after a delay (set by the daemon on PostgreSQL's job queue). */
  queueSync: ((account: string, delaySeconds: number) => Promise<unknown>) | null;
  /** Flushes due feeds, then closes the database. */
  close(): Promise<void>;
}

export interface OpenOptions extends ConfigOptions {
  /** The PostgreSQL URL to use instead of store.url and DATABASE_URL (tests, embedding). */
  storeUrl?: string;
}

export async function openApp(options: OpenOptions = {}): Promise<App> {
  const { config, path, dataDir } = loadConfig(options);
  if (!process.env.TRIPCAL_LOG_LEVEL) setLogLevel(config.log_level);
  const databaseUrl = options.storeUrl ?? config.store.url ?? process.env.DATABASE_URL ?? null;
  const store = await Store.open(dataDir, databaseUrl);
  const presence = Presence.register(dataDir, process.argv.slice(2).join(' ') || 'tripcal');
  const trips = new Trips(store, config);
  const feeds = new FeedPublisher(store, dataDir);
  trips.onChange((userId) => feeds.schedule(userId));
  const vault = new Vault(store.secrets, dataDir);
  const sync = new SyncEngine(store, config, trips, providerFor(vault, config, store.budget), undefined, (account) => providerFingerprint(account, vault));
  let closed = false;
  const app: App = {
    config,
    configPath: path,
    dataDir,
    store,
    trips,
    feeds,
    sync,
    vault,
    databaseUrl,
    syncAfterEdit: (userId, tripId) => syncAfterEdit(sync, config, userId, tripId, app.queueSync),
    calendarLink: async (userId) => pathToFileURL(feeds.path(userId)).href,
    derivedKey: (purpose) => vault.derivedKey(purpose),
    schedule: () => null,
    queueSync: null,
    async close() {
      if (closed) return;
      closed = true;
      await sync.close();
      await feeds.flush();
      await store.close();
      presence.release();
    },
  };
  return app;
}

async function syncAfterEdit(sync: SyncEngine, config: Config, userId: string, tripId: string | undefined, queue: App['queueSync']): Promise<EditSync> {
  const waitMs = config.sync.wait_seconds * 1000;
  const configured = await sync.accounts(userId);
  if (configured.length === 0) {
    return { status: 'not_connected', message: 'no calendar account is configured; the change is in the .ics feed', accounts: [] };
  }
  if (!config.sync.on_edit) {
    return { status: 'pending', message: 'the change will reach the calendars at the next scheduled sync (sync.on_edit is off)', accounts: [] };
  }
  // With replicas, a run queued behind this one for any of them: this process may die before its own finishes.
  if (queue) await Promise.all(configured.map((a) => queue(a.name, config.sync.wait_seconds + 5)));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  const running = sync.sync({ userId, tripId }).catch((error: Error) => error);
  const outcome = await Promise.race([running, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    return { status: 'pending', message: `the calendar did not answer within ${waitMs / 1000} s; the change will be synced in the background`, accounts: [] };
  }
  if (outcome instanceof Error) return { status: 'failed', message: outcome.message, accounts: [] };
  const reports = outcome as AccountReport[];
  const accounts = reports.map((r) => ({ account: r.account, status: r.status, message: r.message }));
  const ok = reports.every((r) => r.status === 'ok');
  return {
    status: ok ? 'synced' : 'pending',
    message: ok ? `synced to ${reports.map((r) => r.account).join(', ')}` : reports.filter((r) => r.status !== 'ok').map((r) => `${r.account}: ${r.message}`).join('; '),
    accounts,
  };
}
