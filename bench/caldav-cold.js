// CalDAV from a new process each sync, as a user's cron job runs it (issue #19): 500 items against
// a real Radicale, each step a fresh `tripcal sync` behind a counting proxy. Requests are counted
// on the wire by the proxy (not by tripcal), peak RSS by /usr/bin/time -v.
//  - first sync (discovery, calendar creation, 500 creates): requests, RSS
//  - three syncs with nothing changed: requests each, median RSS
//  - a sync after one item changed: requests
// `root` is the checkout whose dist/ is measured, so an older build is measured the same way.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { radicale, tmp, seedActivities } from './servers.js';

/** A loopback proxy that forwards everything to `target` and logs each request's method and path. */
async function countingProxy(target) {
  const upstream = new URL(target);
  const log = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      log.push({ method: req.method, path: req.url });
      const body = Buffer.concat(chunks);
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.socket?.destroy());
      out.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    stop: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function byMethod(entries) {
  const out = {};
  for (const e of entries) out[e.method] = (out[e.method] ?? 0) + 1;
  return out;
}

/**
 * Runs `tripcal sync` in a fresh process: its requests on the wire and its peak RSS in MB. The
 * proxy runs in this process, so the child is awaited, never waited for synchronously.
 */
async function coldSync(root, proxy, dir, config) {
  const start = proxy.log.length;
  const child = spawn('/usr/bin/time', ['-v', process.execPath, join(root, 'dist/tripcal.mjs'), 'sync', '--config', config, '--data-dir', dir], {
    env: { ...process.env, TRIPCAL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const status = await new Promise((r) => child.on('close', r));
  if (status !== 0) throw new Error(`tripcal sync failed (${status}): ${stdout}${stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  return { entries: proxy.log.slice(start), rssMb: Math.round(kb / 1024), output: stdout.trim() };
}

/** The numbers of one checkout. */
export async function caldavColdBench(root, items = 500) {
  const server = await radicale();
  const proxy = await countingProxy(server.url);
  try {
    const dir = tmp();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `accounts:\n  - name: bench\n    provider: caldav\n    url: ${proxy.url}/\n    username: bench\n    password: bench\n    calendar: Trips\n`);
    const { openApp } = await import(pathToFileURL(join(root, 'dist/src/app.js')).href);
    const app = await openApp({ dataDir: dir, configPath: config });
    const { ids } = await seedActivities(app, items);
    await app.close();
    const edit = async () => {
      const again = await openApp({ dataDir: dir, configPath: config });
      await again.trips.updateItem(undefined, ids[250], { changes: { name: 'Activity 250 (moved)' } });
      await again.close();
    };
    const first = await coldSync(root, proxy, dir, config);
    // The sync after the first lists what the first wrote; the ones after it are the steady state.
    const second = await coldSync(root, proxy, dir, config);
    const quiet = [];
    for (let i = 0; i < 3; i++) quiet.push(await coldSync(root, proxy, dir, config));
    await edit();
    const oneEdit = await coldSync(root, proxy, dir, config);
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      items,
      first_sync_requests: first.entries.length,
      first_sync_by_method: byMethod(first.entries),
      first_sync_rss_mb: first.rssMb,
      second_sync_requests: second.entries.length,
      no_change_requests: quiet.map((q) => q.entries.length),
      no_change_by_method: byMethod(quiet[0].entries),
      no_change_rss_mb: median(quiet.map((q) => q.rssMb)),
      one_edit_requests: oneEdit.entries.length,
      one_edit_by_method: byMethod(oneEdit.entries),
    };
  } finally {
    await proxy.stop();
    server.stop();
  }
}
