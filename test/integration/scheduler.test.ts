// The background scheduler with a stand-in engine: runs on the cron schedule, one account's runs
// never overlap, and a tick that finds the previous run still going is not dropped but run
// right after it (and said so in the log).
import { expect, test } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { Scheduler } from '../../src/daemon/scheduler.js';
import type { SyncEngine } from '../../src/sync/engine.js';

test('a tick during a long run becomes one catch-up run right after it; runs never overlap', async () => {
  const config = ConfigSchema.parse({ sync: { schedule: '* * * * * *', jitter_seconds: 0 } });
  let active = 0;
  let maxActive = 0;
  const starts: number[] = [];
  const engine = {
    accounts: () => [{ name: 'home' }],
    sync: async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      starts.push(Date.now());
      // The first run outlasts two ticks; later ones are quick.
      await new Promise((r) => setTimeout(r, starts.length === 1 ? 2500 : 50));
      active -= 1;
      return [{ status: 'ok', counts: { created: 0, updated: 0, deleted: 0 }, requests: 1 }];
    },
  } as unknown as SyncEngine;
  const scheduler = new Scheduler(engine, config);
  await scheduler.start();
  expect(scheduler.info()).toMatchObject({ expression: '* * * * * *', timezone: 'UTC', jitter_seconds: 0 });
  expect(Date.parse(scheduler.info().next_run!)).toBeGreaterThan(Date.now() - 1000);
  await new Promise((r) => setTimeout(r, 4200));
  await scheduler.stop();
  expect(maxActive).toBe(1);
  // The catch-up run started right after the long one (within a few ms, not at the next tick).
  expect(starts.length).toBeGreaterThanOrEqual(3);
  expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(2500);
  expect(starts[1]! - starts[0]!).toBeLessThan(2700);
  expect(scheduler.info().next_run).toBeNull();
});

test('a schedule that is not a cron expression is refused with the key at fault', () => {
  const config = ConfigSchema.parse({ sync: { schedule: '61 * * * *' } });
  expect(() => Scheduler.check(config)).toThrow(/sync\.schedule: "61 \* \* \* \*" is not a cron expression/);
});
