// Client ID Metadata Documents as the built-in authorization server reads them: what a client_id
// URL may be, what the document must say, and the fetch's limits (private hosts, redirects, size,
// time), against a real HTTPS server on loopback. Each refusal says why.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ClientDocuments } from '../../src/daemon/oauth-client-documents.js';
import { startDocumentServer, type DocumentServer } from '../support/https-documents.js';

let server: DocumentServer;
const doc = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  client_id: id, client_name: 'Example Assistant', redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none', ...extra,
});

beforeAll(async () => {
  server = await startDocumentServer();
  const url = (path: string) => `${server.url}${path}`;
  server.serve('/client.json', { body: doc(url('/client.json')), headers: { 'cache-control': 'max-age=3600' } });
  server.serve('/other-id.json', { body: doc(url('/client.json')) });
  server.serve('/secret.json', { body: doc(url('/secret.json'), { client_secret: 'shh' }) });
  server.serve('/basic.json', { body: doc(url('/basic.json'), { token_endpoint_auth_method: 'client_secret_basic' }) });
  server.serve('/big.json', { body: doc(url('/big.json'), { client_name: 'x'.repeat(6000) }) });
  server.serve('/moved.json', { status: 302, headers: { location: url('/client.json') } });
  server.serve('/not-json.json', { body: '<html>hello</html>' });
  server.serve('/bad-redirect.json', { body: doc(url('/bad-redirect.json'), { redirect_uris: ['http://evil.example/callback'] }) });
  server.serve('/hang.json', { hang: true });
  server.serve('/short-cache.json', { body: doc(url('/short-cache.json')), headers: { 'cache-control': 'no-store' } });
});
afterAll(async () => {
  await server?.stop();
});

test('a good document is the registration, read once and kept for its max-age', async () => {
  let now = Date.now();
  const documents = new ClientDocuments({ allowPrivateHosts: true, now: () => now });
  const id = `${server.url}/client.json`;
  expect(documents.names(id)).toBe(true);
  expect(await documents.get(id)).toEqual({
    client_name: 'Example Assistant', redirect_uris: ['http://127.0.0.1:9/callback'], grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'], token_endpoint_auth_method: 'none',
  });
  await documents.get(id);
  expect(server.hits.get('/client.json')).toBe(1);
  now += 3601_000;
  await documents.get(id);
  expect(server.hits.get('/client.json')).toBe(2);
  // no-store: kept for the shortest time only (a sign-in and its token request).
  await documents.get(`${server.url}/short-cache.json`);
  now += 61_000;
  await documents.get(`${server.url}/short-cache.json`);
  expect(server.hits.get('/short-cache.json')).toBe(2);
});

test('a document that is not what it should be is refused, saying why', async () => {
  const documents = new ClientDocuments({ allowPrivateHosts: true });
  const refused = async (path: string, why: RegExp) => {
    await expect(documents.get(`${server.url}${path}`)).rejects.toMatchObject({ code: 'invalid_client', message: expect.stringMatching(why) });
  };
  await refused('/other-id.json', /names another client_id than its own URL/);
  await refused('/secret.json', /must not hold a client secret/);
  await refused('/basic.json', /client_secret_basic" is not offered/);
  await refused('/big.json', /over 5120 bytes/);
  await refused('/moved.json', /answered 302 \(redirects are not followed\)/);
  await refused('/not-json.json', /not a JSON object/);
  await refused('/bad-redirect.json', /neither https nor http on a loopback address/);
  await refused('/missing.json', /answered 404/);
}, 20_000);

test('a host that does not answer is given up on after 5 s', async () => {
  const documents = new ClientDocuments({ allowPrivateHosts: true });
  const started = Date.now();
  await expect(documents.get(`${server.url}/hang.json`)).rejects.toThrow(/did not answer within 5 s/);
  expect(Date.now() - started).toBeLessThan(8_000);
}, 20_000);

test('what a client_id URL may be; private and loopback hosts only when allowed', async () => {
  const documents = new ClientDocuments({ allowPrivateHosts: false });
  expect(documents.names('tc-abc')).toBe(false);
  expect(documents.names('http://example.com/client.json')).toBe(false);
  expect(documents.names('https://example.com')).toBe(false);
  await expect(documents.get(`${server.url}/client.json`)).rejects.toThrow(/is on a private or loopback address/);
  for (const host of ['10.1.2.3', '192.168.0.10', '169.254.169.254', '[::1]', '[fd00::1]', '100.64.0.1', 'localhost']) {
    await expect(documents.get(`https://${host}/client.json`), host).rejects.toThrow(/private or loopback address/);
  }
  await expect(documents.get('https://example.com/a/../client.json')).rejects.toThrow(/normal form|\. or \.\. path segments/);
  await expect(documents.get('https://user:pw@example.com/client.json')).rejects.toThrow(/must not carry credentials/);
  await expect(documents.get('https://nowhere.invalid/client.json')).rejects.toThrow(/does not resolve/);
  expect(server.hits.get('/client.json') ?? 0).toBeLessThanOrEqual(2);
});
