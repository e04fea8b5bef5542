// The reconciler's decisions, as pure functions over plain values (after vdirsyncer's sync.py):
// `observe` folds a remote listing into the links; `plan` compares desired events with the links
// and says what to write. Nothing here does I/O.
import type { EventContent, Listing, RemoteEvent } from '../../providers/types.js';
import type { Policy } from '../config/schema.js';
import type { DesiredEvent } from '../events/desired.js';
import { contentHash } from '../events/hash.js';
import type { Link } from '../store/sync.js';
import { localIso } from '../../core/tz/zones.js';

export type Operation =
  | { kind: 'create'; key: string; event: DesiredEvent; reason: 'new' | 'recreate' }
  | { kind: 'update'; key: string; event: DesiredEvent; remoteId: string; etag: string; reason: 'changed' | 'drift' | 'conflict' | 'adopt' }
  | { kind: 'delete'; key: string; remoteId: string; etag: string; itemId: string; reason: 'item deleted' | 'duplicate' }
  | { kind: 'pull'; key: string; event: DesiredEvent; remote: EventContent; written: EventContent | null; reason: 'drift' | 'conflict' }
  | { kind: 'flag'; key: string; reason: 'drift' | 'conflict' }
  | { kind: 'forget'; key: string };

export interface Observed {
  links: Link[];
  /** Our events found twice under one key: the extra copies, to delete. */
  duplicates: RemoteEvent[];
  /** Set when the listing looks wrong enough that acting on it could lose events. */
  guard: string | null;
}

export interface ObserveContext {
  account: string;
  /** Every item id this tripcal has ever had for the user; events naming others are not ours. */
  knownItems: Set<string>;
  desired: Map<string, DesiredEvent>;
  now: string;
  /** The user said an empty calendar is right (recreate): mark everything gone instead of stopping. */
  acceptEmpty?: boolean;
}

function itemIdOf(key: string): string {
  return key.split(':')[0] ?? key;
}

/** The links after a listing: remote ids, etags and content as the provider now has them. */
export function observe(links: readonly Link[], listing: Listing, ctx: ObserveContext): Observed {
  const byKey = new Map(links.map((l) => [l.key, { ...l }]));
  const byRemote = new Map<string, Link>();
  for (const l of byKey.values()) if (l.remoteId) byRemote.set(l.remoteId, l);
  const duplicates: RemoteEvent[] = [];
  const ours = listing.changed.filter((r) => ctx.knownItems.has(itemIdOf(r.key)));
  const present = new Set<string>([...listing.unchanged, ...ours.map((r) => r.id)]);
  // Where a linked event is no longer: removed since the cursor, or absent from a full listing.
  const removed = new Set(listing.removed);
  const vanished = (id: string) => removed.has(id) || (listing.full && !present.has(id));

  if (listing.full) {
    const owned = [...byKey.values()].filter((l) => l.remoteId && l.state !== 'gone');
    // "Empty" means none of our events at all came back (ours or merely unchanged), not just none of the linked ones.
    if (owned.length > 0 && present.size === 0 && !ctx.acceptEmpty) {
      return {
        links: [...links],
        duplicates: [],
        guard: `the calendar listing came back without any of our ${owned.length} events; nothing was marked deleted. `
          + 'If you deleted them yourself, sync with allow_mass_delete (they stay deleted) or recreate (they come back)',
      };
    }
  }

  for (const remote of ours) {
    const seenAt = { remoteId: remote.id, remoteEtag: remote.etag, remoteHash: contentHash(remote.content), remoteContent: remote.content, remoteLink: remote.link, updatedAt: ctx.now };
    let link = byKey.get(remote.key);
    const elsewhere = link?.remoteId && link.remoteId !== remote.id && byRemote.get(link.remoteId) === link && link.state !== 'gone';
    if (link && elsewhere && !vanished(link.remoteId!)) {
      // Our key at a second address while the first is still there: a copy to remove.
      duplicates.push(remote);
      continue;
    }
    if (!link) {
      const desired = ctx.desired.get(remote.key);
      link = {
        account: ctx.account, key: remote.key, itemId: itemIdOf(remote.key), tripId: desired?.tripId ?? '', ...seenAt,
        writtenHash: null, writtenRemoteHash: null, writtenVersion: null, pendingHash: null, pendingRemoteHash: null, writtenContent: null, state: 'adopt', lastError: null,
      };
      byKey.set(remote.key, link);
    } else {
      // Moved to a new address by a calendar app: follow it rather than call it a copy.
      if (link.remoteId && link.remoteId !== remote.id) byRemote.delete(link.remoteId);
      Object.assign(link, seenAt);
      if (link.pendingRemoteHash && seenAt.remoteHash === link.pendingRemoteHash) {
        // Our own update, whose answer was lost: record it as written, not as a change in the calendar.
        link.writtenHash = link.pendingHash;
        link.writtenRemoteHash = seenAt.remoteHash;
        link.writtenContent = remote.content;
        link.pendingHash = null;
        link.pendingRemoteHash = null;
      }
      // Written by a run that died before it could record the answer, restored by the user, or found after a failure.
      if (link.state === 'pending_create' || link.state === 'gone' || link.state === 'failed') link.state = 'adopt';
    }
    byRemote.set(remote.id, link);
  }

  for (const link of byKey.values()) {
    if (!link.remoteId || link.state === 'gone' || byRemote.get(link.remoteId) !== link || !vanished(link.remoteId)) continue;
    link.state = 'gone';
    link.remoteEtag = null;
    link.updatedAt = ctx.now;
  }
  // An item moved to another trip: its links follow, so trip-scoped runs find them.
  for (const link of byKey.values()) {
    const desired = ctx.desired.get(link.key);
    if (desired && desired.tripId !== link.tripId) link.tripId = desired.tripId;
  }
  return { links: [...byKey.values()], duplicates, guard: null };
}

