// Issue 20, the built-in authorization server (http.auth.builtin): the MCP SDK client's own OAuth
// support connects from nothing (the 401, RFC 9728 and RFC 8414 discovery, dynamic registration,
// the sign-in page played here as a browser would, PKCE, the token, tool calls, a refresh); and
// everything that must be refused is: tokens for another resource, expired, forged or tampered;
// a code presented twice, a redirect URI not registered, a PKCE verifier that does not match,
// `plain` PKCE, a rotated refresh token presented again, a wrong password (without telling
// whether the user exists), a form without its CSRF token. Two users signed in this way each see
// only their own trips. The real daemon process; passwords set with `tripcal user passwd`.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auth, Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Vault } from '../../src/auth/vault.js';
import { SIGNING_KEY_SECRET } from '../../src/daemon/auth-server.js';
import { Store } from '../../src/store/store.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { startDocumentServer, type DocumentServer } from '../support/https-documents.js';
import { CLI, storedInClear, structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const PASSWORDS: Record<string, string> = { alice: 'alice-password-1', bob: 'bob-password-22', carol: 'carol-password-333' };
let dir: string;
let config: string;
let daemon: RunningDaemon;
let base: string;
let resource: string;
/** Where the clients of the Client ID Metadata Document tests publish their documents. */
let documents: DocumentServer;
/** Every code, token and password handed out, to look for in the database files at the end. */
const handedOut: string[] = Object.values(PASSWORDS);

function tripcal(args: string[], input?: string) {
  return spawnSync(process.execPath, [CLI, '--config', config, '--data-dir', dir, ...args], { input, encoding: 'utf8' });
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  resource = `${base}/mcp`;
  dir = tempDir();
  config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'log_level: warn',
    'users:',
    '  alice:', '    timezone: Europe/Berlin',
    '  bob:', '    timezone: Europe/Lisbon',
    '  carol:', '    timezone: Europe/Paris',
    '  dave:', '    timezone: Europe/Rome',
    // The client metadata documents of these tests are served on loopback.
    'http:', `  listen: 127.0.0.1:${port}`, '  auth:', '    builtin: true', '    client_metadata_private_hosts: true',
    '',
  ].join('\n'));
  for (const [user, password] of Object.entries(PASSWORDS)) {
    const done = tripcal(['user', 'passwd', user], `${password}\n`);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`Set the password of "${user}"`));
    expect(done.stdout + done.stderr).not.toContain(password);
  }
  daemon = await startDaemonProcess(['--config', config, '--data-dir', dir]);
  documents = await startDocumentServer();
}, 60_000);
afterAll(async () => {
  await daemon?.stop();
  await documents?.stop();
});

// --- playing the browser and the client by hand ---

interface Registered { client_id: string; redirect_uris: string[] }

async function register(redirectUris: string[] = ['http://127.0.0.1:9/callback'], extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${base}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'by hand', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', ...extra }),
  });
}

async function newClient(): Promise<Registered> {
  const res = await register();
  expect(res.status).toBe(201);
  return (await res.json()) as Registered;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(client: Registered, challenge: string, extra: Record<string, string> = {}): string {
  const url = new URL(`${base}/authorize`);
  const params = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', scope: 'tripcal:read tripcal:write', resource, ...extra };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

interface Page { status: number; html: string; headers: Headers; cookie: string }

/** GET the sign-in page as a browser: its HTML and the cookie it sets. */
async function open(url: string): Promise<Page> {
  const res = await fetch(url, { redirect: 'manual' });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { status: res.status, html: await res.text(), headers: res.headers, cookie };
}

function hidden(html: string, name: string): string {
  const found = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (found === undefined) throw new Error(`no ${name} field in ${html}`);
  return found.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
}

/** Posts the sign-in form of `page`; the answer, not followed. */
async function submit(page: Page, fields: Record<string, string>, options: { cookie?: string; origin?: string; csrf?: string } = {}): Promise<Response> {
  const form = new URLSearchParams({ request: hidden(page.html, 'request'), csrf: options.csrf ?? hidden(page.html, 'csrf'), decision: 'allow', ...fields });
  return fetch(`${base}/authorize`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: options.origin ?? base, cookie: options.cookie ?? page.cookie },
    body: form.toString(),
  });
}

