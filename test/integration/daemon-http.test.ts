// The daemon's HTTP side in-process: sessions that are never closed by their clients are closed
// after being idle, so a long-running daemon does not collect them forever.
import { afterEach, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedServer } from '../../src/daemon/feeds.js';
import { DaemonHttp, health } from '../../src/daemon/http.js';
import { testApp } from '../support/app.js';
import { connectHttp } from '../support/daemon.js';

let app: App | undefined;
let http: DaemonHttp | undefined;
afterEach(async () => {
  await http?.close();
  await app?.close();
});

test('idle sessions are closed; their clients get "session not found", others go on', async () => {
  app = testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0 }, token: undefined, allowedOrigins: [], feeds: new FeedServer(a), health: () => health(a) });
  await http.start();
  const first = await connectHttp(`${http.baseUrl}/mcp`);
  const second = await connectHttp(`${http.baseUrl}/mcp`);
  expect(http.sessionCount).toBe(2);
  const cutoff = Date.now() + 1;
  await new Promise((r) => setTimeout(r, 5));
  await second.call('list_trips', {}); // heard from after the cutoff
  http.closeIdle(cutoff);
  expect(http.sessionCount).toBe(1);
  expect((await second.call('list_trips', {})).isError).toBeFalsy();
  await expect(first.call('list_trips', {})).rejects.toThrow(/Session not found|404/);
  await second.close();
  await first.close().catch(() => undefined);
});

test('browser clients from an allowed origin get CORS answers (preflight included); others get 403', async () => {
  app = testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0 }, token: undefined, allowedOrigins: ['https://inspector.example', 'http://localhost:6274'], feeds: new FeedServer(a), health: () => health(a) });
  await http.start();
  const preflight = await fetch(`${http.baseUrl}/mcp`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
  const listed = await fetch(`${http.baseUrl}/healthz`, { headers: { origin: 'https://inspector.example' } });
  expect(listed.status).toBe(200);
  expect(listed.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
  expect((await fetch(`${http.baseUrl}/healthz`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
});
