// The reconciler's decisions as plain values: desired events, links and a listing in, links and
// operations out.
import { describe, expect, test } from 'vitest';
import type { EventContent, Listing, RemoteEvent } from '../../providers/types.js';
import type { DesiredEvent } from '../../src/events/desired.js';
import { contentHash } from '../../src/events/hash.js';
import type { Link } from '../../src/store/sync.js';
import { observe, plan, type PlanInput } from '../../src/sync/plan.js';

const content = (summary: string, hour = 10): EventContent => ({
  summary, description: '', location: null, allDay: false,
  start: { utc: `2025-06-16T${hour}:00:00Z`, zone: 'Europe/Paris' }, end: { utc: `2025-06-16T${hour + 1}:00:00Z`, zone: 'Europe/Paris' },
  reminders: [], transparent: false,
});

function desired(item: string, summary = 'Tour', hour = 10): DesiredEvent {
  const c = content(summary, hour);
  return { ...c, key: `${item}:activity`, uid: `${item}-activity@tripcal`, tripId: 'trip_1', itemId: item, itemVersion: 1, role: 'activity', hash: contentHash(c) };
}

/** A link as left by a successful write of `d`, the remote showing `remote` (default: what was written). */
function synced(d: DesiredEvent, remote: EventContent = d): Link {
  const written = contentHash(d);
  return {
    account: 'home', key: d.key, itemId: d.itemId, tripId: d.tripId, remoteId: `/cal/${d.itemId}.ics`, remoteEtag: '"1"',
    remoteHash: contentHash(remote), remoteLink: null, remoteContent: remote, writtenHash: d.hash, writtenRemoteHash: written,
    writtenVersion: d.itemVersion, pendingHash: null, pendingRemoteHash: null, writtenContent: d, state: 'synced', lastError: null, updatedAt: '2025-01-01T00:00:00Z',
  };
}

function input(over: Partial<PlanInput>): PlanInput {
  return {
    desired: [], links: [], duplicates: [], policy: 'model_wins', inScope: () => true, deletedItems: new Map(),
    guard: { maxDeleteShare: 0.5, minGuardedDeletes: 2 }, ...over,
  };
}

describe('plan', () => {
  test('new desired events are created; unchanged ones are left alone', () => {
    const a = desired('item_a');
    const b = desired('item_b');
    const p = plan(input({ desired: [a, b], links: [synced(a)] }));
    expect(p.operations).toEqual([{ kind: 'create', key: b.key, event: b, reason: 'new' }]);
    expect(p.unchanged).toBe(1);
  });

  test('a model change is pushed with the stored etag', () => {
    const old = desired('item_a');
    const now = desired('item_a', 'Tour', 11);
    expect(plan(input({ desired: [now], links: [synced(old)] })).operations)
      .toEqual([{ kind: 'update', key: now.key, event: now, remoteId: '/cal/item_a.ics', etag: '"1"', reason: 'changed' }]);
  });

  test.each([
    ['model_wins', 'update'],
    ['remote_wins', 'pull'],
    ['flag', 'flag'],
  ] as const)('drift under %s becomes %s', (policy, kind) => {
    const d = desired('item_a');
    const link = synced(d, content('Tour', 15));
    expect(plan(input({ desired: [d], links: [link], policy })).operations[0]).toMatchObject({ kind, reason: 'drift' });
  });

  test('both sides changed is a conflict, decided by the policy', () => {
    const old = desired('item_a');
    const link = synced(old, content('Tour', 15));
    expect(plan(input({ desired: [desired('item_a', 'Tour', 12)], links: [link], policy: 'flag' })).operations[0])
      .toMatchObject({ kind: 'flag', reason: 'conflict' });
  });

  test('a remote deletion is reported and not recreated, unless the item changed or recreate is asked', () => {
    const d = desired('item_a');
    const gone: Link = { ...synced(d), state: 'gone', remoteEtag: null };
    expect(plan(input({ desired: [d], links: [gone] }))).toMatchObject({ operations: [], gone: [d.key] });
    expect(plan(input({ desired: [d], links: [gone], recreate: true })).operations[0]).toMatchObject({ kind: 'create', reason: 'recreate' });
    expect(plan(input({ desired: [{ ...desired('item_a', 'Tour', 9), itemVersion: 2 }], links: [gone] })).operations[0]).toMatchObject({ kind: 'create', reason: 'recreate' });
    // The same item version rendered differently (a new renderer) does not bring it back.
    expect(plan(input({ desired: [desired('item_a', 'Tour (renamed by a new renderer)')], links: [gone] })).gone).toEqual([d.key]);
  });

  test('deleting the events of deleted items is intended; losing many live items trips the guard', () => {
    const links = ['a', 'b', 'c', 'd'].map((x) => synced(desired(`item_${x}`)));
    const deletedAll = plan(input({ desired: [], links, deletedItems: new Map(['item_a', 'item_b', 'item_c', 'item_d'].map((i) => [i, 'trip_1'])) }));
    expect(deletedAll.guard).toBeNull();
    expect(deletedAll.operations.map((o) => o.kind)).toEqual(['delete', 'delete', 'delete', 'delete']);
    const vanished = plan(input({ desired: [], links }));
    expect(vanished.guard).toMatch(/would delete 4 of our 4 events/);
    expect(plan(input({ desired: [], links, allowMassDelete: true })).guard).toBeNull();
  });

  test('a deleted item\'s event is deleted by a run scoped to the trip it was last in, even if its link still names an older trip', () => {
    const d = desired('item_a');
    const link = { ...synced(d), tripId: 'trip_old' };
    const p = plan(input({ desired: [], links: [link], deletedItems: new Map([['item_a', 'trip_new']]), inScope: (t) => t === 'trip_new' }));
    expect(p.operations).toMatchObject([{ kind: 'delete', key: d.key }]);
  });

  test('a trip-scoped run writes only that trip', () => {
    const a = desired('item_a');
    const other = { ...desired('item_b'), tripId: 'trip_2' };
    expect(plan(input({ desired: [a, other], inScope: (t) => t === 'trip_2' })).operations.map((o) => o.key)).toEqual([other.key]);
  });
});

