// Issue 14: behind a reverse proxy the daemon must be neither open nor broken. Debian's nginx
// (rewrites Host to the upstream) and Caddy (keeps the client's Host) run the shipped
// deploy/nginx.conf and deploy/Caddyfile, moved to loopback ports without TLS, in front of the
// real daemon with http.public_url: a public URL without a token is refused at start; through
// either proxy no token is 401, the token works with the SDK's own client, and the feed works.
// nginx and caddy must be installed (.ci/run installs them): missing, the test fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { CLI, structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';
const DEPLOY = join(import.meta.dirname, '../../deploy');
const TOKEN = 'proxy-test-token-0123456789abcdef';

interface Proxy {
  name: string;
  url: string;
  child: ChildProcess;
  log: () => string;
}

const children: ChildProcess[] = [];
let daemon: RunningDaemon;
let proxies: Proxy[] = [];
let daemonPort: number;

async function waitUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the proxy exited with ${child.exitCode}: ${log()}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${url}: the proxy did not start: ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function run(name: string, command: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  child.on('error', (error) => (log += `${name}: ${error.message}`));
  return { child, log: () => log };
}

/** deploy/nginx.conf, on a loopback port without TLS, in a config of its own (pid, temp dirs, logs). */
async function startNginx(port: number): Promise<Proxy> {
  const dir = tempDir('tripcal-nginx-');
  chmodSync(dir, 0o755); // the workers may run as another user
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  const server = readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8')
    .replace(/^\s*listen 443 ssl;$/m, `    listen 127.0.0.1:${port};`)
    .replace(/^\s*listen \[::\]:443 ssl;\n/m, '')
    .replace(/^\s*ssl_certificate.*\n/gm, '')
    .replaceAll('127.0.0.1:8765', `127.0.0.1:${daemonPort}`);
  expect(server).toContain(`listen 127.0.0.1:${port};`);
  expect(server).not.toMatch(/ssl/);
  writeFileSync(join(dir, 'nginx.conf'), [
    'daemon off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, 'error_log stderr warn;',
    'events { worker_connections 512; }',
    'http {', '  access_log off;',
    ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d === 'body' ? 'client_body' : d}_temp_path ${dir}/${d};`),
    server, '}', '',
  ].join('\n'));
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { encoding: 'utf8' });
  expect(check.status, check.stderr).toBe(0);
  const { child, log } = run('nginx', NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr']);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, child, log);
  return { name: 'nginx', url, child, log };
}

/** deploy/Caddyfile, on a loopback port over plain http, admin API off, its storage in a temp dir. */
async function startCaddy(port: number): Promise<Proxy> {
  const dir = tempDir('tripcal-caddy-');
  const site = readFileSync(join(DEPLOY, 'Caddyfile'), 'utf8')
    .replace(/^trips\.example\.org \{$/m, `http://127.0.0.1:${port} {\n\tbind 127.0.0.1`)
    .replaceAll('127.0.0.1:8765', `127.0.0.1:${daemonPort}`);
  expect(site).toContain(`http://127.0.0.1:${port} {`);
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tauto_https off\n\tadmin off\n\tstorage file_system ${dir}/storage\n}\n\n${site}`);
  const env = { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const { child, log } = run('caddy', CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], env);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, child, log);
  return { name: 'caddy', url, child, log };
}

beforeAll(async () => {
  // Not skipped: without them this test cannot say anything, and CI installs both.
  for (const bin of [NGINX, CADDY]) if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install nginx caddy (see .ci/run)`);
  daemonPort = await freePort();
  const [nginxPort, caddyPort] = [await freePort(), await freePort()];
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  // Caddy keeps the client's Host (its own address here), so the public URL is Caddy's.
  const http = `http:\n  listen: 127.0.0.1:${daemonPort}\n  public_url: http://127.0.0.1:${caddyPort}\n`;

  writeFileSync(config, http);
  const refused = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000 });
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/http\.public_url: .*http\.token must be set/);

  writeFileSync(config, `${http}  token: \${TEST_HTTP_TOKEN}\n`);
  daemon = await startDaemonProcess(['--config', config, '--data-dir', dir], { TEST_HTTP_TOKEN: TOKEN });
  proxies = [await startNginx(nginxPort), await startCaddy(caddyPort)];
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await daemon?.stop();
});

test('without a token: refused through either proxy, and directly (it arrives over loopback, but a public URL is set)', async () => {
  for (const base of [...proxies.map((p) => p.url), `http://127.0.0.1:${daemonPort}`]) {
    const mcp = await fetch(`${base}/mcp`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(mcp.status, base).toBe(401);
    expect(mcp.headers.get('www-authenticate'), base).toMatch(/^Bearer/);
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status, base).toBe(401);
    expect(await healthz.text(), base).not.toMatch(/accounts|memory_mb|pid/);
    await expect(connectHttp(`${base}/mcp`)).rejects.toThrow(/bearer token is required|401/);
  }
});

test('with the token, the SDK client works through nginx and through Caddy; /healthz answers', async () => {
  for (const proxy of proxies) {
    const client = await connectHttp(`${proxy.url}/mcp`, { authorization: `Bearer ${TOKEN}` });
    const added = structured(await client.call('add_activity', {
      activity_details: { name: `Museum via ${proxy.name}`, start_time: '2026-05-02T10:00', end_time: '2026-05-02T12:00', timezone: 'Europe/Paris' },
    }));
    expect(added.success, proxy.name).toBe(true);
    expect(structured(await client.call('list_trips', {})).trips.length).toBeGreaterThan(0);
    await client.close();
    const healthz = await fetch(`${proxy.url}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(healthz.status, `${proxy.name}: ${proxy.log()}`).toBe(200);
    expect(await healthz.json()).toMatchObject({ status: 'ok' });
  }
});

test('the feed works through both proxies (no token: its secret path is the credential), with ETag and 304', async () => {
  const feed = daemon.feeds.me!;
  const caddy = proxies.find((p) => p.name === 'caddy')!;
  expect(feed.startsWith(`${caddy.url}/feeds/`)).toBe(true); // the printed link is the public URL's
  for (const proxy of proxies) {
    const url = feed.replace(caddy.url, proxy.url);
    const res = await fetch(url);
    expect(res.status, proxy.name).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/calendar/);
    const calendar = new ICAL.Component(ICAL.parse(await res.text()));
    expect(calendar.getAllSubcomponents('vevent').map((e) => e.getFirstPropertyValue('summary'))).toEqual(
      expect.arrayContaining([expect.stringContaining('Museum via nginx')]),
    );
    const again = await fetch(url, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status, proxy.name).toBe(304);
    expect((await fetch(url.replace(/\/feeds\/.{4}/, '/feeds/AAAA'))).status).toBe(404);
  }
});
