// Carries out a plan through a provider. Each remote write is preceded by a write-ahead mark on
// its link and followed by the outcome, each in its own transaction, so a crash at any point
// leaves the links saying what to check next; deterministic ids make every create repeatable.
import {
  AuthExpiredError, RemoteConflictError, InvalidError, isRetryable, RemoteNotFoundError, type CalendarProvider, type EventContent, type RemoteEvent,
} from '../../providers/types.js';
import type { Policy } from '../config/schema.js';
import type { DesiredEvent } from '../events/desired.js';
import { contentHash } from '../events/hash.js';
import type { Link, SyncStore } from '../store/sync.js';
import type { Operation } from './plan.js';
import { withRetry, type RetryOptions } from './retry.js';
import { decide } from './plan.js';

export interface SyncCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  pulled: number;
  gone: number;
}

export const emptyCounts = (): SyncCounts => ({ created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0, conflicts: 0, pulled: 0, gone: 0 });

export interface ApplyContext {
  account: string;
  policy: Policy;
  provider: CalendarProvider;
  store: SyncStore;
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  retry: RetryOptions;
  /**
   * remote_wins: takes what the calendar app changed (times, place: `remote` against `written`)
   * into the model; returns the item's desired event after that, or null if the model refused it.
   */
  pull: (event: DesiredEvent, remote: EventContent, written: EventContent | null) => Promise<DesiredEvent | null>;
  now: () => string;
  onProgress?: (done: number, total: number) => void;
  /** Why to stop (shutting down, the call was cancelled), or null: writes in flight finish, nothing new starts. */
  shouldStop?: () => string | null;
}

/** Stops the account's run: the rest of the plan stays pending for the next sync. */
export class StopAccount extends Error {}

function outgoing(event: DesiredEvent, sequence: number) {
  return { ...event, sequence };
}

/**
 * Runs the operations, `concurrency` at a time (each touches its own event). An auth failure or
 * exhausted retries stop the run: operations not started stay pending for the next sync.
 */
export async function applyPlan(operations: readonly Operation[], ctx: ApplyContext, counts: SyncCounts, concurrency = 1): Promise<void> {
  let done = 0;
  let next = 0;
  let stop: Error | null = null;
  const worker = async () => {
    while (!stop && next < operations.length) {
      const reason = ctx.shouldStop?.();
      if (reason) {
        stop ??= new StopAccount(`${reason}; the rest stays pending for the next sync`);
        return;
      }
      const op = operations[next++]!;
      try {
        await applyOne(op, ctx, counts, true);
      } catch (error) {
        if (error instanceof AuthExpiredError || isRetryable(error)) {
          stop ??= new StopAccount((error as Error).message, { cause: error });
          return;
        }
        if (!(error instanceof InvalidError || error instanceof RemoteConflictError || error instanceof RemoteNotFoundError)) {
          // Unexpected: stop the other workers too, and raise it once they have finished.
          stop ??= error as Error;
          return;
        }
        counts.failed += 1;
        await ctx.transaction(async () => {
          const link = await ctx.store.link(ctx.account, op.key);
          if (link) await ctx.store.saveLink({ ...link, state: link.remoteId ? link.state : 'failed', lastError: (error as Error).message, updatedAt: ctx.now() });
          await ctx.store.journal({ account: ctx.account, key: op.key, action: `${op.kind}.failed`, detail: { error: (error as Error).message } }, ctx.now());
        });
      }
      ctx.onProgress?.(++done, operations.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, operations.length)) }, worker));
  if (stop) throw stop;
}

/** SEQUENCE (RFC 5545 §3.8.7.4) must grow with each rewrite: seconds since 2023 always do. */
function sequenceOf(): number {
  return Math.floor(Date.now() / 1000) - 1_672_531_200;
}

