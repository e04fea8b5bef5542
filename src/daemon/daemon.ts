// `tripcal daemon`: the long-running process for self-hosters and agent frameworks. Background
// sync on a schedule, MCP over Streamable HTTP, the .ics feeds over HTTP, /healthz. SIGTERM /
// SIGINT stop it cleanly (writes in flight finish, the rest stays pending, the database is
// closed); SIGHUP reloads the config file (accounts and sync settings; the listen address needs
// a restart). One daemon per data directory; `--replica` processes beside it answer MCP and the
// feeds over HTTP (MCP is stateless, so a load balancer may send any request to any of them) and
// leave the background sync to the daemon.
import { openApp, type App } from '../app.js';
import { loadConfig, type ConfigOptions } from '../config/load.js';
import { log, setLogLevel } from '../log.js';
import { DaemonLock } from './lock.js';
import { FeedServer } from './feeds.js';
import { AccessTokens } from './access-tokens.js';
import { AuthServer } from './auth-server.js';
import { ConfigError } from '../errors.js';
import { checkListen, type Listen } from './exposure.js';
import type { Config } from '../config/schema.js';
import { DaemonHttp, health, type StaticToken } from './http.js';
import { Scheduler } from './scheduler.js';
import { SyncJobs } from './sync-jobs.js';
import { PushManager, pushSettings } from './push.js';

/** http.token (for http.token_user, else for any user) and http.tokens, with who each is for. */
function staticTokens(config: Config): StaticToken[] {
  const { token, token_user: user, tokens } = config.http;
  return [
    ...(token ? [{ token, principal: { user, write: true } }] : []),
    ...tokens.map((t) => ({ token: t.token, principal: { user: t.user, write: !t.read_only } })),
  ];
}

/** The address clients know this server by: http.public_url, else the listen address. */
function baseOf(config: Config, listen: Listen): string {
  return (config.http.public_url ?? `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`).replace(/\/$/, '');
}

/** http.auth with an identity provider, as the HTTP side checks it: the audience is <public_url>/mcp unless set. */
function accessTokens(config: Config, listen: Listen): AccessTokens | undefined {
  const auth = config.http.auth;
  if (!auth?.issuer || auth.builtin) return undefined;
  return new AccessTokens({ issuer: auth.issuer, audience: auth.audience ?? `${baseOf(config, listen)}/mcp`, userClaim: auth.user_claim ?? 'sub', jwksUri: auth.jwks_uri });
}

/**
 * http.auth.builtin: tripcal's own authorization server. Its issuer is http.public_url (what
 * remote clients reach, over https), or without one the loopback address it listens on (clients
 * on this machine only).
 */
async function authServer(app: App, listen: Listen): Promise<AuthServer | undefined> {
  const auth = app.config.http.auth;
  if (!auth?.builtin) return undefined;
  if (!app.config.http.public_url) {
    if (!listen.loopback) {
      throw new ConfigError(['http.auth.builtin: set http.public_url (the https:// address clients reach tripcal at): it is the issuer of the tokens']);
    }
    if (listen.port === 0) throw new ConfigError(['http.auth.builtin: without http.public_url, http.listen needs a fixed port (the issuer is http://HOST:PORT)']);
  }
  const base = baseOf(app.config, listen);
  return AuthServer.open(app.store.authServer, app.vault, {
    issuer: base, resource: `${base}/mcp`,
    accessTokenMinutes: auth.access_token_minutes ?? 10, refreshTokenDays: auth.refresh_token_days ?? 30,
    clientMetadataDocuments: auth.client_metadata_documents ?? true, clientMetadataPrivateHosts: auth.client_metadata_private_hosts ?? false,
  });
}

/** How long a shutdown waits for writes in flight before exiting anyway. */
const SHUTDOWN_GRACE_MS = 15_000;

export interface Daemon {
  app: App;
  http: DaemonHttp;
  /** What to tell the person who started it: where the data, the MCP endpoint and the feeds are. */
  banner: string;
  stop(reason: string): Promise<void>;
}

