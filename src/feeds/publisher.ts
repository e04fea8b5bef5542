// Keeps each user's .ics feed file in step with the model. Changes are coalesced for a moment so
// a burst of tool calls rewrites the file once; rendering reuses each unchanged item's cached
// text, and the file is written off the event loop. `flush` writes what is due (on shutdown);
// `publishAll` rewrites every feed at start-up, so a crash never leaves a feed stale.
import { feedPath, writeFeed } from '../../providers/icsfeed/file.js';
import { RenderCache, scopeOf, writeCalendar } from '../ics/export.js';
import { log } from '../log.js';
import type { Store } from '../store/store.js';

export const FEED_DELAY_MS = 50;
/**
 * Rendering a feed blocks the event loop; under a stream of changes, feeds are rewritten at most
 * this many render-times apart, so a server spends no more than 1 % of its time on them (a feed
 * of a few hundred events still follows within FEED_DELAY_MS; one of 10,000 within about a second).
 */
const MAX_SHARE = 100;

export class FeedPublisher {
  private due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private renderMs = 0;
  private lastFlush = 0;
  private readonly caches = new Map<string, RenderCache>();

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly delayMs = FEED_DELAY_MS,
  ) {}

  path(userId: string): string {
    return feedPath(this.dataDir, userId);
  }

  schedule(userId: string): void {
    this.due.add(userId);
    if (!this.timer) {
      const wait = Math.max(this.delayMs, this.lastFlush + this.renderMs * MAX_SHARE - performance.now());
      this.timer = setTimeout(() => void this.flush(), wait);
      this.timer.unref();
    }
  }

  /** Writes every due feed; resolves when they, and any write already under way, are on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlush = performance.now();
    const users = [...this.due];
    this.due.clear();
    // Writes are chained so two rewrites of one feed never race each other's rename.
    this.writing = this.writing.then(() => Promise.all(users.map((u) => this.publish(u)))).then(() => undefined);
    return this.writing;
  }

  private async publish(userId: string): Promise<void> {
    const started = performance.now();
    try {
      const parts: string[] = [];
      let cache = this.caches.get(userId);
      if (!cache) this.caches.set(userId, (cache = new RenderCache()));
      const scope = scopeOf(this.store.userItemZones(userId));
      // Unchanged items are found by reference in the render cache; only changed ones are read in full.
      writeCalendar(`Trips (${userId})`, scope, this.store.userItemRefs(userId), (text) => parts.push(text), {
        cache,
        load: (id) => this.store.getItem(id),
      });
      this.renderMs = performance.now() - started;
      await writeFeed(this.dataDir, userId, parts.join(''));
    } catch (error) {
      // A feed that cannot be written must not fail the edit that caused it; the next change or start retries.
      log.error('feed write failed', { user: userId, error: (error as Error).message });
    }
  }

  publishAll(): Promise<void> {
    for (const user of this.store.listUsers()) this.due.add(user.id);
    return this.flush();
  }
}
