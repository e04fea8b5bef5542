// Opens everything a command needs: configuration, the store, the trips service and the feed
// publisher. Commands and servers receive an App and close it when done.
import { pathToFileURL } from 'node:url';
import { loadConfig, type ConfigOptions } from './config/load.js';
import type { Config } from './config/schema.js';
import { FeedPublisher } from './feeds/publisher.js';
import { setLogLevel } from './log.js';
import { Store } from './store/store.js';
import { Trips } from './trips/service.js';

export interface App {
  config: Config;
  configPath: string | null;
  dataDir: string;
  store: Store;
  trips: Trips;
  feeds: FeedPublisher;
  /** Where a user's events can be seen now: their .ics feed. */
  calendarLink(userId: string): string;
  /** Flushes due feeds, then closes the database. */
  close(): Promise<void>;
}

export function openApp(options: ConfigOptions = {}): App {
  const { config, path, dataDir } = loadConfig(options);
  if (!process.env.TRIPCAL_LOG_LEVEL) setLogLevel(config.log_level);
  const store = Store.open(dataDir);
  const trips = new Trips(store, config);
  const feeds = new FeedPublisher(store, dataDir);
  trips.onChange((userId) => feeds.schedule(userId));
  let closed = false;
  return {
    config,
    configPath: path,
    dataDir,
    store,
    trips,
    feeds,
    calendarLink: (userId) => pathToFileURL(feeds.path(userId)).href,
    async close() {
      if (closed) return;
      closed = true;
      await feeds.flush();
      store.close();
    },
  };
}
