// What the CalDAV provider keeps between runs in the account's cursor: the calendar's URL (so a
// new process need not discover it again) and the RFC 6578 sync token. Both belong to the
// configured server URL and calendar name they were found for: a change of either discovers again.

export interface SavedCursor {
  /** The calendar's URL as found for this configuration, or null (discover it). */
  collection: string | null;
  /** The sync token to list from, or null (a full listing). */
  token: string | null;
}

interface Stored {
  v: 1;
  for: string;
  collection: string;
  token: string | null;
}

/** What `url` and `calendar` are remembered under. */
export function cursorKey(url: string, calendar: string): string {
  return `${url}\n${calendar}`;
}

export function readCursor(cursor: string | null, key: string): SavedCursor {
  if (cursor === null) return { collection: null, token: null };
  if (!cursor.startsWith('{')) {
    // A bare sync token, as versions before this one kept: valid for the calendar discovery finds.
    return { collection: null, token: cursor };
  }
  try {
    const stored = JSON.parse(cursor) as Partial<Stored>;
    if (stored.v !== 1 || stored.for !== key || typeof stored.collection !== 'string') return { collection: null, token: null };
    return { collection: stored.collection, token: typeof stored.token === 'string' ? stored.token : null };
  } catch {
    return { collection: null, token: null };
  }
}

export function writeCursor(key: string, collection: string, token: string | null): string {
  const stored: Stored = { v: 1, for: key, collection, token };
  return JSON.stringify(stored);
}
