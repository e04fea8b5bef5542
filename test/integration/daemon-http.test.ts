// The daemon's HTTP side in-process: CORS for browser-based clients from allowed origins.
import { afterEach, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedServer } from '../../src/daemon/feeds.js';
import { DaemonHttp, health } from '../../src/daemon/http.js';
import { testApp } from '../support/app.js';

let app: App | undefined;
let http: DaemonHttp | undefined;
afterEach(async () => {
  await http?.close();
  await app?.close();
});

test('browser clients from an allowed origin get CORS answers (preflight included); others get 403', async () => {
  app = await testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0 }, tokens: [], allowedOrigins: ['https://inspector.example', 'http://localhost:6274'], feeds: new FeedServer(a), health: () => health(a) });
  await http.start();
  const preflight = await fetch(`${http.baseUrl}/mcp`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-method');
  const listed = await fetch(`${http.baseUrl}/healthz`, { headers: { origin: 'https://inspector.example' } });
  expect(listed.status).toBe(200);
  expect(listed.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
  expect((await fetch(`${http.baseUrl}/healthz`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
});
