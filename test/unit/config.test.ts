import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'config.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  test('an empty file is the built-in defaults', () => {
    expect(parseConfig('', 'c', {})).toEqual({
      store: {}, default_user: 'me', users: {}, log_level: 'info', accounts: [],
      sync: {
        wait_seconds: 10, max_delete_share: 0.5, min_guarded_deletes: 10, retry_attempts: 5, retry_max_wait_seconds: 60, concurrency: 4,
        schedule: '*/15 * * * *', jitter_seconds: 30, on_edit: true, run_timeout_seconds: 900, jobs_per_replica: 4,
      },
      google: { requests_per_minute: 600 },
      outlook: { concurrent_requests: 4 },
      checks: { min_connection_minutes: 60, min_connection_minutes_international: 90 },
      import: { timeout_seconds: 20, max_processes: 2, memory_mb: 1024 },
      http: { listen: '127.0.0.1:8765', allowed_origins: [], max_requests: 100, tokens: [] },
      push: { ttl_minutes: 10_080, renew_before_minutes: 60, check_seconds: 300, poll_hours: 6, coalesce_seconds: 2 },
    });
  });

  test('${VAR} and ${VAR:-default} are replaced from the environment', () => {
    const config = parseConfig('default_user: ${WHO}\nusers:\n  anna:\n    timezone: ${TZNAME:-Europe/Berlin}\n', 'c', { WHO: 'anna' });
    expect(config.default_user).toBe('anna');
    expect(config.users).toEqual({ anna: { timezone: 'Europe/Berlin' } });
  });

  test('one clear line per problem, each with its YAML path', () => {
    expect(problems('default_user: "bad user!"\nusers:\n  me:\n    timezone: Mars/Base\n    colour: red\nlog_level: loud\nnonsense: 1\n')).toEqual([
      expect.stringMatching(/^config\.yaml: default_user: letters, digits/),
      expect.stringMatching(/^config\.yaml: users\.me\.timezone: not an IANA time zone/),
      expect.stringMatching(/^config\.yaml: users\.me: .*\(colour\)/),
      expect.stringMatching(/^config\.yaml: log_level: /),
      expect.stringMatching(/^config\.yaml: \(top level\): .*\(nonsense\)/),
    ]);
  });

  test('a missing environment variable is named with where it is used', () => {
    expect(problems('data_dir: ${NOPE_NOT_SET}/x\n')).toEqual(['config.yaml: data_dir: environment variable NOPE_NOT_SET is not set']);
  });

  test('an unset password variable leaves the account without a password instead of stopping tripcal', () => {
    const config = parseConfig('accounts:\n  - name: home\n    provider: caldav\n    url: https://dav.example.org/\n    username: me\n    password: ${UNSET_PASSWORD_VAR}\n', 'c', {});
    expect(config.accounts[0]).toMatchObject({ name: 'home' });
    expect(config.accounts[0]!.password).toBeUndefined();
  });

  test('broken YAML says where', () => {
    expect(problems('users: [unclosed\n')[0]).toMatch(/^config\.yaml line \d+, column \d+: [^\n]*[^:\s]$/);
  });

  test('the data dir: --data-dir, else TRIPCAL_DATA_DIR, else data_dir, else XDG_DATA_HOME/tripcal, else ~/.local/share/tripcal', () => {
    expect(loadConfig({ env: { HOME: '/home/t' } }).dataDir).toBe('/home/t/.local/share/tripcal');
    expect(loadConfig({ env: { HOME: '/home/t', XDG_DATA_HOME: '/xdg' } }).dataDir).toBe('/xdg/tripcal');
    expect(loadConfig({ env: { HOME: '/home/t', TRIPCAL_DATA_DIR: '/env' } }).dataDir).toBe('/env');
    expect(loadConfig({ env: { HOME: '/home/t', TRIPCAL_DATA_DIR: '/env' }, dataDir: '/flag' }).dataDir).toBe('/flag');
  });

  test('a --config file that does not exist is an error, not silently the defaults', () => {
    expect(() => loadConfig({ configPath: '/nonexistent/tripcal.yaml', env: {} })).toThrow(/no such config file/);
  });
});

