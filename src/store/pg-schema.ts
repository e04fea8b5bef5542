// The PostgreSQL schema, numbered like the SQLite migrations (migrations.ts) so one version means
// one schema on both. A fresh PostgreSQL database starts at 10, the first version that knew
// PostgreSQL: entry 10 is everything SQLite's migrations 1–10 leave, in one piece. A later
// migration is added to both lists under the same number. Never edit a released entry.
//
// The types are SQLite's, not PostgreSQL's richer ones, so every query of the store means the same
// on both: instants stay text (`YYYY-MM-DDTHH:MM:SSZ`, so text order is time order), JSON stays
// text, flags stay integer 0/1.

export const PG_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 10,
    sql: `
  CREATE TABLE users (
    id          text PRIMARY KEY,
    timezone    text NOT NULL,
    created_at  text NOT NULL
  );
  CREATE TABLE trips (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users(id),
    title       text NOT NULL,
    timezone    text,
    notes       text,
    start_date  text,
    end_date    text,
    start_utc   text,
    end_utc     text,
    version     integer NOT NULL DEFAULT 1,
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    deleted_at  text
  );
  CREATE INDEX trips_by_user ON trips(user_id, deleted_at, start_utc);
  CREATE TABLE items (
    id                  text PRIMARY KEY,
    trip_id             text NOT NULL REFERENCES trips(id),
    user_id             text NOT NULL REFERENCES users(id),
    kind                text NOT NULL CHECK (kind IN ('flight', 'stay', 'activity', 'transfer')),
    data                text NOT NULL,
    start_utc           text NOT NULL,
    end_utc             text NOT NULL,
    start_tz            text NOT NULL,
    end_tz              text NOT NULL,
    all_day             integer NOT NULL DEFAULT 0,
    remind_before_hours double precision NOT NULL,
    confirmation_code   text,
    source_uid          text,
    version             integer NOT NULL DEFAULT 1,
    created_at          text NOT NULL,
    updated_at          text NOT NULL,
    deleted_at          text
  );
  CREATE INDEX items_by_trip ON items(trip_id, deleted_at, start_utc);
  CREATE UNIQUE INDEX items_by_source ON items(user_id, source_uid) WHERE source_uid IS NOT NULL AND deleted_at IS NULL;
  CREATE INDEX items_by_user_kind ON items(user_id, kind, start_utc);
  -- SQLite's COLLATE NOCASE: the store matches a code with lower(confirmation_code) = lower(?).
  CREATE INDEX items_by_confirmation ON items(user_id, lower(confirmation_code));
  CREATE TABLE journal (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          text NOT NULL,
    user_id     text,
    trip_id     text,
    item_id     text,
    action      text NOT NULL,
    detail      text,
    account     text,
    event_key   text
  );
  CREATE TABLE accounts (
    name            text PRIMARY KEY,
    user_id         text NOT NULL,
    provider        text NOT NULL,
    cursor          text,
    status          text NOT NULL DEFAULT 'never synced',
    status_detail   text,
    last_sync_at    text,
    last_success_at text,
    created_at      text NOT NULL,
    connected       text,
    calendar        text
  );
  CREATE TABLE links (
    account             text NOT NULL REFERENCES accounts(name),
    key                 text NOT NULL,
    item_id             text NOT NULL,
    trip_id             text NOT NULL,
    remote_id           text,
    remote_etag         text,
    remote_hash         text,
    remote_link         text,
    remote_content      text,
    written_hash        text,
    written_remote_hash text,
    state               text NOT NULL,
    last_error          text,
    updated_at          text NOT NULL,
    written_version     integer,
    pending_hash        text,
    pending_remote_hash text,
    written_content     text,
    PRIMARY KEY (account, key)
  );
  CREATE INDEX links_by_remote ON links(account, remote_id);
  CREATE INDEX links_by_item ON links(item_id);
  CREATE TABLE secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  text NOT NULL
  );
  CREATE TABLE oauth_states (
    state_hash   text PRIMARY KEY,
    user_id      text NOT NULL,
    provider     text NOT NULL,
    account      text NOT NULL,
    calendar     text NOT NULL,
    redirect_uri text NOT NULL,
    verifier     text NOT NULL,
    created_at   text NOT NULL,
    expires_at   text NOT NULL,
    used_at      text
  );
  CREATE TABLE user_passwords (
    user_id     text PRIMARY KEY,
    hash        text NOT NULL,
    updated_at  text NOT NULL
  );
  CREATE TABLE oauth_clients (
    client_id   text PRIMARY KEY,
    metadata    text NOT NULL,
    created_at  text NOT NULL
  );
  CREATE TABLE oauth_codes (
    code_hash      text PRIMARY KEY,
    client_id      text NOT NULL,
    user_id        text NOT NULL,
    redirect_uri   text NOT NULL,
    code_challenge text NOT NULL,
    scope          text NOT NULL,
    resource       text NOT NULL,
    family         text NOT NULL,
    created_at     text NOT NULL,
    expires_at     text NOT NULL,
    used_at        text
  );
  CREATE TABLE oauth_refresh_tokens (
    token_hash  text PRIMARY KEY,
    family      text NOT NULL,
    client_id   text NOT NULL,
    user_id     text NOT NULL,
    scope       text NOT NULL,
    resource    text NOT NULL,
    created_at  text NOT NULL,
    expires_at  text NOT NULL,
    rotated_at  text,
    revoked_at  text
  );
  CREATE INDEX oauth_refresh_by_family ON oauth_refresh_tokens(family);
  CREATE TABLE sign_in_failures (
    user_id     text NOT NULL,
    at          text NOT NULL
  );
  CREATE INDEX sign_in_failures_by_user ON sign_in_failures(user_id, at);
  `,
  },
  {
    version: 11,
    sql: `
  CREATE TABLE push_channels (
    channel_id   text PRIMARY KEY,
    account      text NOT NULL,
    provider     text NOT NULL,
    resource_id  text,
    secret_hash  text NOT NULL,
    address      text NOT NULL,
    expires_at   text NOT NULL,
    created_at   text NOT NULL,
    confirmed_at text
  );
  CREATE INDEX push_channels_by_account ON push_channels(account, expires_at);
  CREATE TABLE request_spend (
    budget  text NOT NULL,
    at_ms   bigint NOT NULL,
    cost    integer NOT NULL
  );
  CREATE INDEX request_spend_by_budget ON request_spend(budget, at_ms);
  CREATE TABLE request_slots (
    budget    text NOT NULL,
    slot      integer NOT NULL,
    holder    text,
    until_ms  bigint,
    PRIMARY KEY (budget, slot)
  );
  `,
  },
];