export interface PlanInput {
  desired: readonly DesiredEvent[];
  links: readonly Link[];
  duplicates: readonly RemoteEvent[];
  policy: Policy;
  /** Keys (by trip) this run may write; observations cover the whole account regardless. */
  inScope: (tripId: string) => boolean;
  /** Items the user deleted, with the trip each was in: removing their events is intended, not a mass deletion. */
  deletedItems: Map<string, string>;
  recreate?: boolean;
  resolve?: 'model' | 'remote';
  allowMassDelete?: boolean;
  guard: { maxDeleteShare: number; minGuardedDeletes: number };
}

export interface Plan {
  operations: Operation[];
  unchanged: number;
  /** Keys whose remote event the user deleted; kept deleted until the item changes or recreate is asked. */
  gone: string[];
  guard: string | null;
}

/**
 * The one decision per event: what to do about desired event `d` given its link `l` and the
 * account's policy. `plan` runs it for every event; `apply` runs it again for one event whose
 * write met a changed etag, once the calendar's version is folded into the link.
 */
export function decide(d: DesiredEvent, l: Link, input: Pick<PlanInput, 'policy' | 'recreate' | 'resolve'>): Operation | 'unchanged' | 'gone' {
  if (!l.remoteId || l.state === 'pending_create') return { kind: 'create', key: d.key, event: d, reason: 'new' };
  if (l.state === 'gone') {
    // By the item's version, not the hash: a renderer change (say, new zone abbreviations after a
    // Node upgrade) must not bring back what the user deleted.
    const edited = l.writtenVersion === null ? d.hash !== l.writtenHash : d.itemVersion > l.writtenVersion;
    if (input.recreate || edited) return { kind: 'create', key: d.key, event: d, reason: 'recreate' };
    return 'gone';
  }
  const etag = l.remoteEtag ?? '';
  if (l.state === 'adopt') return { kind: 'update', key: d.key, event: d, remoteId: l.remoteId, etag, reason: 'adopt' };
  const modelChanged = d.hash !== l.writtenHash;
  const remoteChanged = l.remoteHash !== l.writtenRemoteHash;
  if (l.state === 'conflict') {
    if (input.resolve === 'model') return { kind: 'update', key: d.key, event: d, remoteId: l.remoteId, etag, reason: 'conflict' };
    if (input.resolve === 'remote' && l.remoteContent) return { kind: 'pull', key: d.key, event: d, remote: l.remoteContent, written: l.writtenContent, reason: 'conflict' };
    return 'unchanged';
  }
  if (!remoteChanged) {
    return modelChanged ? { kind: 'update', key: d.key, event: d, remoteId: l.remoteId, etag, reason: 'changed' } : 'unchanged';
  }
  const reason = modelChanged ? 'conflict' : 'drift';
  if (input.policy === 'model_wins') return { kind: 'update', key: d.key, event: d, remoteId: l.remoteId, etag, reason };
  if (input.policy === 'remote_wins' && l.remoteContent) return { kind: 'pull', key: d.key, event: d, remote: l.remoteContent, written: l.writtenContent, reason };
  return { kind: 'flag', key: d.key, reason };
}

