// A model-based property test of the reconciler, in the spirit of vdirsyncer's Hypothesis
// SyncMachine: random model edits, calendar edits and deletes, etags that change without
// content, failing writes and crashes at any write, against an in-memory calendar that follows
// the provider contract. Invariants: at most one remote event per desired event, convergence
// within two clean runs, foreign events untouched, nothing deleted whose item still exists.
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { desiredEvents } from '../../src/events/desired.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { Crash, MemoryCalendar, type StoredObject } from '../support/memory-provider.js';
import { tempDir } from '../support/mcp.js';

type Action =
  | { kind: 'add'; day: number; hour: number }
  | { kind: 'update'; pick: number; hour: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'remoteEdit'; pick: number }
  | { kind: 'remoteDelete'; pick: number }
  | { kind: 'flakyEtag'; pick: number }
  | { kind: 'sync'; failRate: number; loseRate: number; crashAfter: number | null };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), day: fc.integer({ min: 1, max: 28 }), hour: fc.integer({ min: 6, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), hour: fc.integer({ min: 6, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remoteEdit' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remoteDelete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flakyEtag' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant('sync' as const),
    failRate: fc.constantFrom(0, 0, 0.3),
    loseRate: fc.constantFrom(0, 0, 0.3),
    crashAfter: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  }) },
);

const FOREIGN: StoredObject = {
  id: 'someone-else', etag: '"f1"', key: null,
  content: { summary: 'Dentist', description: '', location: null, allDay: false, start: { utc: '2025-06-10T08:00:00Z', zone: 'UTC' }, end: { utc: '2025-06-10T09:00:00Z', zone: 'UTC' }, reminders: [], transparent: false },
};

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('sync converges, never duplicates, never loses an edit, never touches foreign events, never deletes live items', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 3, maxLength: 25 }), fc.integer(), fc.constantFrom('model_wins', 'remote_wins'), async (actions, seed, policy) => {
      const dir = tempDir();
      const config = join(dir, 'config.yaml');
      writeFileSync(config, `accounts:\n  - name: mem\n    provider: caldav\n    url: http://127.0.0.1:9/\n    username: u\n    password: p\n    policy: ${policy}\n`
        + 'sync:\n  retry_attempts: 1\n  min_guarded_deletes: 1000\n');
      const cal = new MemoryCalendar();
      cal.random = seeded(seed);
      cal.put(structuredClone(FOREIGN));
      let app: App = openApp({ dataDir: dir, configPath: config });
      const engine = (a: App) => new SyncEngine(a.store, a.config, a.trips, async () => cal.provider());
      let sync = engine(app);
      const tripId = app.trips.createTrip(undefined, { title: 'June', timezone: 'Europe/Paris', start_date: '2025-06-01', end_date: '2025-06-30' }).id;
      const items: string[] = [];
      // Calendar edits in this test change titles only, so an item's times are always those it was last given here.
      const expectedStart = new Map<string, string>();
      const live = () => items.filter((id) => app.store.getItem(id));
      const ours = () => [...cal.objects.values()].filter((o) => o.key !== null);
      try {
        for (const a of actions) {
          switch (a.kind) {
            case 'add': {
              const { item } = app.trips.addItem(undefined, { kind: 'activity', details: { name: `A${items.length}`, start_time: `2025-06-${String(a.day).padStart(2, '0')}T${String(a.hour).padStart(2, '0')}:00` } }, { tripId, path: 'a' });
              items.push(item.id);
              expectedStart.set(item.id, item.startUtc);
              break;
            }
            case 'update': {
              const ids = live();
              const hour = String(a.hour).padStart(2, '0');
              if (ids.length) {
                const { item } = app.trips.updateItem(undefined, ids[a.pick % ids.length]!, { changes: { start_time: `2025-06-15T${hour}:30`, end_time: `2025-06-15T${hour}:50` } });
                expectedStart.set(item.id, item.startUtc);
              }
              break;
            }
            case 'delete': {
              const ids = live();
              if (ids.length) app.trips.deleteItem(undefined, ids[a.pick % ids.length]!);
              break;
            }
            case 'remoteEdit':
            case 'flakyEtag': {
              const objects = ours();
              if (!objects.length) break;
              const o = objects[a.pick % objects.length]!;
              const content = a.kind === 'remoteEdit' ? { ...o.content, summary: `${o.content.summary} (moved)` } : o.content;
              cal.put({ ...o, etag: cal.newEtag(), content });
              break;
            }
            case 'remoteDelete': {
              const objects = ours();
              if (objects.length) cal.remove(objects[a.pick % objects.length]!.id);
              break;
            }
            case 'sync': {
              cal.failRate = a.failRate;
              cal.loseRate = a.loseRate;
              cal.crashAfterWrites = a.crashAfter;
              try {
                await sync.sync();
              } catch (error) {
                if (!(error instanceof Crash)) throw error;
                // As after a killed process: a new app on the same database.
                await app.close();
                app = openApp({ dataDir: dir, configPath: config });
                sync = engine(app);
              } finally {
                cal.failRate = 0;
                cal.loseRate = 0;
                cal.crashAfterWrites = null;
              }
              break;
            }
          }
          // At most one remote event per desired event, at every step.
          const keys = ours().map((o) => o.key);
          expect(new Set(keys).size).toBe(keys.length);
        }

        // Two clean runs converge; a third writes nothing.
        await sync.sync();
        await sync.sync();
        const desired = desiredEvents([...app.store.userItems('me')]);
        const gone = new Set(sync.links.links('mem').filter((l) => l.state === 'gone').map((l) => l.key));
        const byKey = new Map(ours().map((o) => [o.key!, o]));
        for (const d of desired) {
          const o = byKey.get(d.key);
          if (gone.has(d.key)) {
            expect(o).toBeUndefined();
            continue;
          }
          expect(o, `${d.key} missing`).toBeDefined();
          expect(o!.content).toMatchObject({ summary: d.summary, start: d.start, end: d.end });
        }
        const desiredKeys = new Set(desired.map((d) => d.key));
        expect(ours().filter((o) => !desiredKeys.has(o.key!))).toEqual([]);
        expect(cal.objects.get(FOREIGN.id)).toEqual(FOREIGN);
        for (const id of live()) expect(app.store.getItem(id)!.startUtc, `edit of ${id} lost`).toBe(expectedStart.get(id));
        for (const { key } of cal.deleted) expect(app.store.getItem(key!.split(':')[0]!), `deleted a live item's event ${key}`).toBeUndefined();
        const [third] = await sync.sync();
        expect(third!.counts).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
      } finally {
        await app.close();
      }
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 120), seed: Number(process.env.PROPERTY_SEED ?? 7) },
  );
}, 120_000);
