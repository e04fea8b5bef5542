// Connecting Google or Outlook before the OAuth app is set up: one answer naming everything that
// is missing and where each piece goes for every way of running tripcal (config file, the
// process's environment, Claude Desktop's env block); nothing is stored.
import { spawnSync } from 'node:child_process';
import { afterEach, expect, test } from 'vitest';
import { CLI, connect, structured, tempDir, type Connected } from '../support/mcp.js';

const UNSET = { GOOGLE_CLIENT_ID: '', GOOGLE_CLIENT_SECRET: '', GOOGLE_REDIRECT_URI: '', MS_CLIENT_ID: '', MS_CLIENT_SECRET: '', MS_REDIRECT_URI: '', MS_TENANT_ID: '' };
const text = (result: { content?: unknown }) => (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');

let server: Connected | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

test('authorize_calendar for Google names the client id, secret and redirect URI at once, and where to set each', async () => {
  server = await connect({ env: { ...UNSET, TRIPCAL_DATA_DIR: tempDir() } });
  const result = await server.call('authorize_calendar', { provider: 'google' });
  expect(result.isError).toBe(true);
  const message = text(result);
  expect(message).toMatch(/^Google Calendar is not set up yet; missing: the OAuth client ID \(GOOGLE_CLIENT_ID\), the OAuth client secret \(GOOGLE_CLIENT_SECRET\), the redirect URI \(or pass redirect_uri\) \(GOOGLE_REDIRECT_URI\)/);
  expect(message).toContain('config.yaml: google: { client_id: …, client_secret: …, redirect_uri: http://127.0.0.1:8976/oauth/callback }');
  expect(message).toContain('environment of the tripcal process: GOOGLE_CLIENT_ID=… GOOGLE_CLIENT_SECRET=… GOOGLE_REDIRECT_URI=');
  expect(message).toContain('claude_desktop_config.json, in the tripcal server\'s entry: "env": { "GOOGLE_CLIENT_ID": "…", "GOOGLE_CLIENT_SECRET": "…", "GOOGLE_REDIRECT_URI"');
  expect(message).not.toMatch(/^provider:/m);
  // Nothing was started or stored.
  expect(structured(await server.call('sync_status', {})).accounts).toEqual([]);
});

test('only what is still missing is named: a client id alone leaves the secret; a redirect_uri given is not asked for', async () => {
  server = await connect({ env: { ...UNSET, GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com', TRIPCAL_DATA_DIR: tempDir() } });
  const message = text(await server.call('authorize_calendar', { provider: 'google', redirect_uri: 'http://127.0.0.1:8976/oauth/callback' }));
  expect(message).toMatch(/missing: the OAuth client secret \(GOOGLE_CLIENT_SECRET\)\. Set it in any one of these places/);
  expect(message).not.toContain('GOOGLE_CLIENT_ID');
  expect(message).not.toContain('GOOGLE_REDIRECT_URI');
});

test('Outlook names the application id and the redirect URI', async () => {
  server = await connect({ env: { ...UNSET, TRIPCAL_DATA_DIR: tempDir() } });
  const message = text(await server.call('authorize_calendar', { provider: 'outlook' }));
  expect(message).toMatch(/^Outlook is not set up yet; missing: the application \(client\) ID \(MS_CLIENT_ID\), the redirect URI \(or pass redirect_uri\) \(MS_REDIRECT_URI\)/);
  expect(message).toContain('config.yaml: outlook: { client_id: …, redirect_uri: http://127.0.0.1:8977/oauth/callback }');
});

test('tripcal auth google says the same in one go, exit 2, no stack', () => {
  const r = spawnSync(process.execPath, [CLI, 'auth', 'google'], { env: { ...process.env, ...UNSET, TRIPCAL_DATA_DIR: tempDir() }, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/Google Calendar is not set up yet; missing: the OAuth client ID \(GOOGLE_CLIENT_ID\), the OAuth client secret \(GOOGLE_CLIENT_SECRET\)\./);
  expect(r.stderr).not.toContain('GOOGLE_REDIRECT_URI');
  expect(r.stderr).toContain('claude_desktop_config.json');
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
