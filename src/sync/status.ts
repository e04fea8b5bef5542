// sync_status: per account, what the last run did and what is still to do, in words a user can
// act on. Derived from the links and the model; nothing remote is asked.
import { desiredEvents, type DesiredEvent } from '../events/desired.js';
import { cleanText } from '../model/schemas.js';
import { showTime, type ShownTime } from '../model/time.js';
import type { Store } from '../store/store.js';
import type { Link } from '../store/sync.js';
import type { SyncEngine } from './engine.js';

export interface EventVersion {
  summary: string;
  start: ShownTime;
  end: ShownTime;
  location: string | null;
}

export interface AccountStatus {
  account: string;
  provider: string;
  user: string;
  calendar: string;
  policy: string;
  state: string;
  detail: string | null;
  last_sync_at: string | null;
  last_success_at: string | null;
  synced: number;
  pending: number;
  failed: Array<{ key: string; item_id: string; error: string }>;
  conflicts: Array<{ key: string; item_id: string; model: EventVersion | null; calendar: EventVersion | null }>;
  gone: Array<{ key: string; item_id: string }>;
}

/** Longest summary and location shown: a calendar's version of an event is whatever its editors typed. */
const MAX_SUMMARY = 300;
const MAX_LOCATION = 500;

function version(e: { summary: string; start: { utc: string; zone: string }; end: { utc: string; zone: string }; location: string | null } | null | undefined): EventVersion | null {
  if (!e) return null;
  return {
    summary: cleanText(e.summary).slice(0, MAX_SUMMARY), start: showTime(e.start.utc, e.start.zone), end: showTime(e.end.utc, e.end.zone),
    location: e.location === null ? null : cleanText(e.location).slice(0, MAX_LOCATION),
  };
}

/** Desired events not yet written as they are now, plus links whose item is gone. */
function pendingCount(desired: Map<string, DesiredEvent>, links: Link[]): number {
  const byKey = new Map(links.map((l) => [l.key, l]));
  let pending = 0;
  for (const d of desired.values()) {
    const l = byKey.get(d.key);
    if (!l || (l.state !== 'gone' && l.state !== 'conflict' && (l.state !== 'synced' || l.writtenHash !== d.hash))) pending += 1;
  }
  for (const l of links) if (!desired.has(l.key) && l.state !== 'gone') pending += 1;
  return pending;
}

export async function syncStatus(store: Store, engine: SyncEngine): Promise<AccountStatus[]> {
  const statuses: AccountStatus[] = [];
  for (const account of await engine.accounts()) {
    const row = await engine.links.account(account.name);
    const links = await engine.links.links(account.name);
    const desired = new Map(desiredEvents(await store.userItems(account.user)).map((d) => [d.key, d]));
    statuses.push({
      account: account.name,
      provider: account.provider,
      user: account.user,
      calendar: account.calendar,
      policy: account.policy,
      state: row?.status ?? 'never synced',
      detail: row?.statusDetail ?? null,
      last_sync_at: row?.lastSyncAt ?? null,
      last_success_at: row?.lastSuccessAt ?? null,
      synced: links.filter((l) => l.state === 'synced' && desired.get(l.key)?.hash === l.writtenHash).length,
      pending: pendingCount(desired, links),
      failed: links.filter((l) => l.lastError && l.state !== 'conflict').map((l) => ({ key: l.key, item_id: l.itemId, error: l.lastError! })),
      conflicts: links.filter((l) => l.state === 'conflict').map((l) => ({
        key: l.key, item_id: l.itemId, model: version(desired.get(l.key)), calendar: version(l.remoteContent),
      })),
      gone: links.filter((l) => l.state === 'gone').map((l) => ({ key: l.key, item_id: l.itemId })),
    });
  }
  return statuses;
}