/** Signs in on the page at `url` as `user`; the URL the browser is sent back to. */
async function signIn(url: string, user: string, password = PASSWORDS[user]!): Promise<URL> {
  const page = await open(url);
  expect(page.status, page.html).toBe(200);
  const res = await submit(page, { user, password });
  expect(res.status, await res.clone().text()).toBe(303);
  return new URL(res.headers.get('location')!);
}

async function tokenRequest(params: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  const body = (await res.json()) as Record<string, any>;
  for (const key of ['access_token', 'refresh_token']) if (typeof body[key] === 'string') handedOut.push(body[key]);
  return { status: res.status, body };
}

/** The whole flow by hand: the code (after signing in as `user`) and the tokens it gives. */
async function tokensFor(user: string, client?: Registered): Promise<{ client: Registered; code: string; verifier: string; tokens: Record<string, any> }> {
  client ??= await newClient();
  const { verifier, challenge } = pkce();
  const back = await signIn(authorizeUrl(client, challenge), user);
  const code = back.searchParams.get('code')!;
  handedOut.push(code);
  const { status, body } = await tokenRequest({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, resource });
  expect(status, JSON.stringify(body)).toBe(200);
  return { client, code, verifier, tokens: body };
}

const mcpStatus = async (token: string) => (await fetch(resource, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
}));

// --- the SDK's own OAuth client ---

