// Finds, reads and validates the configuration: YAML, `${VAR}` / `${VAR:-default}` replaced from
// the environment, checked against the schema. A bad file gets one line per problem, each with
// its YAML path, and nothing starts.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlias, isNode, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { CLIENT_BLOCKS } from '../../providers/registry.js';
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
 * working server). Any other unset variable is a configuration error. The OAuth clients' keys are
 * the ones their providers' descriptors list (`signInSetup.env`).
 */
function isSecret(path: PropertyKey[]): boolean {
  return (path.length === 3 && path[0] === 'accounts' && path[2] === 'password')
    || (path.length === 2 && CLIENT_BLOCKS.some((c) => c.block === path[0] && Object.hasOwn(c.env, String(path[1]))))
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

/** Line and column (1-based) of an offset in the text. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** "config.yaml line 3, column 7: reason", with no dangling punctuation at the end. */
function at(source: string, text: string, offset: number | undefined, reason: string): string {
  const clean = reason.split('\n')[0]!.replace(/[\s:;,]+$/, '');
  if (offset === undefined) return `${source}: ${clean}`;
  const { line, column } = lineColumn(text, offset);
  return `${source} line ${line}, column ${column}: ${clean}`;
}

/** Aliases a config file may expand at most: a file that expands more is an attack ("billion laughs"), not a configuration. */
const MAX_ALIAS_COUNT = 100;

/** Where the first alias is that a failed toJS is about (unresolved: its anchor is not set before it). */
function aliasOffset(doc: Document, unresolved: boolean): number | undefined {
  const anchors = new Set<string>();
  let found: number | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      if (!unresolved || !anchors.has(node.source)) {
        found = node.range?.[0];
        return visit.BREAK;
      }
    } else if (isNode(node) && node.anchor) anchors.add(node.anchor);
    return undefined;
  });
  return found;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The schema under wrappers (default, optional, pipe…). */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema as { _zod?: { def: Record<string, any> } } | undefined;
  for (;;) {
    const def = s?._zod?.def;
    if (!def) return s as z.ZodType | undefined;
    if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else return s as z.ZodType;
  }
}

/** The keys the schema knows for the mapping at `path` (an account's by its provider). */
function knownKeys(path: ReadonlyArray<PropertyKey>, value: unknown): string[] {
  let schema = unwrap(ConfigSchema);
  let here = value;
  const pick = (s: z.ZodType | undefined, v: unknown) => {
    const def = (s as { _zod?: { def: Record<string, any> } } | undefined)?._zod?.def;
    if (def?.type !== 'union') return s;
    const options = (def.options as z.ZodType[]).map(unwrap);
    const provider = (v as { provider?: unknown } | null)?.provider;
    return options.find((o) => ((o as any)?._zod?.def?.shape?.provider?._zod?.def?.values ?? []).includes(provider)) ?? undefined;
  };
  for (const key of path) {
    const def = (pick(schema, here) as { _zod?: { def: Record<string, any> } } | undefined)?._zod?.def;
    if (def?.type === 'object') schema = unwrap(def.shape[key as string]);
    else if (def?.type === 'array') schema = unwrap(def.element);
    else if (def?.type === 'record') schema = unwrap(def.valueType);
    else return [];
    here = (here as Record<PropertyKey, unknown> | null)?.[key];
  }
  const def = (pick(schema, here) as { _zod?: { def: Record<string, any> } } | undefined)?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/** The known key at most 2 edits away from `key` (the nearest), if any. */
function suggestion(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = levenshtein(key.toLowerCase(), k);
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: k, distance };
  }
  return best?.key;
}

/** " (did you mean wait_seconds?)" for one key, " (colour; calender: did you mean calendar?)" for several. */
function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  const guesses = keys.map((k) => suggestion(k, known));
  if (keys.length === 1) return guesses[0] ? ` (did you mean ${guesses[0]}?)` : ` (${keys[0]})`;
  return ` (${keys.map((k, i) => (guesses[i] ? `${k}: did you mean ${guesses[i]}?` : k)).join('; ')})`;
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => at(source, text, e.pos?.[0], e.message)));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    // yaml throws (a ReferenceError) for an alias without its anchor, or one expanding too much.
    const message = (error as Error).message;
    const unresolved = /unresolved alias/i.test(message);
    const reason = unresolved ? message : `aliases expand too much (more than ${MAX_ALIAS_COUNT} uses of anchored values, as a "billion laughs" file does); nothing was read`;
    throw new ConfigError([at(source, text, aliasOffset(doc, unresolved), reason)]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError([`${source}: the top level must be a mapping of keys`]);
  const problems: string[] = [];
  const substituted = substitute(raw, [], env, problems);
  const parsed = ConfigSchema.safeParse(substituted);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys, knownKeys(issue.path, substituted)) : '';
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
  // The original specification's variables (GOOGLE_CLIENT_ID, MS_CLIENT_ID, …: each OAuth
  // provider's descriptor lists its own), when the file does not set them.
  const blocks = config as unknown as Record<string, Record<string, unknown>>;
  config = {
    ...config,
    ...Object.fromEntries(CLIENT_BLOCKS.map(({ block, env: variables }) => [block, {
      ...blocks[block],
      ...Object.fromEntries(Object.entries(variables).map(([key, name]) => [key, blocks[block]?.[key] ?? (env[name] || undefined)])),
    }])),
  };
  const dataDir = resolve(expandHome(options.dataDir || env.TRIPCAL_DATA_DIR || config.data_dir || defaultDataDir(env), env));
  return { config, path, dataDir };
}
