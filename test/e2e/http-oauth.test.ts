// Issue 20, MCP authorization with an identity provider the team runs (http.auth): /mcp is an
// OAuth 2.1 protected resource. Its RFC 9728 metadata names the issuer; a request without a
// token gets 401 with WWW-Authenticate resource_metadata and the scopes; a token is taken only
// when signed by the issuer's key, for this server (audience), unexpired, from this issuer, with
// a tripcal scope; its user claim decides whose trips it sees. The tokens come from a loopback
// identity provider (support/idp.ts); the real daemon and the SDK client of TRIPCAL_MCP_CLIENT.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

let idp: TestIdp;
let daemon: RunningDaemon;
let resource: string;

beforeAll(async () => {
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  idp = await startIdp(resource);
  const dir = tempDir();
  writeFileSync(join(dir, 'config.yaml'), [
    'log_level: warn',
    'users:', '  alice@example.com:', '    timezone: Europe/Berlin', '  bob@example.com:', '    timezone: Europe/Lisbon',
    'http:', `  listen: 127.0.0.1:${port}`,
    '  auth:', `    issuer: ${idp.issuer}`, '    user_claim: email',
    '',
  ].join('\n'));
  daemon = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir]);
});
afterAll(async () => {
  await daemon?.stop();
  await idp?.stop();
});

const post = (token?: string) => fetch(resource, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
});

test('the protected resource metadata names the issuer and the scopes; no token is a 401 that points at it', async () => {
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const res = await fetch(new URL(path, resource));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource, authorization_servers: [idp.issuer], scopes_supported: ['tripcal:read', 'tripcal:write'], bearer_methods_supported: ['header'], resource_name: 'tripcal',
    });
  }
  const res = await post();
  expect(res.status).toBe(401);
  const challenge = res.headers.get('www-authenticate')!;
  expect(challenge).toContain(`resource_metadata="http://127.0.0.1:${new URL(resource).port}/.well-known/oauth-protected-resource/mcp"`);
  expect(challenge).toContain('scope="tripcal:read tripcal:write"');
  expect(challenge).not.toContain('error=');
});

test('a good token acts for the user its claim names; another user\'s token does not see their trips', async () => {
  const alice = await connectHttp(resource, { authorization: `Bearer ${await idp.mint({ email: 'alice@example.com', sub: 'u-1', scope: 'tripcal:read tripcal:write' })}` });
  const bob = await connectHttp(resource, { authorization: `Bearer ${await idp.mint({ email: 'bob@example.com', sub: 'u-2', scope: 'tripcal:read tripcal:write' })}` });
  try {
    const added = structured(await alice.call('add_activity', { activity_details: { name: 'Philharmonie', start_time: '2026-03-01T20:00' } }));
    expect(structured(await alice.call('get_trip', { trip_id: added.trip_id })).items[0].start.timezone).toBe('Europe/Berlin');
    expect((await bob.call('get_trip', { trip_id: added.trip_id })).isError).toBe(true);
    expect(structured(await bob.call('list_trips', {})).trips).toEqual([]);
    const named = await bob.call('list_trips', { user_id: 'alice@example.com' });
    expect(named.isError).toBe(true);
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('refused with 401 invalid_token: another audience, expired, another issuer, a key not the issuer\'s, tampered, no scope, no user', async () => {
  const good = { email: 'alice@example.com', scope: 'tripcal:read tripcal:write' };
  const valid = await idp.mint(good);
  const [head, body, signature] = valid.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), email: 'bob@example.com' })).toString('base64url');
  const cases: Array<[string, string, RegExp]> = [
    ['another audience', await idp.mint(good, { audience: 'https://other.example/mcp' }), /["']aud["'] claim/],
    ['expired', await idp.mint(good, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['another issuer', await idp.mint(good, { issuer: 'https://evil.example' }), /["']iss["'] claim/],
    ['signed by a stranger', await idp.mint(good, { key: 'stranger' }), /not valid/],
    ['tampered payload', `${head}.${forged}.${signature}`, /not valid/],
    ['not a JWT', 'garbage-garbage-garbage', /not valid/],
    ['no tripcal scope', await idp.mint({ email: 'alice@example.com', scope: 'openid email' }), /neither scope/],
    ['no user claim', await idp.mint({ scope: 'tripcal:read' }), /["']email["'] claim does not name a tripcal user/],
  ];
  for (const [what, token, why] of cases) {
    const res = await post(token);
    expect(res.status, what).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge, what).toContain('error="invalid_token"');
    expect(challenge, what).toMatch(why);
  }
  expect((await post(valid)).status).toBe(200);
});

test('tripcal:read alone reads and changes nothing; a rotated key is fetched and taken', { timeout: 20_000 }, async () => {
  const reader = await connectHttp(resource, { authorization: `Bearer ${await idp.mint({ email: 'alice@example.com', scope: 'tripcal:read' })}` });
  try {
    expect(structured(await reader.call('list_trips', {})).trips).toHaveLength(1);
    const refused = await reader.call('create_trip', { title: 'Nope' });
    expect(refused.isError).toBe(true);
    expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/may only read/);
  } finally {
    await reader.close();
  }
  const before = idp.jwksFetches;
  await idp.rotate();
  // The key set is not fetched again within 5 s of the last time (a flood of unknown key ids
  // must not become a flood of requests to the identity provider).
  await new Promise((resolve) => setTimeout(resolve, 5_500));
  const rotated = await idp.mint({ email: 'alice@example.com', scope: 'tripcal:read' });
  expect((await post(rotated)).status).toBe(200);
  expect(idp.jwksFetches).toBeGreaterThan(before);
});