/** An OAuthClientProvider kept in memory; "redirecting" records the URL for the test to open. */
class TestProvider implements OAuthClientProvider {
  info: any;
  saved: any;
  verifier = '';
  discovery: any;
  authorizationUrl: URL | undefined;
  readonly redirectUrl = 'http://127.0.0.1:9/sdk-callback';
  get clientMetadata() {
    return { client_name: 'SDK test client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: any) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: any) {
    this.saved = tokens;
    for (const key of ['access_token', 'refresh_token']) if (typeof tokens[key] === 'string') handedOut.push(tokens[key]);
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state: any) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

/** A client that names itself by the https URL of its metadata document instead of registering. */
class DocumentClientProvider extends TestProvider {
  constructor(readonly clientMetadataUrl: string) {
    super();
  }
}

const sdkClient = () => new Client({ name: 'oauth-test', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } } as any);

describe('the MCP SDK client connects from scratch', () => {
  test('401 → discovery → registration → sign-in → PKCE → token → tool calls → refresh', { timeout: 30_000 }, async () => {
    const provider = new TestProvider();
    const first = sdkClient();
    let refused: unknown;
    try {
      await first.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
      await first.listTools();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(UnauthorizedError);
    // Discovery went through the 401's resource_metadata to this server's RFC 8414 metadata.
    expect(provider.discovery.authorizationServerUrl).toMatch(new RegExp(`^${base}/?$`));
    expect(provider.discovery.authorizationServerMetadata).toMatchObject({
      issuer: base, code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true, registration_endpoint: `${base}/register`,
    });
    expect(provider.info.client_id).toMatch(/^tc-/);
    const url = provider.authorizationUrl!;
    expect(url.origin + url.pathname).toBe(`${base}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(resource);

    const back = await signIn(url.href, 'alice');
    expect(back.origin + back.pathname).toBe(provider.redirectUrl);
    expect(back.searchParams.get('iss')).toBe(base);
    expect(back.searchParams.get('state')).toBe(url.searchParams.get('state'));
    const transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
    await transport.finishAuth(back.searchParams);
    expect(provider.saved.access_token).toBeTruthy();
    expect(provider.saved.refresh_token).toBeTruthy();
    expect(provider.saved.scope).toBe('tripcal:read tripcal:write');

    const client = sdkClient();
    await client.connect(transport);
    const added = structured((await client.callTool({ name: 'add_activity', arguments: { activity_details: { name: 'Pergamon', start_time: '2026-04-01T10:00' } } })) as any);
    const trip = structured((await client.callTool({ name: 'get_trip', arguments: { trip_id: added.trip_id } })) as any);
    expect(trip.items[0].start.timezone).toBe('Europe/Berlin');
    await client.close();

    // The SDK's refresh: a new access token and a new refresh token; the old refresh token is done.
    const before = { ...provider.saved };
    expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED');
    expect(provider.saved.access_token).not.toBe(before.access_token);
    expect(provider.saved.refresh_token).not.toBe(before.refresh_token);
    const again = sdkClient();
    await again.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
    expect(structured((await again.callTool({ name: 'list_trips', arguments: {} })) as any).trips).toHaveLength(1);
    await again.close();
  });
});

describe('Client ID Metadata Documents: a client_id that is the https URL of its registration', () => {
  test('the SDK client with clientMetadataUrl signs in with no registration: the document is read once, and is the client', { timeout: 30_000 }, async () => {
    const id = `${documents.url}/sdk-client.json`;
    const provider = new DocumentClientProvider(id);
    documents.serve('/sdk-client.json', { body: JSON.stringify({ client_id: id, ...provider.clientMetadata }), headers: { 'cache-control': 'max-age=600' } });
    const registered = Number((new Database(join(dir, 'tripcal.db'), { readonly: true }).prepare('SELECT count(*) AS n FROM oauth_clients').get() as { n: number }).n);
    const first = sdkClient();
    await expect(first.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.discovery.authorizationServerMetadata.client_id_metadata_document_supported).toBe(true);
    const url = provider.authorizationUrl!;
    expect(url.searchParams.get('client_id')).toBe(id);
    const page = await open(url.href);
    expect(page.status).toBe(200);
    // The person sees who is asking: the name the document gives, and where it is published.
    expect(page.html).toContain('SDK test client</strong> (published by <strong>127.0.0.1:');
    const back = await signIn(url.href, 'carol');
    const transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
    await transport.finishAuth(back.searchParams);
    const client = sdkClient();
    await client.connect(transport);
    expect(structured((await client.callTool({ name: 'list_trips', arguments: {} })) as any).trips).toEqual([]);
    await client.close();
    expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED');
    // The authorization, the token and the refresh: one fetch (cached), and nothing registered.
    expect(documents.hits.get('/sdk-client.json')).toBe(1);
    const after = Number((new Database(join(dir, 'tripcal.db'), { readonly: true }).prepare('SELECT count(*) AS n FROM oauth_clients').get() as { n: number }).n);
    expect(after).toBe(registered);
  });

  test('a document that is not its client\'s, or names another redirect: a page saying why, never a redirect', async () => {
    const { challenge } = pkce();
    const other = `${documents.url}/impostor.json`;
    documents.serve('/impostor.json', { body: JSON.stringify({ client_id: `${documents.url}/sdk-client.json`, redirect_uris: ['http://127.0.0.1:9/x'] }) });
    const impostor = await open(authorizeUrl({ client_id: other, redirect_uris: ['http://127.0.0.1:9/x'] }, challenge));
    expect(impostor.status).toBe(400);
    expect(impostor.html).toContain('names another client_id than its own URL');
    const good = `${documents.url}/good.json`;
    documents.serve('/good.json', { body: JSON.stringify({ client_id: good, client_name: 'Good', redirect_uris: ['http://127.0.0.1:9/good'] }) });
    const elsewhere = await open(authorizeUrl({ client_id: good, redirect_uris: ['http://127.0.0.1:9/evil'] }, challenge));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('location')).toBeNull();
    const token = await tokenRequest({ grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43), client_id: other, resource });
    expect(token).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
  });
});

describe('tokens the built-in server signs, and what /mcp refuses', () => {
  async function mint(claims: Record<string, unknown>, options: { audience?: string; exp?: number; key?: 'own' | 'stranger'; typ?: string } = {}): Promise<string> {
    const store = await Store.open(dir);
    let jwk: JWK;
    try {
      jwk = JSON.parse((await new Vault(store.secrets, dir).get(SIGNING_KEY_SECRET))!) as JWK;
    } finally {
      await store.close();
    }
    const key = options.key === 'stranger' ? (await generateKeyPair('ES256')).privateKey : await importJWK(jwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'tripcal:read tripcal:write', client_id: 'x', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: options.typ ?? 'at+jwt' })
      .setIssuer(base).setAudience(options.audience ?? resource).setSubject('alice').setIssuedAt(now - 5)
      .setExpirationTime(options.exp ?? now + 300).sign(key);
  }

  test('the key set is published; a token of the server is taken, with the same checks as an identity provider\'s', async () => {
    const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json() as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const metadata = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(metadata).toMatchObject({ resource, authorization_servers: [base] });

    const { tokens } = await tokensFor('alice');
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'tripcal:read tripcal:write' });
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: base, aud: resource, sub: 'alice', scope: 'tripcal:read tripcal:write' });
    expect(claims.exp - claims.iat).toBe(600);
    expect((await mcpStatus(tokens.access_token)).status).toBe(200);
    expect((await mcpStatus(await mint({}))).status).toBe(200);
  });

  test('refused: another resource, expired, signed by another key, tampered, not an access token', async () => {
    const good = await mint({});
    const [head, body, signature] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), sub: 'bob' })).toString('base64url');
    const cases: Array<[string, string, RegExp]> = [
      ['another resource', await mint({}, { audience: 'https://other.example/mcp' }), /["']aud["'] claim/],
      ['expired', await mint({}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      ['signed by a stranger under our kid', await mint({}, { key: 'stranger' }), /not valid/],
      ['tampered payload', `${head}.${forged}.${signature}`, /not valid/],
      ['not typed as an access token', await mint({}, { typ: 'JWT' }), /["']typ["']|not valid/],
    ];
    for (const [what, token, why] of cases) {
      const res = await mcpStatus(token);
      expect(res.status, what).toBe(401);
      expect(res.headers.get('www-authenticate'), what).toMatch(why);
    }
  });
});

describe('the authorization endpoint', () => {
  test('the sign-in page: labelled inputs, no script, a strict CSP, a CSRF token, a cookie for this page only', async () => {
    const client = await newClient();
    const page = await open(authorizeUrl(client, pkce().challenge));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/style-src 'nonce-[^']+'/);
    expect(csp).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:9(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).not.toMatch(/<script/i);
    expect(page.html).toMatch(/<label for="user">/);
    expect(page.html).toMatch(/<input id="user" name="user"/);
    expect(page.html).toMatch(/<label for="password">/);
    expect(page.html).toMatch(/<input id="password" name="password" type="password"/);
    expect(page.html).toContain('by hand');
    expect(hidden(page.html, 'csrf')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(page.cookie).toMatch(/^tripcal_signin=/);
    expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(page.headers.get('set-cookie')).toMatch(/Path=\/authorize/);
  });

  test('a client\'s name is shown escaped', async () => {
    const res = await register(['https://app.example/cb'], { client_name: '<script>alert(1)</script>' });
    const client = (await res.json()) as Registered;
    const page = await open(authorizeUrl(client, pkce().challenge));
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain('&#60;script&#62;');
  });

  test('a redirect_uri not registered, an unknown client: a page, never a redirect', async () => {
    const client = await newClient();
    for (const [what, url] of [
      ['unregistered', authorizeUrl(client, pkce().challenge, { redirect_uri: 'https://evil.example/cb' })],
      ['prefix of a registered one', authorizeUrl(client, pkce().challenge, { redirect_uri: 'http://127.0.0.1:9/callback/more' })],
      ['unknown client', authorizeUrl({ ...client, client_id: 'tc-nobody' }, pkce().challenge)],
    ] as const) {
      const page = await open(url);
      expect(page.status, what).toBe(400);
      expect(page.headers.get('location'), what).toBeNull();
      expect(page.html, what).toMatch(/cannot go on/);
    }
  });

  test('plain PKCE, no PKCE, and another resource go back to the client as errors (with iss)', async () => {
    const client = await newClient();
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      ['plain', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request', /S256/],
      ['no method (plain by default)', { code_challenge_method: '' }, 'invalid_request', /S256/],
      ['no challenge', { code_challenge: '' }, 'invalid_request', /code_challenge is required/],
      ['another resource', { resource: 'https://other.example/mcp' }, 'invalid_target', /only/],
    ];
    for (const [what, extra, error, why] of cases) {
      const url = new URL(authorizeUrl(client, pkce().challenge));
      for (const [k, v] of Object.entries(extra)) {
        if (v === '') url.searchParams.delete(k);
        else url.searchParams.set(k, v);
      }
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status, what).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(back.origin + back.pathname, what).toBe('http://127.0.0.1:9/callback');
      expect(back.searchParams.get('error'), what).toBe(error);
      expect(back.searchParams.get('error_description'), what).toMatch(why);
      expect(back.searchParams.get('iss'), what).toBe(base);
      expect(back.searchParams.get('state'), what).toBe('st-1');
      expect(back.searchParams.get('code'), what).toBeNull();
    }
  });

  test('a wrong password, an unknown user, a user without a password: the same words, no code', async () => {
    const client = await newClient();
    const url = authorizeUrl(client, pkce().challenge);
    const texts: string[] = [];
    for (const [user, password] of [['alice', 'not-her-password'], ['nobody', 'whatever-password'], ['dave', 'no-password-set']] as const) {
      const page = await open(url);
      const res = await submit(page, { user, password });
      expect(res.status, user).toBe(401);
      expect(res.headers.get('location'), user).toBeNull();
      const html = await res.text();
      expect(html, user).toContain('The user name or password is not right.');
      expect(html, user).not.toContain(password);
      texts.push(/role="alert">([^<]*)</.exec(html)![1]!);
    }
    expect(new Set(texts).size).toBe(1);
  });

  test('failed sign-ins are limited per user name: after 5 in a minute even the right password waits', async () => {
    const client = await newClient();
    const url = authorizeUrl(client, pkce().challenge);
    for (let i = 0; i < 5; i++) expect((await submit(await open(url), { user: 'carol', password: `wrong-${i}-password` })).status).toBe(401);
    const limited = await submit(await open(url), { user: 'carol', password: PASSWORDS.carol! });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toMatch(/Too many failed sign-ins for this user name/);
    // The same answer for a name no one has: the limit tells nothing about who exists.
    for (let i = 0; i < 5; i++) await submit(await open(url), { user: 'nobody-at-all', password: `wrong-${i}-password` });
    expect((await submit(await open(url), { user: 'nobody-at-all', password: 'x-password' })).status).toBe(429);
    // Others are not held up.
    expect((await submit(await open(url), { user: 'bob', password: PASSWORDS.bob! })).status).toBe(303);
  });

  test('the form needs its CSRF token, the cookie it is bound to, and this server as its origin', async () => {
    const client = await newClient();
    const url = authorizeUrl(client, pkce().challenge);
    const page = await open(url);
    const other = await open(url);
    const right = { user: 'alice', password: PASSWORDS.alice! };
    expect((await submit(page, right, { cookie: '' })).status).toBe(403);
    expect((await submit(page, right, { cookie: other.cookie })).status).toBe(403);
    expect((await submit(page, right, { csrf: hidden(other.html, 'csrf') })).status).toBe(403);
    expect((await submit(page, right, { origin: 'https://evil.example' })).status).toBe(403);
    // A request of another page with this page's token: the token is bound to its request too.
    const tampered = new URLSearchParams({ request: hidden(other.html, 'request'), csrf: hidden(page.html, 'csrf'), decision: 'allow', ...right });
    const res = await fetch(`${base}/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie }, body: tampered.toString() });
    expect(res.status).toBe(403);
    expect((await submit(page, right)).status).toBe(303);
  });

  test('Deny sends access_denied back, with no code', async () => {
    const client = await newClient();
    const page = await open(authorizeUrl(client, pkce().challenge));
    const res = await submit(page, { decision: 'deny' });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
  });
});

