// Where a calendarView delta chain starts (reference §3.1: the first call carries the window, and
// later calls follow the links as given), and what tripcal keeps of it between syncs.

/**
 * The delta window (§3.1: calendarView delta needs one): two years back to five ahead, renewed by a
 * full listing weekly. Events outside it are still listed in full weekly, just not between.
 */
const WINDOW_BACK_MS = 2 * 365 * 86_400_000;
const WINDOW_AHEAD_MS = 5 * 365 * 86_400_000;
export const RELIST_AFTER_MS = 7 * 86_400_000;

/** The cursor tripcal stores: the delta link, and when the full listing it started from was made. */
export interface Cursor {
  link: string;
  /** When the full listing this delta chain started from was made. */
  at: number;
}

export function initialDelta(calendarPath: string, at: number): string {
  const from = new Date(at - WINDOW_BACK_MS).toISOString().slice(0, 19);
  const to = new Date(at + WINDOW_AHEAD_MS).toISOString().slice(0, 19);
  return `${calendarPath}/calendarView/delta?startDateTime=${from}Z&endDateTime=${to}Z`;
}