describe('observe', () => {
  const ctx = (desiredEvents: DesiredEvent[] = []) => ({
    account: 'home', knownItems: new Set(['item_a', 'item_b']), desired: new Map(desiredEvents.map((d) => [d.key, d])), now: '2025-01-02T00:00:00Z',
  });
  const listing = (over: Partial<Listing>): Listing => ({ changed: [], unchanged: [], removed: [], full: false, cursor: '2', requests: 1, ...over });
  const remote = (d: DesiredEvent, id = `/cal/${d.itemId}.ics`, etag = '"2"'): RemoteEvent => ({ id, etag, key: d.key, content: { ...d }, link: null });

  test('an event of ours found without a link (an answer lost in a crash) is adopted', () => {
    const d = desired('item_a');
    const seen = observe([], listing({ changed: [remote(d)] }), ctx([d]));
    expect(seen.links).toMatchObject([{ key: d.key, state: 'adopt', remoteId: '/cal/item_a.ics' }]);
  });

  test('events naming items this tripcal never had are not ours', () => {
    const stranger = desired('item_zzz');
    expect(observe([], listing({ changed: [remote(stranger)] }), ctx()).links).toEqual([]);
  });

  test('a second event under one key is a duplicate to delete', () => {
    const d = desired('item_a');
    const seen = observe([synced(d)], listing({ changed: [remote(d, '/cal/copy.ics')] }), ctx([d]));
    expect(seen.duplicates.map((r) => r.id)).toEqual(['/cal/copy.ics']);
  });

  test('an event moved to a new address by a calendar app is followed, not deleted as a copy', () => {
    const d = desired('item_a');
    const moved = remote(d, '/cal/renamed.ics', '"9"');
    for (const l of [listing({ changed: [moved], removed: ['/cal/item_a.ics'] }), listing({ full: true, changed: [moved] })]) {
      const seen = observe([synced(d)], l, ctx([d]));
      expect(seen.duplicates).toEqual([]);
      expect(seen.links).toMatchObject([{ key: d.key, remoteId: '/cal/renamed.ics', remoteEtag: '"9"', state: 'synced' }]);
    }
  });

  test('links follow an item moved to another trip', () => {
    const d = desired('item_a');
    const seen = observe([{ ...synced(d), tripId: 'trip_old' }], listing({}), ctx([d]));
    expect(seen.links[0]!.tripId).toBe('trip_1');
  });

  test('removed ids and, on a full listing, missing ids mark links gone; an empty full listing stops instead', () => {
    const a = desired('item_a');
    const b = desired('item_b');
    expect(observe([synced(a), synced(b)], listing({ removed: ['/cal/item_a.ics'] }), ctx()).links.find((l) => l.key === a.key)!.state).toBe('gone');
    const full = observe([synced(a), synced(b)], listing({ full: true, unchanged: ['/cal/item_b.ics'] }), ctx());
    expect(full.links.map((l) => l.state)).toEqual(['gone', 'synced']);
    expect(observe([synced(a), synced(b)], listing({ full: true }), ctx()).guard).toMatch(/without any of our 2 events/);
  });
});