async function applyOne(op: Operation, ctx: ApplyContext, counts: SyncCounts, mayReplan: boolean): Promise<void> {
  const call = <T>(fn: () => Promise<T>) => withRetry(fn, ctx.retry);
  const link = await ctx.store.link(ctx.account, op.key);
  switch (op.kind) {
    case 'create': {
      const base: Link = link ?? {
        account: ctx.account, key: op.key, itemId: op.event.itemId, tripId: op.event.tripId, remoteId: null, remoteEtag: null,
        remoteHash: null, remoteLink: null, remoteContent: null, writtenHash: null, writtenRemoteHash: null, writtenVersion: null,
        pendingHash: null, pendingRemoteHash: null, writtenContent: null, state: 'pending_create',
        lastError: null, updatedAt: ctx.now(),
      };
      // Write-ahead: if we die after the PUT, the next listing finds the event and adopts it.
      await ctx.transaction(() => ctx.store.saveLink({ ...base, state: 'pending_create', updatedAt: ctx.now() }));
      let remote: RemoteEvent;
      try {
        remote = await call(() => ctx.provider.create(outgoing(op.event, sequenceOf())));
      } catch (error) {
        if (!(error instanceof RemoteConflictError) || !error.existing) throw error;
        // The id was taken by our own event (an earlier answer was lost): make it match, unless it
        // does already (the lost answer was this very write), which needs no second write.
        const existing = error.existing;
        const wanted = outgoing(op.event, sequenceOf());
        remote = contentHash(existing.content) === contentHash(ctx.provider.expectedContent(wanted))
          ? existing
          : await call(() => ctx.provider.update(existing.id, existing.etag, wanted, existing.content));
      }
      await recordWrite(ctx, base, op.event, remote, op.reason === 'recreate' ? 'recreate' : 'create');
      counts.created += 1;
      return;
    }
    case 'update': {
      const event = outgoing(op.event, sequenceOf());
      await markPending(ctx, op.key, op.event, event);
      try {
        // What the link last saw there is the version op.etag names (listed or written together).
        const remote = await call(() => ctx.provider.update(op.remoteId, op.etag, event, link?.remoteEtag === op.etag ? link.remoteContent : null));
        await recordWrite(ctx, link!, op.event, remote, `update.${op.reason}`);
        counts.updated += 1;
      } catch (error) {
        if (!(error instanceof RemoteConflictError || error instanceof RemoteNotFoundError) || !mayReplan) throw error;
        await replan(op, ctx, counts);
      }
      return;
    }
    case 'delete': {
      try {
        await call(() => ctx.provider.delete(op.remoteId, op.etag));
      } catch (error) {
        if (!(error instanceof RemoteConflictError) || !mayReplan) throw error;
        // Changed since we listed it; it is still ours and its item is gone: delete what is there now.
        const current = await call(() => ctx.provider.get(op.remoteId));
        if (current) await call(() => ctx.provider.delete(current.id, current.etag));
      }
      await ctx.transaction(async () => {
        if (op.reason === 'item deleted') await ctx.store.deleteLink(ctx.account, op.key);
        await ctx.store.journal({ account: ctx.account, key: op.key, itemId: op.itemId, action: `delete.${op.reason === 'duplicate' ? 'duplicate' : 'item'}` }, ctx.now());
      });
      counts.deleted += 1;
      return;
    }
    case 'pull': {
      const updated = await ctx.pull(op.event, op.remote, op.written);
      if (!updated) {
        // The calendar's version does not make a valid item (say, a check-out before the check-in): flag it instead.
        await ctx.transaction(async () => {
          if (link) await ctx.store.saveLink({ ...link, state: 'conflict', lastError: 'the calendar\'s change cannot be taken into the trip; resolve with sync_now resolve=model', updatedAt: ctx.now() });
          await ctx.store.journal({ account: ctx.account, key: op.key, itemId: op.event.itemId, action: 'pull.refused' }, ctx.now());
        });
        counts.conflicts += 1;
        return;
      }
      counts.pulled += 1;
      if (!link?.remoteId) return;
      // The model now has the remote times; write its rendering back where it differs, so both agree.
      const event = outgoing(updated, sequenceOf());
      await markPending(ctx, op.key, updated, event);
      const remote = await call(() => ctx.provider.update(link.remoteId!, link.remoteEtag ?? '', event, link.remoteContent));
      await recordWrite(ctx, link, updated, remote, `pull.${op.reason}`);
      return;
    }
    case 'flag': {
      await ctx.transaction(async () => {
        await ctx.store.saveLink({ ...link!, state: 'conflict', lastError: `changed in the calendar (${op.reason}); resolve with sync_now resolve=model or resolve=remote`, updatedAt: ctx.now() });
        await ctx.store.journal({ account: ctx.account, key: op.key, itemId: link!.itemId, action: `flag.${op.reason}` }, ctx.now());
      });
      counts.conflicts += 1;
      return;
    }
    case 'forget': {
      await ctx.transaction(() => ctx.store.deleteLink(ctx.account, op.key));
      return;
    }
  }
}

