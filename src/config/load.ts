// Finds, reads and validates the configuration: YAML, `${VAR}` / `${VAR:-default}` replaced from
// the environment, checked against the schema. A bad file gets one line per problem, each with
// its YAML path, and nothing starts.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { ConfigSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when running on built-in defaults. */
  path: string | null;
  dataDir: string;
}

export interface ConfigOptions {
  configPath?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path === '~' || path.startsWith('~/') ? join(env.HOME || homedir(), path.slice(1)) : path;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'tripcal', 'config.yaml');
}

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'tripcal');
}

function yamlPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(top level)';
}

/** Replaces `${VAR}` and `${VAR:-fallback}` in every string, collecting unset variables as problems. */
/**
 * A secret whose variable is unset does not stop tripcal: the account is left without it and says
 * so in sync_status (an MCP client that starts `tripcal serve` without the variable still gets a
 * working server). Any other unset variable is a configuration error.
 */
function isSecret(path: PropertyKey[]): boolean {
  return (path.length === 3 && path[0] === 'accounts' && path[2] === 'password')
    || (path.length === 2 && path[0] === 'google' && ['client_id', 'client_secret', 'redirect_uri'].includes(String(path[1])))
    || (path.length === 2 && path[0] === 'outlook' && ['client_id', 'tenant_id', 'client_secret', 'redirect_uri'].includes(String(path[1])))
    || (path.length === 2 && path[0] === 'http' && path[1] === 'token');
}

function substitute(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') {
    let missing = false;
    const replaced = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      missing = true;
      if (isSecret(path)) log.warn('a secret\'s variable is not set; what needs it will say so', { key: yamlPath(path), variable: name });
      else problems.push(`${yamlPath(path)}: environment variable ${name} is not set`);
      return '';
    });
    return missing && isSecret(path) ? undefined : replaced;
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], env, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], env, problems)]));
  }
  return value;
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${source}: ${e.message.split('\n')[0]}`));
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([`${source}: the top level must be a mapping of keys`]);
  const problems: string[] = [];
  const substituted = substitute(raw, [], env, problems);
  const parsed = ConfigSchema.safeParse(substituted);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      problems.push(`${yamlPath(issue.path)}: ${issue.message}${keys}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems.map((p) => `${source}: ${p}`));
  return parsed.data;
}

export function loadConfig(options: ConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  let path: string | null = null;
  let config: Config;
  if (options.configPath) {
    path = resolve(options.configPath);
    if (!existsSync(path)) throw new ConfigError([`${path}: no such config file`]);
  } else if (existsSync(defaultConfigPath(env))) {
    path = defaultConfigPath(env);
  }
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError([`${path}: cannot read (${(error as Error).message})`]);
    }
    config = parseConfig(text, path, env);
  } else {
    config = ConfigSchema.parse({});
  }
  // The original specification's variables, when the file does not set them.
  const google = config.google;
  config = {
    ...config,
    google: {
      ...google,
      client_id: google.client_id ?? (env.GOOGLE_CLIENT_ID || undefined),
      client_secret: google.client_secret ?? (env.GOOGLE_CLIENT_SECRET || undefined),
      redirect_uri: google.redirect_uri ?? (env.GOOGLE_REDIRECT_URI || undefined),
    },
    outlook: {
      ...config.outlook,
      client_id: config.outlook.client_id ?? (env.MS_CLIENT_ID || undefined),
      tenant_id: config.outlook.tenant_id ?? (env.MS_TENANT_ID || undefined),
      client_secret: config.outlook.client_secret ?? (env.MS_CLIENT_SECRET || undefined),
      redirect_uri: config.outlook.redirect_uri ?? (env.MS_REDIRECT_URI || undefined),
    },
  };
  const dataDir = resolve(expandHome(options.dataDir || env.TRIPCAL_DATA_DIR || config.data_dir || defaultDataDir(env), env));
  return { config, path, dataDir };
}
