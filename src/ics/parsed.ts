// The shapes node-ical gives back, and the two readings of them every caller needs: a text
// property (plain, or with parameters) and an all-day date (which node-ical builds at local
// midnight of the host, so it must be read back with local getters to be host-independent).

export interface ParsedDate extends Date {
  tz?: string;
  dateOnly?: boolean;
}

export interface ParsedEvent {
  type: string;
  uid?: string;
  summary?: unknown;
  description?: unknown;
  location?: unknown;
  status?: string;
  start?: ParsedDate;
  end?: ParsedDate;
  datetype?: string;
  transparency?: string;
  rrule?: unknown;
  recurrences?: Record<string, ParsedEvent>;
  alarms?: Array<{ action?: string; trigger?: string }>;
  /** Our marker; node-ical drops the X- prefix of extension properties. */
  'TRIPCAL-KEY'?: unknown;
}

/** A TEXT property's value, whether node-ical gave a string or `{ params, val }`. */
export function propertyText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && 'val' in (value as object)) return String((value as { val: unknown }).val);
  return String(value);
}

/** `YYYY-MM-DD` of an all-day date from node-ical. */
export function allDayDate(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}
