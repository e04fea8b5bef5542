// Push versus polling (issue #22): Google requests per account per day, measured on the loopback
// fake with the real daemon, a day compressed. Prints numbers only.
//  - polling: sync.schedule every 15 minutes (96 runs a day), each a listing whether or not
//    anything changed, plus what each change costs; measured with runs of the engine
//  - push: the daemon with a channel; each remote change → a notification → one run (and the
//    echo of our own writes, if any); the safety-net poll every push.poll_hours; a channel made
//    and stopped once a week. Measured: the requests the fake saw for the changes and the channel
//  - the quota model of README "Push instead of polling": 100,000 users on one Google project
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp } from '../dist/src/app.js';
import { startDaemon } from '../dist/src/daemon/daemon.js';
import { loadFake } from './google.js';
import { freePort, seedActivities, tmp } from './servers.js';

const PUBLIC = 'https://tripcal.bench';
const CHANGES_PER_DAY = 10;
const POLL_MINUTES = 15;
const SAFETY_POLL_HOURS = 6;
const CHANNEL_DAYS = 7;
const USERS = 100_000;
const PROJECT_PER_MINUTE = 10_000;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const api = (fake) => fake.requests.filter((r) => !r.path.startsWith('/token')).length;

async function setup(fake, push) {
  const dir = tmp();
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'log_level: error',
    'google:', `  client_id: ${fake.clientId}`, `  client_secret: ${fake.clientSecret}`, `  token_url: ${fake.tokenUrl}`, `  api_root: ${fake.url}/`,
    'accounts:', '  - name: bench', '    provider: google', '    calendar: primary', '    policy: remote_wins',
    'sync:', '  schedule: "0 0 1 1 *"', '  on_edit: false',
    'http:', `  listen: 127.0.0.1:${port}`, '  token: bench-token-0123456789abcdef', `  public_url: ${PUBLIC}`,
    'push:', `  enabled: ${push}`, '  coalesce_seconds: 0.2', '',
  ].join('\n'));
  const app = await openApp({ dataDir: dir, configPath: config });
  await app.vault.set('google:bench:tokens', JSON.stringify(fake.issueTokens()));
  const { ids } = await seedActivities(app, 20);
  await app.sync.sync();
  await app.close();
  fake.reach = (address) => address.replace(PUBLIC, `http://127.0.0.1:${port}`);
  return { dir, config, ids };
}

/** A remote change as the user makes it: one of our events moved by an hour. */
function change(fake, i) {
  const ours = fake.liveEvents().filter((e) => e.extendedProperties?.private?.tripcal === '1');
  const event = ours[i % ours.length];
  const start = new Date(Date.parse(event.start.dateTime) + 3_600_000).toISOString();
  const end = new Date(Date.parse(event.end.dateTime) + 3_600_000).toISOString();
  fake.editAsUser(event.id, { start: { dateTime: start, timeZone: 'UTC' }, end: { dateTime: end, timeZone: 'UTC' } });
}

async function polling(fake) {
  const { dir, config } = await setup(fake, false);
  const app = await openApp({ dataDir: dir, configPath: config });
  try {
    let before = api(fake);
    await app.sync.sync();
    const idle = api(fake) - before;
    before = api(fake);
    for (let i = 0; i < CHANGES_PER_DAY; i++) {
      change(fake, i);
      await app.sync.sync();
    }
    const withChange = (api(fake) - before) / CHANGES_PER_DAY;
    const runs = (24 * 60) / POLL_MINUTES;
    // Each change is found by one of the day's runs: that run costs withChange instead of idle.
    const perDay = runs * idle + CHANGES_PER_DAY * (withChange - idle);
    return { idle_run: idle, run_with_a_change: withChange, runs_per_day: runs, per_day: perDay };
  } finally {
    await app.close();
  }
}

async function push(fake) {
  const { dir, config } = await setup(fake, true);
  const before = api(fake);
  const daemon = await startDaemon({ dataDir: dir, configPath: config });
  try {
    for (let i = 0; i < 100 && !fake.liveChannels().length; i++) await pause(50);
    await fake.notificationsSettled();
    await pause(300);
    const atStart = api(fake) - before;
    const channel = fake.requests.filter((r) => /\/events\/watch$/.test(r.path)).length;
    const changesFrom = api(fake);
    for (let i = 0; i < CHANGES_PER_DAY; i++) {
      change(fake, i);
      await fake.notificationsSettled();
      // Changes spread over the day: each one's run is over before the next.
      await pause(600);
    }
    const perChange = (api(fake) - changesFrom) / CHANGES_PER_DAY;
    const app = await openApp({ dataDir: dir, configPath: config });
    const idleFrom = api(fake);
    await app.sync.sync();
    const idle = api(fake) - idleFrom;
    await app.close();
    // watch + channels.stop once per channel lifetime; the safety net polls.
    const renewals = 2 / CHANNEL_DAYS;
    const perDay = (24 / SAFETY_POLL_HOURS) * idle + CHANGES_PER_DAY * perChange + renewals;
    return { requests_at_start: atStart, watch_requests: channel, per_change: perChange, safety_polls_per_day: 24 / SAFETY_POLL_HOURS, per_day: Math.round(perDay * 100) / 100 };
  } finally {
    await daemon.stop('bench over');
  }
}

export async function pushBench() {
  const { startGoogleFake } = await loadFake();
  const fake = await startGoogleFake();
  fake.quota = null;
  try {
    const poll = await polling(fake);
    fake.calendar().events.clear();
    const pushed = await push(fake);
    const perMinute = (perDay) => Math.round((USERS * perDay) / 1440);
    return {
      changes_per_day: CHANGES_PER_DAY,
      polling: poll,
      push: pushed,
      [`${USERS}_users_per_minute`]: {
        polling: perMinute(poll.per_day), push: perMinute(pushed.per_day), project_quota: PROJECT_PER_MINUTE,
        // Every account polled in the same 15-minute slot, spread evenly (sync.jitter_seconds of 30 s spreads far less).
        polling_share_of_project_quota: Math.round((perMinute(poll.per_day) / PROJECT_PER_MINUTE) * 100) / 100,
        push_share_of_project_quota: Math.round((perMinute(pushed.per_day) / PROJECT_PER_MINUTE) * 100) / 100,
      },
    };
  } finally {
    await fake.stop();
  }
}

export { seedActivities };