/** The background sync: node-cron in this process (SQLite), or jobs every replica shares (PostgreSQL). */
type Background = Pick<Scheduler, 'start' | 'stop' | 'info'> & { depth?: () => Promise<{ queued: number }> }
  & { trigger?: (account: string, coalesceMs: number) => unknown; due?: (account: string) => Promise<boolean> };

async function banner(app: App, http: DaemonHttp, feeds: FeedServer, base: string, scheduler: Background | null, push: PushManager | null = null): Promise<string> {
  const users = [...new Set([app.config.default_user, ...(await app.store.listUsers()).map((u) => u.id)])];
  const schedule = scheduler?.info();
  const accounts = await app.sync.accounts();
  const feedUrls = new Map<string, string>();
  for (const u of users) feedUrls.set(u, await feeds.url(base, u));
  return [
    scheduler instanceof SyncJobs ? 'tripcal daemon is running (on PostgreSQL: one of any number of replicas).'
      : scheduler ? 'tripcal daemon is running.' : 'tripcal daemon (replica) is running.',
    `  Data:            ${app.dataDir}${app.configPath ? ` (config ${app.configPath})` : ' (no config file: built-in defaults)'}`,
    `  Page:            ${http.baseUrl}/`,
    `  MCP (HTTP):      ${http.baseUrl}/mcp`,
    ...users.map((u) => {
      const url = feedUrls.get(u)!;
      return `  Feed of ${u}:`.padEnd(19) + `${url}\n${' '.repeat(19)}subscribe: ${url.replace(/^https?:/, 'webcal:')}`;
    }),
    `  Health:          ${http.baseUrl}/healthz`,
    ...(push ? [`  Push:            ${base}/push/google, ${base}/push/microsoft (Google and Outlook accounts polled every ${app.config.push.poll_hours} h while a channel is live)`] : []),
    !schedule
      ? '  Background sync: left to the daemon of this data directory (this is a replica)'
      : accounts.length
      ? `  Background sync: ${accounts.map((a) => a.name).join(', ')} on "${schedule.expression}" (${schedule.timezone}), next ${schedule.next_run ?? 'not planned'}`
        + (scheduler instanceof SyncJobs ? ' (jobs in PostgreSQL, shared by every replica)' : '')
      : '  Background sync: no calendar account configured (the feeds are kept up to date)',
    '',
  ].join('\n');
}

/**
 * Starts every part or none: a failure at any step (a lost vault key, a damaged database, a port
 * in use) undoes the steps before it — the port, the lock, the scheduler, the database — and is
 * thrown, so the process exits non-zero instead of running half-started.
 */
