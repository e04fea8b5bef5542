// Numbered schema migrations, applied in order at start-up. The database's `user_version` is the
// number of the last one applied. Never edit a released migration: add the next one. They run
// with foreign keys off, and are checked in full before they commit (store/database.ts), so a
// migration may rebuild a table the way SQLite says to: make the new one, copy, drop the old,
// rename the new into place.

export const MIGRATIONS: readonly string[] = [
  // 1: users, trips, items, the journal
  `
  CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    timezone    TEXT NOT NULL,
    feed_token  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
  );
  CREATE TABLE trips (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    title       TEXT NOT NULL,
    timezone    TEXT,
    notes       TEXT,
    start_date  TEXT,
    end_date    TEXT,
    start_utc   TEXT,
    end_utc     TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
  );
  CREATE INDEX trips_by_user ON trips(user_id, deleted_at, start_utc);
  CREATE TABLE items (
    id                  TEXT PRIMARY KEY,
    trip_id             TEXT NOT NULL REFERENCES trips(id),
    user_id             TEXT NOT NULL REFERENCES users(id),
    kind                TEXT NOT NULL CHECK (kind IN ('flight', 'stay', 'activity', 'transfer')),
    data                TEXT NOT NULL,
    start_utc           TEXT NOT NULL,
    end_utc             TEXT NOT NULL,
    start_tz            TEXT NOT NULL,
    end_tz              TEXT NOT NULL,
    all_day             INTEGER NOT NULL DEFAULT 0,
    remind_before_hours REAL NOT NULL,
    confirmation_code   TEXT,
    source_uid          TEXT,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT
  );
  CREATE INDEX items_by_trip ON items(trip_id, deleted_at, start_utc);
  CREATE UNIQUE INDEX items_by_source ON items(user_id, source_uid) WHERE source_uid IS NOT NULL AND deleted_at IS NULL;
  CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    user_id     TEXT,
    trip_id     TEXT,
    item_id     TEXT,
    action      TEXT NOT NULL,
    detail      TEXT
  );
  `,
  // 2: calendar accounts, links between desired events and remote events, journal of sync outcomes
  `
  CREATE TABLE accounts (
    name            TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    provider        TEXT NOT NULL,
    cursor          TEXT,
    status          TEXT NOT NULL DEFAULT 'never synced',
    status_detail   TEXT,
    last_sync_at    TEXT,
    last_success_at TEXT,
    created_at      TEXT NOT NULL
  );
  CREATE TABLE links (
    account             TEXT NOT NULL REFERENCES accounts(name),
    key                 TEXT NOT NULL,
    item_id             TEXT NOT NULL,
    trip_id             TEXT NOT NULL,
    remote_id           TEXT,
    remote_etag         TEXT,
    remote_hash         TEXT,
    remote_link         TEXT,
    remote_content      TEXT,
    written_hash        TEXT,
    written_remote_hash TEXT,
    state               TEXT NOT NULL,
    last_error          TEXT,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (account, key)
  );
  CREATE INDEX links_by_remote ON links(account, remote_id);
  CREATE INDEX links_by_item ON links(item_id);
  ALTER TABLE journal ADD COLUMN account TEXT;
  ALTER TABLE journal ADD COLUMN event_key TEXT;
  `,
  // 3: the vault's encrypted secrets
  `
  CREATE TABLE secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  `,
  // 4: the item version each link last wrote; an update in flight (write-ahead)
  `
  ALTER TABLE links ADD COLUMN written_version INTEGER;
  ALTER TABLE links ADD COLUMN pending_hash TEXT;
  ALTER TABLE links ADD COLUMN pending_remote_hash TEXT;
  ALTER TABLE links ADD COLUMN written_content TEXT;
  `,
  // 5: OAuth states (single-use, expiring, PKCE verifier sealed by the vault); accounts connected
  //    through authorize_calendar rather than the config file keep their settings here
  `
  CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    calendar     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
  );
  ALTER TABLE accounts ADD COLUMN connected TEXT;
  `,
  // 6: CalDAV events are known by their path on the server, not the whole URL (so reaching the
  //    same server under another address keeps every link)
  `
  UPDATE links SET remote_id = substr(remote_id, instr(substr(remote_id, 9), '/') + 8)
    WHERE remote_id LIKE 'http%://%/%' AND account IN (SELECT name FROM accounts WHERE provider = 'caldav');
  `,
  // 7: an item added is compared with the user's items like it (same flight near its date, same
  //    confirmation code) by index, not by reading every item the user has
  `
  CREATE INDEX IF NOT EXISTS items_by_user_kind ON items(user_id, kind, start_utc);
  CREATE INDEX IF NOT EXISTS items_by_confirmation ON items(user_id, confirmation_code COLLATE NOCASE);
  `,
  // 8: the calendar an account's links are in, so a changed `calendar:` moves the events there
  //    instead of leaving them behind (NULL: not known yet, taken as the configured one)
  `
  ALTER TABLE accounts ADD COLUMN calendar TEXT;
  `,
  // 9: users.feed_token goes: nothing read it (each user's .ics feed has its own token in the
  //    vault). A UNIQUE column cannot be dropped, so the table is rebuilt; trips and items keep
  //    referring to users(id). Run again on a table without the column, it changes nothing.
  `
  CREATE TABLE users_new (
    id          TEXT PRIMARY KEY,
    timezone    TEXT NOT NULL,
    created_at  TEXT NOT NULL
  );
  INSERT INTO users_new (id, timezone, created_at) SELECT id, timezone, created_at FROM users;
  DROP TABLE users;
  ALTER TABLE users_new RENAME TO users;
  `,
  // 10: the built-in authorization server (MCP authorization for self-hosters): each user's
  //     password as a slow hash, registered clients (RFC 7591), authorization codes and refresh
  //     tokens by their SHA-256 only (single use, expiring; a refresh token's family is revoked
  //     when a rotated one comes back), and failed sign-ins (rate limit per user name). Run again,
  //     it changes nothing
  `
  CREATE TABLE IF NOT EXISTS user_passwords (
    user_id     TEXT PRIMARY KEY,
    hash        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id   TEXT PRIMARY KEY,
    metadata    TEXT NOT NULL,
    created_at  TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope          TEXT NOT NULL,
    resource       TEXT NOT NULL,
    family         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
  );
  CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family      TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    resource    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    rotated_at  TEXT,
    revoked_at  TEXT
  );
  CREATE INDEX IF NOT EXISTS oauth_refresh_by_family ON oauth_refresh_tokens(family);
  CREATE TABLE IF NOT EXISTS sign_in_failures (
    user_id     TEXT NOT NULL,
    at          TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sign_in_failures_by_user ON sign_in_failures(user_id, at);
  `,
  // 11: what several replicas share besides the trips: the push channels that tell of remote
  //     changes (a Google watch channel or a Microsoft Graph subscription per account: its id,
  //     the SHA-256 of the secret each notification carries, where it is delivered, when it
  //     expires, when it was first heard from — until then it is not counted as live; two may
  //     overlap while one is renewed), and the providers' request budgets —
  //     the requests spent per Google user (a log, for the per-minute sliding window) and the
  //     leased slots of Graph's concurrent requests per mailbox. Run again, it changes nothing
  `
  CREATE TABLE IF NOT EXISTS push_channels (
    channel_id   TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    resource_id  TEXT,
    secret_hash  TEXT NOT NULL,
    address      TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    confirmed_at TEXT
  );
  CREATE INDEX IF NOT EXISTS push_channels_by_account ON push_channels(account, expires_at);
  CREATE TABLE IF NOT EXISTS request_spend (
    budget  TEXT NOT NULL,
    at_ms   BIGINT NOT NULL,
    cost    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS request_spend_by_budget ON request_spend(budget, at_ms);
  CREATE TABLE IF NOT EXISTS request_slots (
    budget    TEXT NOT NULL,
    slot      INTEGER NOT NULL,
    holder    TEXT,
    until_ms  BIGINT,
    PRIMARY KEY (budget, slot)
  );
  `,
];
