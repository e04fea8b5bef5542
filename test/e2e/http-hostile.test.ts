// Issue 14, hostile input against the daemon's HTTP side: a web page whose origin only looks
// local (http://127.0.0.1.evil.example) gets no CORS access; a listen name is loopback only if
// it resolves to loopback addresses; a listen port out of range is a config error naming
// http.listen, not a RangeError.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedServer } from '../../src/daemon/feeds.js';
import { checkListen, isLoopbackAddress, resolveListenHost } from '../../src/daemon/exposure.js';
import { DaemonHttp, health } from '../../src/daemon/http.js';
import { testApp } from '../support/app.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { CLI, structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page', version: '1' } } };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let app: App | undefined;
let http: DaemonHttp | undefined;
const daemons: RunningDaemon[] = [];
afterEach(async () => {
  await http?.close();
  await app?.close();
  http = undefined;
  app = undefined;
});
afterAll(async () => {
  for (const d of daemons) await d.stop('SIGKILL');
});

async function localHttp(options: { allowedOrigins?: string[] } = {}): Promise<DaemonHttp> {
  app = await testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0, loopback: true }, tokens: [], allowedOrigins: options.allowedOrigins ?? [], feeds: new FeedServer(a), health: () => health(a) });
  await http.start();
  return http;
}

/** A raw request with a Host header of our choosing (fetch does not let us set Host). */
function rawStatus(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('origins are compared exactly (scheme, host, port)', () => {
  const lookalikes = (port: number) => [
    'http://127.0.0.1.evil.example',
    `http://127.0.0.1.evil.example:${port}`,
    `http://localhost.evil.example:${port}`,
    'http://127.evil.example',
    `http://127.0.0.2:${port}`, // another loopback address is another origin
    `http://127.0.0.1:${port + 1}`, // another port on this machine is another page
    `https://127.0.0.1:${port}`,
    'null',
  ];

  test('the default daemon gives a look-alike origin no CORS access to /mcp, not even a preflight', async () => {
    const server = await localHttp();
    const port = Number(new URL(server.baseUrl).port);
    for (const origin of lookalikes(port)) {
      const preflight = await fetch(`${server.baseUrl}/mcp`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(preflight.status, origin).toBe(403);
      expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
      const init = await fetch(`${server.baseUrl}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, origin }, body: JSON.stringify(INIT) });
      expect(init.status, origin).toBe(403);
      expect(init.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(init.headers.get('mcp-session-id'), origin).toBeNull();
    }
    expect(server.requestsInFlight).toBe(0);
  });

  test("the daemon's own origins and listed ones are allowed", async () => {
    const server = await localHttp({ allowedOrigins: ['http://localhost:6274'] });
    const port = Number(new URL(server.baseUrl).port);
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, 'http://localhost:6274']) {
      const init = await fetch(`${server.baseUrl}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, origin }, body: JSON.stringify(INIT) });
      expect(init.status, origin).toBe(200);
      expect(init.headers.get('access-control-allow-origin')).toBe(origin);
      await init.body?.cancel();
    }
    // A listed origin is that origin only, not its other ports.
    expect((await fetch(`${server.baseUrl}/healthz`, { headers: { origin: 'http://localhost:6275' } })).status).toBe(403);
  });

  test('the Host check is exact too: look-alike names and other ports are refused', async () => {
    const server = await localHttp();
    const port = Number(new URL(server.baseUrl).port);
    for (const host of [`127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.2:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', 'evil.example']) {
      expect(await rawStatus(port, '/healthz', { host }), host).toBe(403);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect(await rawStatus(port, '/healthz', { host }), host).toBe(200);
    }
  });
});

describe('loopback is decided by the resolved address, not the spelling', () => {
  test('addresses', async () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['192.168.1.5', '0.0.0.0', '::', '10.127.0.1', '::ffff:192.168.1.5', 'localhost', '127.lan.example']) expect(isLoopbackAddress(a), a).toBe(false);
  });

  test('a name spelled like loopback that resolves to a LAN address needs a token; so does a name that resolves nowhere', async () => {
    const lan = async (host: string) => (host === '127.lan.example' ? ['192.168.1.5'] : host === 'mixed.example' ? ['127.0.0.1', '192.168.1.5'] : ['127.0.0.1', '::1']);
    expect(await resolveListenHost('127.lan.example', lan)).toEqual({ addresses: ['192.168.1.5'], loopback: false });
    expect((await resolveListenHost('mixed.example', lan)).loopback).toBe(false);
    expect((await resolveListenHost('my-loopback-name', lan)).loopback).toBe(true);
    await expect(checkListen('127.lan.example:41999', { token: undefined, lookup: lan })).rejects.toThrow(
      /http\.listen: 127\.lan\.example:41999 \(it resolves to 192\.168\.1\.5\) can be reached from other machines, so http\.token must be set/,
    );
    const nowhere = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(checkListen('localhost.invalid:41999', { token: undefined, lookup: nowhere })).rejects.toThrow(/does not resolve here.*http\.token must be set/);
    const listen = await checkListen('127.lan.example:41999', { token: 'a-token-of-sixteen-chars', lookup: lan });
    expect(listen).toMatchObject({ host: '127.lan.example', port: 41999, loopback: false, address: '192.168.1.5' });
    expect(await checkListen('my-loopback-name:41999', { token: undefined, lookup: lan })).toMatchObject({ loopback: true, address: '127.0.0.1' });
  });

  test("the real daemon: this machine's non-loopback interface address needs a token; its host name follows what it resolves to", async () => {
    const external = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
    expect(external, 'this machine has a non-loopback IPv4 interface').toBeDefined();
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    const port = await freePort();
    writeFileSync(config, `http:\n  listen: ${external!.address}:${port}\n`);
    const refused = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/http\.listen: .* can be reached from other machines, so http\.token must be set/);

    // The machine's own name: a loopback name if /etc/hosts says so, a LAN name if DNS does.
    const name = hostname();
    const addresses = (await lookup(name, { all: true })).map((a) => a.address);
    const loopback = addresses.every(isLoopbackAddress);
    writeFileSync(config, `http:\n  listen: ${name}:${port}\n`);
    if (!loopback) {
      const offLoopback = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000 });
      expect(offLoopback.status).toBe(2);
      expect(offLoopback.stderr).toContain(`(it resolves to ${addresses.join(', ')}) can be reached from other machines, so http.token must be set`);
    } else {
      const d = await startDaemonProcess(['--config', config, '--data-dir', dir]);
      daemons.push(d);
      const client = await connectHttp(`http://127.0.0.1:${port}/mcp`);
      expect(structured(await client.call('list_trips', {})).trips).toEqual([]);
      await client.close();
      await d.stop();
    }
  });
});

test('a listen port out of range is a config error naming http.listen, not a RangeError', async () => {
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'http:\n  listen: 127.0.0.1:99999\n');
  const out = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000 });
  expect(out.status).toBe(2);
  expect(out.stderr).toMatch(/http\.listen: port 99999 is out of range: a port is 0–65535/);
  expect(out.stderr).not.toMatch(/RangeError|    at /);
});
