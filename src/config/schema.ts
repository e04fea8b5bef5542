// The shape of config.yaml, validated with zod. Every key here is documented in
// config.example.yaml; defaults make an empty or missing file a working configuration.
import { z } from 'zod';
import { canonicalZone } from '../../core/tz/names.js';
import { ACCOUNT_NAME, USER_ID } from '../../providers/descriptor.js';
import { ACCOUNT_SCHEMAS, CLIENT_SCHEMAS } from '../../providers/registry.js';

export { ACCOUNT_NAME, USER_ID };


/** An IANA zone, stored under its modern name (europe/berlin → Europe/Berlin). */
const zone = z.string()
  .refine((name) => canonicalZone(name) !== null, { message: 'not an IANA time zone (e.g. Europe/Berlin)' })
  .transform((name) => canonicalZone(name)!);


// Each provider folder owns its account schema and its OAuth client's block (providers/<name>/),
// the registry lists them.
export const AccountSchema = z.discriminatedUnion('provider', ACCOUNT_SCHEMAS);
export type AccountConfig = z.infer<typeof AccountSchema>;
export type Policy = AccountConfig['policy'];


const SyncSchema = z
  .object({
    wait_seconds: z.number().min(0).max(120).default(10),
    max_delete_share: z.number().min(0).max(1).default(0.5),
    min_guarded_deletes: z.number().int().min(0).default(10),
    retry_attempts: z.number().int().min(1).max(20).default(5),
    retry_max_wait_seconds: z.number().min(0).max(600).default(60),
    concurrency: z.number().int().min(1).max(16).default(4),
    // The daemon's background sync (node-cron: 5 fields, or 6 with seconds first).
    schedule: z.string().trim().refine((v) => [5, 6].includes(v.split(/\s+/).length), 'a cron expression such as "*/15 * * * *"').default('*/15 * * * *'),
    timezone: zone.optional(),
    jitter_seconds: z.number().min(0).max(3600).default(30),
    on_edit: z.boolean().default(true),
    // On PostgreSQL: a background run not finished after this long is taken as dead (its replica
    // gone) and handed to another replica; failed runs are retried after up to half of it.
    run_timeout_seconds: z.number().int().min(5).max(86_400).default(900),
    // On PostgreSQL: how many accounts one replica syncs at once (each a job from the shared queue).
    jobs_per_replica: z.number().int().min(1).max(64).default(4),
  })
  .strict();

/** Trip checks (check_trip, get_trip's warnings): the shortest connections to accept. */
const ChecksSchema = z
  .object({
    min_connection_minutes: z.number().int().min(0).max(1440).default(60),
    min_connection_minutes_international: z.number().int().min(0).max(1440).default(90),
  })
  .strict();

/**
 * Documents without JSON-LD (PDFs, Wallet passes, boarding-pass barcodes, plain e-mails) are read
 * by KDE's itinerary extractor, run as a child process with these limits. `extractor`: its path,
 * or false for never; unset, tripcal looks where Debian installs it (TRIPCAL_EXTRACTOR overrides).
 */
const ImportSchema = z
  .object({
    extractor: z.union([z.string().trim().min(1), z.literal(false)]).optional(),
    timeout_seconds: z.number().min(1).max(300).default(20),
    max_processes: z.number().int().min(1).max(16).default(2),
    memory_mb: z.number().int().min(128).max(65_536).default(1024),
  })
  .strict();

