// An account whose `calendar:` changed: its events leave the old calendar (deleted there, by the
// links that name them) and are made again in the new one by the next plan, so a trip is never
// split across two calendars nor left twice.
import type { CalendarProvider } from '../../providers/types.js';
import { RemoteConflictError, RemoteNotFoundError } from '../../providers/types.js';
import type { Link } from '../store/sync.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface Left {
  deleted: number;
  /** What kept some events in the old calendar, or null when none were kept. */
  problem: string | null;
}

/** Deletes the linked events from the old calendar's provider; each failure is counted, never thrown. */
export async function leaveCalendar(old: () => Promise<CalendarProvider>, links: Link[], retry: RetryOptions): Promise<Left> {
  const ours = links.filter((l) => l.remoteId && l.state !== 'gone');
  if (ours.length === 0) return { deleted: 0, problem: null };
  let provider: CalendarProvider;
  try {
    provider = await old();
  } catch (error) {
    return { deleted: 0, problem: `the old calendar could not be opened (${(error as Error).message}); its ${ours.length} event(s) of ours are still there` };
  }
  let deleted = 0;
  let kept = 0;
  let reason = '';
  for (const link of ours) {
    try {
      try {
        await withRetry(() => provider.delete(link.remoteId!, link.remoteEtag ?? ''), retry);
      } catch (error) {
        // Edited there since our last look: still ours, so it goes all the same.
        if (!(error instanceof RemoteConflictError)) throw error;
        const now = await withRetry(() => provider.get(link.remoteId!), retry);
        if (now) await withRetry(() => provider.delete(now.id, now.etag), retry);
      }
      deleted += 1;
    } catch (error) {
      if (error instanceof RemoteNotFoundError) continue;
      kept += 1;
      reason = (error as Error).message;
    }
  }
  await provider.close().catch(() => undefined);
  return { deleted, problem: kept ? `${kept} event(s) of ours could not be deleted from the old calendar (${reason}); delete them there by hand` : null };
}