/** What to write so the remote calendar matches the desired events, by the account's policy. */
export function plan(input: PlanInput): Plan {
  const desired = new Map(input.desired.map((d) => [d.key, d]));
  const links = new Map(input.links.map((l) => [l.key, l]));
  const operations: Operation[] = [];
  const gone: string[] = [];
  let unchanged = 0;

  for (const d of desired.values()) {
    const l = links.get(d.key);
    if (!input.inScope(d.tripId) && !(l && input.inScope(l.tripId))) continue;
    if (!l) {
      operations.push({ kind: 'create', key: d.key, event: d, reason: 'new' });
      continue;
    }
    const decision = decide(d, l, input);
    if (decision === 'unchanged') unchanged += 1;
    else if (decision === 'gone') gone.push(d.key);
    else operations.push(decision);
  }

  let unintended = 0;
  for (const l of links.values()) {
    const lastTrip = input.deletedItems.get(l.itemId);
    if (desired.has(l.key) || !(input.inScope(l.tripId) || (lastTrip !== undefined && input.inScope(lastTrip)))) continue;
    if (l.remoteId && l.state !== 'gone' && l.remoteEtag !== null) {
      operations.push({ kind: 'delete', key: l.key, remoteId: l.remoteId, etag: l.remoteEtag, itemId: l.itemId, reason: 'item deleted' });
      if (!input.deletedItems.has(l.itemId)) unintended += 1;
    } else {
      operations.push({ kind: 'forget', key: l.key });
    }
  }
  for (const dup of input.duplicates) {
    operations.push({ kind: 'delete', key: dup.key, remoteId: dup.id, etag: dup.etag, itemId: itemIdOf(dup.key), reason: 'duplicate' });
  }

  const owned = input.links.filter((l) => l.remoteId && l.state !== 'gone').length;
  let guard: string | null = null;
  if (!input.allowMassDelete && unintended > input.guard.minGuardedDeletes && unintended > input.guard.maxDeleteShare * owned) {
    guard = `this sync would delete ${unintended} of our ${owned} events whose items were not deleted; stopped (sync with allow_mass_delete to go ahead)`;
  }
  return { operations, unchanged, gone, guard };
}

const sameTime = (a: { utc: string } | undefined, b: { utc: string }) => a !== undefined && a.utc === b.utc;

/**
 * The item fields a calendar app changed (remote_wins): times and place that differ from what we
 * last wrote (all of them when that is unknown). Titles and descriptions stay the model's.
 */
export function changesFromRemote(event: DesiredEvent, remote: EventContent, written: EventContent | null): Record<string, string> {
  const at = (t: { utc: string; zone: string }) => localIso(Date.parse(t.utc), t.zone);
  const dayBefore = (utc: string) => new Date(Date.parse(utc) - 86_400_000).toISOString().slice(0, 10);
  const moved = !sameTime(written?.start, remote.start) || !sameTime(written?.end, remote.end);
  const changes: Record<string, string> = {};
  switch (event.role) {
    case 'flight':
      if (moved) Object.assign(changes, { departure_time: at(remote.start), arrival_time: at(remote.end) });
      break;
    case 'check-in':
      if (!sameTime(written?.start, remote.start)) changes.check_in = at(remote.start);
      break;
    case 'check-out':
      if (!sameTime(written?.end, remote.end)) changes.check_out = at(remote.end);
      break;
    case 'activity':
      if (moved) {
        Object.assign(changes, remote.allDay
          ? { start_time: remote.start.utc.slice(0, 10), end_time: dayBefore(remote.end.utc) }
          : { start_time: at(remote.start), end_time: at(remote.end) });
      }
      if (remote.location && remote.location !== (written ? written.location : event.location)) changes.location = remote.location;
      break;
  }
  return changes;
}