const LISTEN = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const HttpSchema = z
  .object({
    listen: z.string().regex(LISTEN, 'host:port, e.g. 127.0.0.1:8765 (or [::1]:8765)')
      .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { error: (issue) => `port ${String(issue.input).slice(String(issue.input).lastIndexOf(':') + 1)} is out of range: a port is 0–65535 (e.g. 127.0.0.1:8765)` })
      .default('127.0.0.1:8765'),
    token: z.string().min(16, 'at least 16 characters (e.g. openssl rand -hex 32)').optional(),
    // The user http.token acts for; without it the token may act for any user (an admin's).
    token_user: z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64').optional(),
    // More static tokens (scripts, one person's assistant), each for one user or, without `user`,
    // for any user; `read_only` ones may only call tools that change nothing.
    tokens: z.array(z.object({
      token: z.string().min(16, 'at least 16 characters (e.g. openssl rand -hex 32)'),
      user: z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64').optional(),
      read_only: z.boolean().default(false),
    }).strict()).max(1000).default([]),
    allowed_origins: z.array(z.url()).default([]),
    public_url: z.url({ protocol: /^https?$/ }).optional(),
    // MCP authorization (OAuth 2.1): /mcp takes access tokens (JWTs) for this server, with scope
    // tripcal:read or tripcal:write. Either from an identity provider you run (Keycloak,
    // Authentik, Entra ID, …: `issuer`), or from tripcal's own authorization server (`builtin:
    // true`: a sign-in page for the configured users, passwords set with `tripcal user passwd`).
    auth: z.object({
      builtin: z.boolean().optional(),
      issuer: z.url({ protocol: /^https?$/ }).optional(),
      // The resource the tokens must be for (their `aud`); default <public_url>/mcp.
      audience: z.string().min(1).optional(),
      // The claim that names the tripcal user (default sub).
      user_claim: z.string().min(1).optional(),
      // The issuer's key set; default: the jwks_uri of its metadata.
      jwks_uri: z.url({ protocol: /^https?$/ }).optional(),
      // builtin: how long an access token lasts, and a refresh token unused.
      access_token_minutes: z.number().int().min(1).max(60).optional(),
      refresh_token_days: z.number().int().min(1).max(365).optional(),
      // builtin: clients may name themselves by the https URL of their metadata document
      // (Client ID Metadata Documents, what MCP clients try before registering); fetched from
      // public hosts only unless client_metadata_private_hosts.
      client_metadata_documents: z.boolean().optional(),
      client_metadata_private_hosts: z.boolean().optional(),
    }).strict().superRefine((auth, ctx) => {
      if (auth.builtin === true) {
        for (const key of ['issuer', 'audience', 'user_claim', 'jwks_uri'] as const) {
          if (auth[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is for an external identity provider; with builtin: true tripcal is the issuer (leave it out)' });
        }
      } else {
        if (auth.issuer === undefined) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'required: your identity provider\'s issuer URL, or builtin: true for tripcal\'s own sign-in' });
        for (const key of ['access_token_minutes', 'refresh_token_days', 'client_metadata_documents', 'client_metadata_private_hosts'] as const) {
          if (auth[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is for the built-in authorization server (builtin: true); your identity provider decides its token lifetimes' });
        }
      }
    }).optional(),
    // MCP requests answered at once, open subscription streams included (past it: 503).
    max_requests: z.number().int().min(1).max(10_000).default(100),
    // Before MCP over HTTP was stateless these bounded its sessions; still accepted so an older
    // configuration starts, and ignored (the daemon says so).
    max_sessions: z.number().int().min(1).max(10_000).optional(),
    session_idle_minutes: z.number().positive().max(1440).optional(),
  })
  .strict()
  .superRefine((http, ctx) => {
    if (http.token_user !== undefined && http.token === undefined) {
      ctx.addIssue({ code: 'custom', path: ['token_user'], message: 'names the user of http.token, which is not set' });
    }
    const all = [http.token, ...http.tokens.map((t) => t.token)].filter((t): t is string => t !== undefined);
    if (new Set(all).size !== all.length) ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'every token must be different (one token, one caller)' });
  });

/**
 * Where the model lives: the data directory's SQLite file (the default, nothing to set up), or a
 * PostgreSQL database shared by several daemon replicas (`url`, else DATABASE_URL).
 */
const StoreSchema = z
  .object({
    url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'a PostgreSQL URL: postgres://user:password@host:5432/database').optional(),
  })
  .strict();

/**
 * Push instead of polling: Google watch channels and Graph subscriptions that call the daemon at
 * http.public_url when a calendar changes. On by default when public_url is https; the schedule
 * then polls accounts with a live channel every `poll_hours` only (the safety net).
 */
const PushSchema = z
  .object({
    enabled: z.boolean().optional(),
    // How long a channel is asked to live (Graph allows 10,080 minutes for events; Google picks
    // its own limit, about a week); it is replaced or renewed `renew_before_minutes` before it ends.
    ttl_minutes: z.number().positive().max(10_080).default(10_080),
    renew_before_minutes: z.number().positive().max(1440).default(60),
    // How often the channels are checked (made, renewed, retried after a failure).
    check_seconds: z.number().positive().max(3600).default(300),
    // Accounts with a live channel are polled this often instead of on every sync.schedule tick.
    poll_hours: z.number().positive().max(168).default(6),
    // Notifications within this window make one sync run (the daemon on SQLite; on PostgreSQL the job queue coalesces).
    coalesce_seconds: z.number().min(0).max(60).default(2),
  })
  .strict()
  .refine((p) => p.renew_before_minutes < p.ttl_minutes, { path: ['renew_before_minutes'], message: 'must be less than push.ttl_minutes' });

export const ConfigSchema = z
  .object({
    data_dir: z.string().min(1).optional(),
    store: StoreSchema.default({}),
    default_user: z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64').default('me'),
    users: z
      .record(z.string().regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64'), z.object({ timezone: zone.optional() }).strict())
      .default({}),
    log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    accounts: z.array(AccountSchema).default([]),
    sync: SyncSchema.default(SyncSchema.parse({})),
    ...CLIENT_SCHEMAS,
    checks: ChecksSchema.default(ChecksSchema.parse({})),
    import: ImportSchema.default(ImportSchema.parse({})),
    http: HttpSchema.default(HttpSchema.parse({})),
    push: PushSchema.default(PushSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.accounts.forEach((account, i) => {
      if (seen.has(account.name)) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'name'], message: `"${account.name}" is used by another account` });
      seen.add(account.name);
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
