// Starts a real Radicale (Debian package `radicale`) on a free loopback port with a temporary
// storage folder and htpasswd auth, for tests that need a real CalDAV server. Fails loudly when
// Radicale is missing: `.ci/run` installs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './mcp.js';

export interface Radicale {
  url: string;
  /** Radicale's storage folder (collection-root/<user>/<collection>/*.ics): what a test reads as the server's own state. */
  storage: string;
  username: string;
  password: string;
  authHeader: string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startRadicale(): Promise<Radicale> {
  const dir = tempDir('tripcal-radicale-');
  const port = await freePort();
  const username = 'traveller';
  const password = 'correct horse battery staple';
  mkdirSync(join(dir, 'collections'));
  writeFileSync(join(dir, 'users'), `${username}:${password}\n`);
  writeFileSync(join(dir, 'config'), [
    '[server]', `hosts = 127.0.0.1:${port}`,
    '[auth]', 'type = htpasswd', `htpasswd_filename = ${join(dir, 'users')}`, 'htpasswd_encryption = plain',
    '[rights]', 'type = owner_only',
    '[storage]', `filesystem_folder = ${join(dir, 'collections')}`,
    '[logging]', 'level = warning',
  ].join('\n'));
  const child: ChildProcess = spawn('radicale', ['--config', join(dir, 'config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start radicale (apt-get install radicale): ${e.message}`))));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`radicale exited with ${child.exitCode}: ${stderr}`);
    try {
      await Promise.race([fetch(`${url}/.web/`), spawnError]);
      break;
    } catch (error) {
      if (String(error).includes('cannot start radicale')) throw error;
      if (Date.now() > deadline) throw new Error(`radicale did not start on ${url}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    storage: join(dir, 'collections'),
    username,
    password,
    authHeader: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
