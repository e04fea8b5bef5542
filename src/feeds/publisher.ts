// Keeps each user's .ics feed file in step with the model. Changes are coalesced for a moment so
// a burst of tool calls rewrites the file once; rendering reuses each unchanged item's cached
// text, and the file is written off the event loop. `flush` writes what is due (on shutdown);
// `publishAll` rewrites every feed at start-up, so a crash never leaves a feed stale.
import { feedPath, writeFeed } from '../../providers/icsfeed/file.js';
import { scopeOf, writeCalendar } from '../ics/export.js';
import { log } from '../log.js';
import type { Store } from '../store/store.js';

export const FEED_DELAY_MS = 50;

export class FeedPublisher {
  private due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

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
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  /** Writes every due feed; resolves when they, and any write already under way, are on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const users = [...this.due];
    this.due.clear();
    // Writes are chained so two rewrites of one feed never race each other's rename.
    this.writing = this.writing.then(() => Promise.all(users.map((u) => this.publish(u)))).then(() => undefined);
    return this.writing;
  }

  private async publish(userId: string): Promise<void> {
    try {
      const parts: string[] = [];
      const scope = scopeOf(this.store.userItemZones(userId));
      writeCalendar(`Trips (${userId})`, scope, this.store.userItems(userId), (text) => parts.push(text), { cache: true });
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