describe('registration and the token endpoint', () => {
  test('registration: https or loopback http redirect URIs only; public clients', async () => {
    for (const uri of ['http://app.example/cb', 'https://app.example/cb#frag', 'javascript:alert(1)', 'not a url']) {
      const res = await register([uri]);
      expect(res.status, uri).toBe(400);
      expect((await res.json()).error, uri).toBe('invalid_redirect_uri');
    }
    const res = await register(['https://app.example/cb', 'http://localhost:33418/', 'http://[::1]:8000/cb'], { token_endpoint_auth_method: 'client_secret_post' });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.token_endpoint_auth_method).toBe('none');
    expect(body).not.toHaveProperty('client_secret');
    expect((await register(['https://app.example/cb'], { grant_types: ['client_credentials'] })).status).toBe(400);
  });

  test('a code works once; presented again it is refused and what it gave is revoked', async () => {
    const { client, code, verifier, tokens } = await tokensFor('alice');
    const replay = await tokenRequest({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: client.client_id, redirect_uri: client.redirect_uris[0]! });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/already used/) });
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id })).body.error).toBe('invalid_grant');
  });

  test('a PKCE verifier that does not match, a missing verifier, another client, another redirect_uri, another resource', async () => {
    const client = await newClient();
    const other = await newClient();
    const attempt = async (change: Record<string, string | null>) => {
      const { verifier, challenge } = pkce();
      const back = await signIn(authorizeUrl(client, challenge), 'bob');
      const params: Record<string, string> = { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, client_id: client.client_id, redirect_uri: client.redirect_uris[0]! };
      for (const [k, v] of Object.entries(change)) {
        if (v === null) delete params[k];
        else params[k] = v;
      }
      return tokenRequest(params);
    };
    const wrong = await attempt({ code_verifier: pkce().verifier });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/does not match/) } });
    expect(await attempt({ code_verifier: null })).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringMatching(/code_verifier is missing/) } });
    expect((await attempt({ client_id: other.client_id })).body.error).toBe('invalid_grant');
    expect((await attempt({ redirect_uri: 'http://127.0.0.1:9/other' })).body.error).toBe('invalid_grant');
    expect((await attempt({ resource: 'https://other.example/mcp' })).body.error).toBe('invalid_target');
    expect((await attempt({ client_id: 'tc-unknown' }))).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await attempt({})).status).toBe(200);
  });

  test('refresh rotates; a rotated refresh token presented again revokes the whole family', async () => {
    const { client, tokens } = await tokensFor('bob');
    const first = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await mcpStatus(first.body.access_token)).status).toBe(200);
    // Narrowing on refresh is allowed; widening is not.
    const narrowed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: client.client_id, scope: 'tripcal:read' });
    expect(narrowed.body.scope).toBe('tripcal:read');
    const wider = await tokenRequest({ grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, client_id: client.client_id, scope: 'tripcal:read tripcal:write' });
    expect(wider.body.error).toBe('invalid_scope');
    // The old one comes back: refused, and the newest of the family stops working too.
    const reused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/already used/) } });
    const newest = await tokenRequest({ grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, client_id: client.client_id });
    expect(newest).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/revoked/) } });
  });

  test('plain grant types and bodies that are not forms are refused', async () => {
    const client = await newClient();
    expect((await tokenRequest({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice!, client_id: client.client_id })).body.error).toBe('unsupported_grant_type');
    const res = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
  });
});