test('config.example.yaml is itself a valid configuration', async () => {
  const { readFileSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const text = readFileSync(resolve(import.meta.dirname, '../../config.example.yaml'), 'utf8');
  // Its secrets are commented out (it loads without a warning): uncommented, they come from the environment.
  expect(parseConfig(text.replace('# password: ${CALDAV_PASSWORD}', 'password: ${CALDAV_PASSWORD}'), 'config.example.yaml', { CALDAV_PASSWORD: 'secret' }).accounts[0])
    .toMatchObject({ name: 'home', password: 'secret' });
  expect(parseConfig(text, 'config.example.yaml', {})).toMatchObject({
    default_user: 'me', users: { me: { timezone: 'Europe/Berlin' } },
    accounts: [
      { name: 'home', provider: 'caldav', calendar: 'Trips', policy: 'model_wins' },
      { name: 'work', provider: 'google', calendar: 'primary', policy: 'model_wins' },
      { name: 'work-outlook', provider: 'outlook', calendar: 'primary', policy: 'model_wins' },
    ],
    google: {},
    outlook: { tenant_id: 'common' },
  });
  // With the variables set, the OAuth client comes from them.
  const withClient = loadConfig({
    configPath: resolve(import.meta.dirname, '../../config.example.yaml'),
    env: { HOME: '/nonexistent', GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com', GOOGLE_CLIENT_SECRET: 's', GOOGLE_REDIRECT_URI: 'http://127.0.0.1:8976/cb' },
  }).config;
  expect(withClient.google).toEqual({ client_id: 'id.apps.googleusercontent.com', client_secret: 's', redirect_uri: 'http://127.0.0.1:8976/cb', requests_per_minute: 600 });
});

test('google: the redirect URI must be https or loopback http; GOOGLE_* variables fill what the file leaves out', async () => {
  expect(() => parseConfig('google:\n  redirect_uri: http://example.com/cb\n', 'c', {})).toThrow(/google\.redirect_uri: an https:\/\/ URL, or http:\/\/ on 127\.0\.0\.1/);
  expect(() => parseConfig('accounts:\n  - name: w\n    provider: google\n    calender: x\n', 'c', {})).toThrow(/accounts\[0\].*calender/);
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'tripcal-cfg-')), 'c.yaml');
  writeFileSync(file, 'google:\n  client_id: from-file\n');
  const { config } = loadConfig({ configPath: file, env: { GOOGLE_CLIENT_ID: 'from-env', GOOGLE_CLIENT_SECRET: 'env-secret' } });
  expect(config.google).toMatchObject({ client_id: 'from-file', client_secret: 'env-secret' });
});

test('outlook: MS_* variables fill what the file leaves out; the authority must be https; a bad tenant is named', async () => {
  expect(() => parseConfig('outlook:\n  authority: http://login.example/t\n', 'c', {})).toThrow(/outlook\.authority: an https:\/\/ URL/);
  expect(() => parseConfig('outlook:\n  tenant_id: "not a tenant!"\n', 'c', {})).toThrow(/outlook\.tenant_id/);
  expect(() => parseConfig('accounts:\n  - name: o\n    provider: outlook\n    password: x\n', 'c', {})).toThrow(/accounts\[0\].*password/);
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'tripcal-cfg-')), 'c.yaml');
  writeFileSync(file, 'outlook:\n  tenant_id: contoso.onmicrosoft.com\n');
  const { config } = loadConfig({ configPath: file, env: { MS_CLIENT_ID: 'app-id', MS_TENANT_ID: 'ignored', MS_CLIENT_SECRET: 's3cret' } });
  expect(config.outlook).toMatchObject({ client_id: 'app-id', tenant_id: 'contoso.onmicrosoft.com', client_secret: 's3cret' });
});

test('http.auth: an identity provider (issuer) or the built-in server (builtin: true), never a mix', () => {
  const auth = (body: string) => problems(`http:\n  auth:\n${body}`);
  expect(auth('    builtin: true\n')).toEqual([]);
  expect(auth('    builtin: true\n    access_token_minutes: 5\n    refresh_token_days: 7\n')).toEqual([]);
  expect(auth('    issuer: https://id.example/realms/home\n    user_claim: email\n')).toEqual([]);
  expect(auth('    user_claim: email\n').join('\n')).toMatch(/http\.auth\.issuer: required: your identity provider's issuer URL, or builtin: true/);
  expect(auth('    builtin: true\n    issuer: https://id.example\n').join('\n')).toMatch(/http\.auth\.issuer: is for an external identity provider/);
  expect(auth('    issuer: https://id.example\n    access_token_minutes: 5\n').join('\n')).toMatch(/http\.auth\.access_token_minutes: is for the built-in authorization server/);
  expect(auth('    builtin: true\n    access_token_minutes: 600\n').join('\n')).toMatch(/access_token_minutes/);
});
