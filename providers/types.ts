// The provider contract: what tripcal needs from a remote calendar, and nothing of trips.
//
// Terms (after vdirsyncer's storage/base.py):
//   EVENT    one calendar event as we manage it: summary, description, location, start and end
//            (an instant plus the IANA zone it is shown in), all-day flag, reminders, busy or free.
//   KEY      our stable name for a desired event, `<item id>:<role>`. Every event we own carries
//            it as a marker (CalDAV: X-TRIPCAL-KEY; Google: extendedProperties.private; Graph: a
//            single-value extended property). Events without our marker are never touched.
//   ID       the provider's name for a stored event (a CalDAV href, a Google event id). Derived
//            from the key wherever the provider lets the client choose, so a create repeated
//            after a lost response can never make a second event.
//   ETAG     the provider's version of a stored event; updates and deletes are conditional on it.
//   CURSOR   where the last listing ended (CalDAV sync-token, Google syncToken, Graph deltaLink);
//            the next listing returns only what changed since.

export type { EventContent, EventTime, OutgoingEvent, Reminder } from '../core/ical/event.js';
import type { EventContent, OutgoingEvent } from '../core/ical/event.js';
import { TripcalError } from '../core/errors.js';

/** A stored event we own, as listed or read back. */
export interface RemoteEvent {
  id: string;
  etag: string;
  key: string;
  content: EventContent;
  /** A link a person can open, where the provider has one. */
  link: string | null;
}

export interface Listing {
  /** Our events that are new or changed since the cursor (all of them on a full listing). */
  changed: RemoteEvent[];
  /** Ids whose etag matched what the caller already knew: there, unchanged, not read again. */
  unchanged: string[];
  /** Ids of stored events removed since the cursor (always empty on a full listing). */
  removed: string[];
  /** True when this is every event we own, so anything missing from it is gone. */
  full: boolean;
  cursor: string | null;
  /** HTTP requests this listing took, for the benchmarks and sync_status. */
  requests: number;
}

export interface CalendarInfo {
  id: string;
  name: string;
  /** Whether tripcal can write to it. */
  writable: boolean;
  /** The calendar this account syncs to. */
  selected: boolean;
  /** The provider's own word for what the account may do there (Google: owner, writer, reader, freeBusyReader). */
  accessRole?: string;
  /** The account's main calendar. */
  primary?: boolean;
}

export interface BusyInterval {
  start: string;
  end: string;
  /** Which of the account's calendars it is from, where there are several. */
  calendar?: string;
}

/**
 * Where a provider's change notifications go, and for how long (push instead of polling). The
 * token is a secret the notifications carry back (Google's channel token, Graph's clientState).
 */
export interface WatchTarget {
  /** The channel id to use, where the provider lets the client choose it (Google); else the provider names it. */
  id?: string;
  address: string;
  /** Graph's lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed). */
  lifecycleAddress?: string;
  token: string;
  ttlSeconds: number;
}

/** A live notification channel (Google) or subscription (Graph), as the provider gave it. */
export interface PushChannel {
  channelId: string;
  /** Google's resourceId (channels/stop needs it); Graph has none. */
  resourceId: string | null;
  /** ISO 8601, UTC. */
  expiresAt: string;
}

export interface CalendarProvider {
  /** How many writes may be in flight at once (a provider that batches wants many); else sync.concurrency. */
  readonly writeConcurrency?: number;
  /**
   * Finds (or creates) the configured calendar now, checking the credentials. Every other call
   * connects first by itself where it must, so callers need not call this.
   */
  connect(): Promise<void>;
  /**
   * Our events since `cursor`; a full listing when the cursor is null or no longer valid. Events
   * whose etag equals `knownEtag(id)` are reported in `unchanged` without being read.
   */
  list(cursor: string | null, knownEtag?: (id: string) => string | undefined): Promise<Listing>;
  get(id: string): Promise<RemoteEvent | null>;
  /** Creates the event under the id derived from its key; an existing one there is a RemoteConflictError. */
  create(event: OutgoingEvent): Promise<RemoteEvent>;
  /**
   * Rewrites the event, if its etag still matches. `current` is its content at that etag (as last
   * listed or written) when the caller knows it: a provider that can change single fields sends
   * only those that differ, so what else is set on the event stays as it is.
   */
  update(id: string, etag: string, event: OutgoingEvent, current?: EventContent | null): Promise<RemoteEvent>;
  /** The content this event will read back as once written (what `list` and `get` will report). */
  expectedContent(event: OutgoingEvent): EventContent;
  delete(id: string, etag: string): Promise<void>;
  /** Busy time in [from, to) from the calendar's events that are not ours, merged and sorted. */
  freeBusy(from: string, to: string): Promise<BusyInterval[]>;
  listCalendars(): Promise<CalendarInfo[]>;
  /**
   * Optional: asks the provider to notify `target.address` of changes to the calendar. Providers
   * without push (CalDAV) leave it out and are polled only.
   */
  watch?(target: WatchTarget): Promise<PushChannel>;
  /** Optional: extends a channel in place (Graph's PATCH); without it a new channel replaces the old. */
  renewWatch?(channel: PushChannel, ttlSeconds: number): Promise<PushChannel>;
  /** Optional: ends a channel; one already gone is no error. */
  unwatch?(channel: PushChannel): Promise<void>;
  /** HTTP requests made so far. */
  requestCount(): number;
  close(): Promise<void>;
}

// Errors: every provider maps its failures to these, so sync decides without knowing the API.

/** What a remote calendar answered, as a branch of tripcal's one error hierarchy. */
export class ProviderError extends TripcalError {
  constructor(message: string, readonly status?: number) {
    super('provider', message);
    this.name = new.target.name;
  }
}
/** The event (or calendar) is not there. */
export class RemoteNotFoundError extends ProviderError {}
/** A precondition failed: the etag is stale, or the id is already taken (then `existing` is what is there). */
export class RemoteConflictError extends ProviderError {
  constructor(message: string, status?: number, readonly existing?: RemoteEvent) {
    super(message, status);
  }
}
/** Slow down; try again after `retryAfterMs` when the provider said so. */
export class RateLimitedError extends ProviderError {
  constructor(message: string, readonly retryAfterMs: number | null, status?: number) {
    super(message, status);
  }
}
/** Credentials were refused; a person must act (new password, re-authorise). */
export class AuthExpiredError extends ProviderError {}
/** The provider refused what we sent; retrying the same will not help. */
export class InvalidError extends ProviderError {}
/** A network failure or a server error; retrying later may help. */
export class TransientError extends ProviderError {}

export function isRetryable(error: unknown): error is RateLimitedError | TransientError {
  return error instanceof RateLimitedError || error instanceof TransientError;
}
