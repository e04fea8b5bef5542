// `tripcal doctor`: what tripcal found — config, data dir, database, schema, vault, feeds — so a
// user can see at a glance why something does not work. A damaged database or a lost vault key
// is reported (with the way out) rather than crashing the report; either makes it exit 1.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { feedDir } from '../../providers/icsfeed/file.js';
import { openApp, type App } from '../app.js';
import { descriptorOf } from '../../providers/registry.js';
import { loadConfig } from '../config/load.js';
import { airportByCode } from '../model/airports.js';
import { StoreError } from '../store/database.js';
import { MIGRATIONS } from '../store/migrations.js';
import type { ConfiguredAccount } from '../sync/engine.js';
import { extractorVersion, INSTALL_HINT, locateExtractor } from '../trips/extractor.js';
import { pushSettings } from '../daemon/push.js';
import { EXIT, type GlobalOptions } from './common.js';

function missingCredentials(app: App, a: ConfiguredAccount): Promise<string | null> {
  return descriptorOf(a.provider).missingCredentials(a, app.vault);
}

/** Whether documents without JSON-LD can be imported: the extractor's version and path, or how to get it. */
function extractorStatus(app: App): string {
  const where = locateExtractor(app.config.import);
  if (where.state === 'off') return 'off (import.extractor: false, or TRIPCAL_EXTRACTOR=off)';
  if (where.state === 'missing') {
    return `not installed${where.path ? ` at ${where.path}` : ''} (PDFs, Wallet passes and plain e-mails need it: ${INSTALL_HINT})`;
  }
  const version = extractorVersion(where.path);
  return version ? `${version} (${where.path})` : `${where.path} does not answer -v within 3 s`;
}

/** Whether the daemon asks Google and Microsoft for change notifications, and the channels it has (heard from, not ended). */
async function pushStatus(app: App): Promise<string> {
  let settings;
  try {
    settings = pushSettings(app.config);
  } catch (error) {
    return (error as Error).message;
  }
  if (!settings) return app.config.push.enabled === false ? 'off (push.enabled: false)' : 'off (needs http.public_url on https; accounts are polled on sync.schedule)';
  const now = new Date().toISOString();
  const channels = (await app.store.pushChannels.all()).filter((c) => c.expires_at > now);
  const heard = channels.filter((c) => c.confirmed_at).length;
  return `on: notifications at ${settings.base}/push/…; ${heard} live channel${heard === 1 ? '' : 's'}${channels.length > heard ? `, ${channels.length - heard} not heard from yet` : ''}`;
}

async function report(app: App): Promise<{ report: Record<string, unknown>; healthy: boolean }> {
  const { trips, items } = await app.store.counts();
  const feeds = existsSync(feedDir(app.dataDir)) ? readdirSync(feedDir(app.dataDir)).filter((f) => f.endsWith('.ics')) : [];
  const vault = await app.vault.status();
  const vaultOk = vault.state === 'ok' || vault.state === 'empty';
  const configured = Object.entries(app.config.users).map(([id, u]) => ({ id, timezone: u.timezone }));
  const known = (await app.store.listUsers()).map((u) => ({ id: u.id, timezone: u.timezone }));
  const accounts: string[] = [];
  for (const a of await app.sync.accounts()) {
    const missing = vaultOk ? await missingCredentials(app, a) : null;
    accounts.push(`${a.name} (${a.provider}, ${a.user}, ${a.policy}${missing ? `, ${missing}` : ''})`);
  }
  const { kind, where } = app.store.engine;
  return {
    healthy: vaultOk,
    report: {
      config: app.configPath ?? 'none (built-in defaults)',
      data_dir: app.dataDir,
      database: kind === 'sqlite' ? where : `PostgreSQL ${where}`,
      database_check: 'ok',
      schema_version: await app.store.schemaVersion(),
      schema_latest: MIGRATIONS.length,
      ...(kind === 'sqlite' ? { journal_mode: app.store.journalMode() } : {}),
      default_user: app.config.default_user,
      users: [...configured, ...known.filter((k) => !configured.some((c) => c.id === k.id))],
      trips,
      items,
      feeds: feeds.map((f) => join(feedDir(app.dataDir), f)),
      accounts,
      google_client: app.config.google.client_id && app.config.google.client_secret ? 'set' : 'not set (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET)',
      outlook_client: app.config.outlook.client_id ? `set (tenant ${app.config.outlook.tenant_id ?? 'common'})` : 'not set (MS_CLIENT_ID)',
      vault_key: vault.key_source,
      vault: vaultOk ? `${vault.state} (${vault.secrets} secret${vault.secrets === 1 ? '' : 's'})` : `${vault.state}: ${vault.detail}`,
      extractor: extractorStatus(app),
      push: await pushStatus(app),
      airport_data: airportByCode('LAX', 'check').timezone === 'America/Los_Angeles' ? 'ok' : 'wrong',
      node: process.version,
    },
  };
}

/** The part of the report that needs no database, when the database cannot be opened. */
function reportWithoutStore(options: GlobalOptions, problem: StoreError): Record<string, unknown> {
  const { path, dataDir } = loadConfig({ configPath: options.config, dataDir: options.dataDir });
  return { config: path ?? 'none (built-in defaults)', data_dir: dataDir, database: problem.path, database_check: problem.message, node: process.version };
}

function print(report: Record<string, unknown>, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  for (const [key, value] of Object.entries(report)) {
    const shown = Array.isArray(value) ? (value.length ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') : '(none)') : String(value);
    process.stdout.write(`${key.replace(/_/g, ' ').padEnd(15)} ${shown}\n`);
  }
}

export async function doctorCommand(options: GlobalOptions & { json?: boolean }): Promise<void> {
  let app: App;
  try {
    app = await openApp({ configPath: options.config, dataDir: options.dataDir });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    print(reportWithoutStore(options, error), options.json);
    process.exitCode = EXIT.failed;
    return;
  }
  try {
    const { report: shown, healthy } = await report(app);
    print(shown, options.json);
    if (!healthy) process.exitCode = EXIT.failed;
  } finally {
    await app.close();
  }
}
