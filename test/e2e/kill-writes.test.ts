// SIGKILL while a client writes as fast as it can: every add the server acknowledged is in the
// model when it starts again, in every round, and the database opens clean. Four clients write
// at once into one data directory (two processes, so two writers contend for SQLite's lock).
import { afterAll, expect, test } from 'vitest';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';

const ROUNDS = Number(process.env.TRIPCAL_KILL_ROUNDS ?? 8);
const open: Connected[] = [];
afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
});

/** Adds activities until the process dies; resolves with the names it acknowledged. */
async function writeUntilKilled(server: Connected, prefix: string): Promise<string[]> {
  const acknowledged: string[] = [];
  for (let i = 0; ; i += 1) {
    const name = `${prefix}-${i}`;
    try {
      const result = await server.call('add_activity', { activity_details: { name, start_time: '2027-05-01T10:00:00Z' } });
      if (result.isError) throw new Error(JSON.stringify(result.content));
      acknowledged.push(name);
    } catch {
      return acknowledged;
    }
  }
}

test(`${ROUNDS} SIGKILL rounds lose no acknowledged write`, async () => {
  const dataDir = tempDir();
  let total = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const servers = [await connect({ dataDir }), await connect({ dataDir })];
    open.push(...servers);
    const writers = servers.flatMap((s, k) => [writeUntilKilled(s, `r${round}p${k}a`), writeUntilKilled(s, `r${round}p${k}b`)]);
    // Let them write for a while (each round a little longer), then kill both without warning.
    await new Promise((r) => setTimeout(r, 300 + round * 97));
    for (const s of servers) process.kill((s.client.raw.transport as { pid: number }).pid, 'SIGKILL');
    const acknowledged = (await Promise.all(writers)).flat();
    total += acknowledged.length;

    const check = await connect({ dataDir });
    open.push(check);
    const trips = structured(await check.call('list_trips', {})).trips as Array<{ id: string }>;
    const names = new Set<string>();
    for (const t of trips) {
      const trip = structured(await check.call('get_trip', { trip_id: t.id }));
      for (const item of trip.items as Array<{ details: { name?: string } }>) if (item.details.name) names.add(item.details.name);
    }
    const lost = acknowledged.filter((n) => !names.has(n));
    expect(lost, `round ${round}`).toEqual([]);
    await check.close();
  }
  expect(total).toBeGreaterThan(ROUNDS * 4);
  process.stderr.write(`kill-writes: ${ROUNDS} rounds, ${total} acknowledged writes, 0 lost\n`);
}, 240_000);