/** Write-ahead for an update: what we are about to write, and how it will read back. */
async function markPending(ctx: ApplyContext, key: string, desired: DesiredEvent, event: ReturnType<typeof outgoing>): Promise<void> {
  const pendingRemoteHash = contentHash(ctx.provider.expectedContent(event));
  await ctx.transaction(async () => {
    const link = await ctx.store.link(ctx.account, key);
    if (link) await ctx.store.saveLink({ ...link, pendingHash: desired.hash, pendingRemoteHash, updatedAt: ctx.now() });
  });
}

async function recordWrite(ctx: ApplyContext, link: Link, event: DesiredEvent, remote: RemoteEvent, action: string): Promise<void> {
  const remoteHash = contentHash(remote.content);
  await ctx.transaction(async () => {
    await ctx.store.saveLink({
      ...link, itemId: event.itemId, tripId: event.tripId, remoteId: remote.id, remoteEtag: remote.etag, remoteHash,
      remoteLink: remote.link, remoteContent: remote.content, writtenHash: event.hash, writtenRemoteHash: remoteHash,
      writtenVersion: event.itemVersion, pendingHash: null, pendingRemoteHash: null, writtenContent: remote.content, state: 'synced', lastError: null, updatedAt: ctx.now(),
    });
    await ctx.store.journal({ account: ctx.account, key: event.key, itemId: event.itemId, tripId: event.tripId, action }, ctx.now());
  });
}

/** A precondition failed: read the event again, fold it into the link, and decide once more. */
async function replan(op: Extract<Operation, { kind: 'update' }>, ctx: ApplyContext, counts: SyncCounts): Promise<void> {
  const current = await withRetry(() => ctx.provider.get(op.remoteId), ctx.retry);
  const link = (await ctx.store.link(ctx.account, op.key))!;
  if (!current) {
    await ctx.transaction(() => ctx.store.saveLink({ ...link, state: 'gone', remoteEtag: null, updatedAt: ctx.now() }));
    counts.gone += 1;
    return;
  }
  const remoteHash = contentHash(current.content);
  if (link.pendingRemoteHash && remoteHash === link.pendingRemoteHash) {
    // The 412 hid our own write (its first answer was lost): it is there, record it.
    await recordWrite(ctx, link, op.event, current, `update.${op.reason}`);
    counts.updated += 1;
    return;
  }
  const seen: Link = { ...link, remoteEtag: current.etag, remoteHash, remoteContent: current.content, remoteLink: current.link, updatedAt: ctx.now() };
  await ctx.transaction(() => ctx.store.saveLink(seen));
  // The same decision plan makes, on the link as it is now.
  // An update of a conflicted link is the user's resolve=model: it stands.
  const next = decide(op.event, seen, { policy: ctx.policy, resolve: link.state === 'conflict' ? 'model' : undefined });
  if (next === 'unchanged' || next === 'gone') return;
  await applyOne(next.kind === 'update' ? { ...next, reason: op.reason === 'adopt' ? 'adopt' : next.reason } : next, ctx, counts, false);
}
