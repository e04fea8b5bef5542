// Keeps each user's .ics feed file in step with the model. Changes are coalesced for a few
// milliseconds so a burst of tool calls rewrites the file once; `flush` writes what is due at
// once (on shutdown), and `publishAll` rewrites every feed at start-up, so a feed is never left
// stale by a crash.
import { feedPath, writeFeed } from '../../providers/icsfeed/file.js';
import { calendarText } from '../ics/export.js';
import { log } from '../log.js';
import type { Store } from '../store/store.js';

export const FEED_DELAY_MS = 50;

export class FeedPublisher {
  private due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

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
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const users = [...this.due];
    this.due.clear();
    for (const userId of users) this.publish(userId);
  }

  publish(userId: string): void {
    try {
      const text = calendarText({ name: `Trips (${userId})`, items: this.store.listUserItems(userId) });
      writeFeed(this.dataDir, userId, text);
    } catch (error) {
      // A feed that cannot be written must not fail the edit that triggered it; the next change or start retries.
      log.error('feed write failed', { user: userId, error: (error as Error).message });
    }
  }

  publishAll(): void {
    for (const user of this.store.listUsers()) this.publish(user.id);
  }
}