test('two users signed in through the built-in server: each sees only their own trips', { timeout: 30_000 }, async () => {
  const alice = await connectHttp(resource, { authorization: `Bearer ${(await tokensFor('alice')).tokens.access_token}` });
  const bob = await connectHttp(resource, { authorization: `Bearer ${(await tokensFor('bob')).tokens.access_token}` });
  try {
    const added = structured(await bob.call('create_trip', { title: 'Lisbon weekend' }));
    const bobsTrip = added.trip_id ?? added.trip?.id ?? added.id;
    expect(bobsTrip).toBeTruthy();
    const aliceTrips = structured(await alice.call('list_trips', {})).trips as Array<{ title: string }>;
    expect(aliceTrips.map((t) => t.title)).not.toContain('Lisbon weekend');
    expect((await alice.call('get_trip', { trip_id: bobsTrip })).isError).toBe(true);
    expect((await alice.call('list_trips', { user_id: 'bob' })).isError).toBe(true);
    expect((structured(await bob.call('list_trips', {})).trips as Array<{ title: string }>).map((t) => t.title)).toContain('Lisbon weekend');
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('tripcal user passwd: an unknown user is refused; a short password is refused; a new password signs the user out', async () => {
  expect(tripcal(['user', 'passwd', 'mallory'], 'long-enough-password\n').status).toBe(2);
  const short = tripcal(['user', 'passwd', 'alice'], 'short\n');
  expect(short.status).toBe(2);
  expect(short.stderr).toMatch(/at least 8/);
  const { client, tokens } = await tokensFor('alice');
  const changed = tripcal(['user', 'passwd', 'alice'], 'alice-new-password\n');
  expect(changed.status, changed.stderr).toBe(0);
  expect(changed.stdout).toMatch(/Changed the password of "alice".*signed out/);
  expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id })).body.error).toBe('invalid_grant');
  PASSWORDS.alice = 'alice-new-password';
  handedOut.push('alice-new-password');
  await tokensFor('alice');
});

test('no code, token or password is in the database files in the clear', async () => {
  expect(handedOut.length).toBeGreaterThan(10);
  expect(storedInClear(dir, handedOut)).toEqual([]);
});

test('off loopback, the built-in server needs http.public_url (its issuer) and the daemon says so', async () => {
  const other = tempDir();
  writeFileSync(join(other, 'config.yaml'), `http:\n  listen: 0.0.0.0:${await freePort()}\n  auth:\n    builtin: true\n`);
  await expect(startDaemonProcess(['--config', join(other, 'config.yaml'), '--data-dir', other])).rejects.toThrow(/http\.auth\.builtin: set http\.public_url/);
});
