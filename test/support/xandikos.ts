// Starts a real Xandikos (Debian package `xandikos`), a second CalDAV server that answers
// differently from Radicale (204 on update, 207-wrapped precondition failures, its own token
// format). It has no authentication; tripcal's basic auth header is simply ignored.
import { spawn } from 'node:child_process';
import { freePort } from './radicale.js';
import { tempDir } from './mcp.js';

export interface Xandikos {
  url: string;
  username: string;
  password: string;
  authHeader?: string;
  stop: () => Promise<void>;
}

export async function startXandikos(): Promise<Xandikos> {
  const dir = tempDir('tripcal-xandikos-');
  const port = await freePort();
  const child = spawn('xandikos', ['-d', dir, '--defaults', '-l', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let spawnError: Error | null = null;
  child.once('error', (e) => (spawnError = new Error(`cannot start xandikos (apt-get install xandikos): ${e.message}`)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null) throw new Error(`xandikos exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/`, { method: 'PROPFIND', headers: { depth: '0' } });
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`xandikos did not start on ${url}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    username: 'user',
    password: 'unused',
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