export async function startDaemon(options: ConfigOptions, { replica = false } = {}): Promise<Daemon> {
  const app = await openApp(options);
  const undo: Array<() => unknown> = [() => app.close()];
  const unwind = async () => {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => undefined);
  };
  try {
    Scheduler.check(app.config);
    const pushing = pushSettings(app.config);
    const tokens = staticTokens(app.config);
    // Access tokens of an identity provider guard /mcp as a static token does.
    const guard = tokens[0]?.token ?? (app.config.http.auth ? 'access tokens' : undefined);
    const listen = await checkListen(app.config.http.listen, { token: guard, publicUrl: app.config.http.public_url });
    // A replica takes no lock: SQLite in WAL mode shares the database, as with `tripcal serve`.
    const lock = replica ? null : DaemonLock.take(app.dataDir);
    undo.push(() => lock?.release());
    // Secrets first: the feed links and every calendar account need the vault key.
    await app.vault.check();
    const feeds = new FeedServer(app);
    await feeds.loadAll();
    const builtin = await authServer(app, listen);
    // On PostgreSQL every replica takes jobs from the one queue; on SQLite the one daemon schedules.
    const scheduler: Background | null = app.databaseUrl ? await SyncJobs.open(app.databaseUrl, app.sync, app.config, (fn) => app.store.exclusive('sync-jobs:setup', fn))
      : replica ? null : new Scheduler(app.sync, app.config);
    if (scheduler) app.schedule = () => scheduler.info();
    if (scheduler instanceof SyncJobs) {
      undo.push(() => scheduler.stop());
      app.queueSync = (account, delaySeconds) => scheduler.queue(account, delaySeconds);
    }
    const push = pushing ? new PushManager(app, scheduler?.trigger ? (scheduler as Required<Pick<Background, 'trigger'>>) : null, pushing) : null;
    if (push && scheduler) scheduler.due = (account) => push.due(account);
    const http: DaemonHttp = new DaemonHttp(app, {
      listen,
      tokens,
      accessTokens: builtin?.accessTokens ?? accessTokens(app.config, listen),
      authServer: builtin,
      allowedOrigins: app.config.http.allowed_origins,
      publicUrl: app.config.http.public_url,
      maxRequests: app.config.http.max_requests,
      push: push ?? undefined,
      feeds,
      health: async (): Promise<Record<string, unknown>> => ({
        ...(await health(app)), mcp_requests: http.requestsInFlight, ...(scheduler?.depth ? { sync_jobs: await scheduler.depth() } : {}),
        ...(push ? { push: await push.health() } : {}),
      }),
    });
    await http.start();
    if (app.config.http.max_sessions !== undefined || app.config.http.session_idle_minutes !== undefined) {
      log.warn('http.max_sessions and http.session_idle_minutes are no longer used: MCP over HTTP keeps no sessions (see http.max_requests)');
    }
    undo.push(() => http.close());
    const base = () => (app.config.http.public_url ?? http.baseUrl).replace(/\/$/, '');
    const fileLink = app.calendarLink;
    app.calendarLink = async (userId) => {
      try {
        return await feeds.url(base(), userId);
      } catch (error) {
        // Only the link is lost, never the edit that asked for it: the feed file is there too.
        log.warn('no feed link for a tool result', { error: (error as Error).message });
        return fileLink(userId);
      }
    };
    await scheduler?.start();
    undo.push(() => scheduler?.stop());
    push?.start();
    undo.push(() => push?.stop());
    await app.feeds.publishAll();
    return await running(app, options, { http, feeds, scheduler, lock, base, push });
  } catch (error) {
    await unwind();
    throw error;
  }
}

interface Parts {
  http: DaemonHttp;
  feeds: FeedServer;
  scheduler: Background | null;
  lock: DaemonLock | null;
  base: () => string;
  push: PushManager | null;
}

async function running(app: App, options: ConfigOptions, { http, feeds, scheduler, lock, base, push }: Parts): Promise<Daemon> {
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.info('stopping', { reason });
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
      await http.close();
      // Runs under way finish their writes in flight (the rest stays pending), then the database closes.
      const finish = async () => {
        await push?.stop();
        await Promise.all([scheduler?.stop(), app.close()]);
      };
      await Promise.race([finish(), deadline]);
      lock?.release();
      log.info('stopped', { reason });
    })();
    return stopping;
  };
  const reload = async () => {
    try {
      const fresh = loadConfig(options);
      const listenChanged = fresh.config.http.listen !== app.config.http.listen;
      const before = (await app.sync.accounts()).map((a) => a.name);
      Scheduler.check(fresh.config);
      Object.assign(app.config, fresh.config, { http: app.config.http });
      if (!process.env.TRIPCAL_LOG_LEVEL) setLogLevel(app.config.log_level);
      await scheduler?.start();
      void push?.pass();
      const after = (await app.sync.accounts()).map((a) => a.name);
      log.info('configuration reloaded', {
        added: after.filter((a) => !before.includes(a)), removed: before.filter((a) => !after.includes(a)),
        ...(listenChanged ? { note: 'http settings change only with a restart' } : {}),
      });
    } catch (error) {
      log.error('configuration not reloaded; the running one stays', { error: (error as Error).message });
    }
  };
  process.on('SIGHUP', () => void reload());
  return { app, http, banner: await banner(app, http, feeds, base(), scheduler, push), stop };
}
