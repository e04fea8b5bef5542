// What the benchmarks share: temp directories, a free loopback port, a real Radicale.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tmp = () => mkdtempSync(join(tmpdir(), 'tripcal-bench-'));

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Radicale with one htpasswd user whose password is its name. */
export async function radicale(user = 'bench') {
  const dir = tmp();
  const port = await freePort();
  mkdirSync(join(dir, 'collections'));
  writeFileSync(join(dir, 'users'), `${user}:${user}\n`);
  writeFileSync(join(dir, 'config'), `[server]\nhosts = 127.0.0.1:${port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = ${join(dir, 'users')}\nhtpasswd_encryption = plain\n[storage]\nfilesystem_folder = ${join(dir, 'collections')}\n[logging]\nlevel = warning\n`);
  const child = spawn('radicale', ['--config', join(dir, 'config')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(`${url}/.web/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => child.kill() };
}

/** A year-long trip of `items` one-hour activities (08:00–17:00 local), one a day; the trip and the item ids. */
export async function seedActivities(app, items, year = 2026) {
  const trip = await app.trips.createTrip(undefined, { title: 'Bench', timezone: 'Europe/Paris', start_date: `${year}-01-01`, end_date: `${year}-12-31` });
  const ids = [];
  for (let i = 0; i < items; i++) {
    const day = new Date(Date.UTC(year, 0, 1) + (i % 360) * 86_400_000).toISOString().slice(0, 10);
    ids.push((await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Activity ${i}`, start_time: `${day}T${String(8 + (i % 10)).padStart(2, '0')}:00` } }, { tripId: trip.id, path: 'a' })).item.id);
  }
  return { trip, ids };
}
