// The trip view: one trip as a timeline of the traveller's local days, each item in the local
// times of the place it happens (a flight: departure in the departure zone, arrival in the
// arrival zone), with the trip checks' warnings marked on the items they concern. A pure
// function from the model as tools return it (get_trip's trip, items and warnings) to an HTML
// fragment. The daemon's page renders it on the server; the MCP App renders the same module,
// bundled for the browser, from the tool result it is given. It imports nothing at run time and
// reads no clock and no host zone: every time shown is the wall time already in the model
// (`local`, with its offset), so the host's zone cannot change what a traveller reads.
//
// Every text from the model is outside text (booking titles, names, places): it is only ever
// written escaped, as element text or a quoted attribute value.
import type { ShownTime } from '../model/time.js';

/** A trip as get_trip / create_itinerary return it (TripShape). */
export interface TripModelTrip {
  id: string;
  title: string;
  timezone: string;
  start_date: string | null;
  end_date: string | null;
  notes?: string | null;
  item_count?: number;
}

/** An item as tools return it (ItemShape); only what the view shows. */
export interface TripModelItem {
  id: string;
  kind: 'flight' | 'stay' | 'activity' | string;
  summary: string;
  start: ShownTime;
  end: ShownTime;
  all_day: boolean;
  details?: Record<string, unknown>;
}

/** A trip check's warning (check_trip / get_trip). */
export interface TripModelWarning {
  code: string;
  message: string;
  item_ids: string[];
}

export interface TripModel {
  trip: TripModelTrip;
  items: TripModelItem[];
  warnings?: TripModelWarning[];
}

/** One line of the timeline: a flight, a check-in or check-out, an activity. */
interface Entry {
  item: TripModelItem;
  /** Where it sits in the day and among days: the instant it happens. */
  at: string;
  date: string;
  role: 'flight' | 'check-in' | 'check-out' | 'activity';
}

// Controls (line breaks included), bidirectional overrides and isolates, zero-width characters:
// what could make outside text look like something else. They go before escaping.
const HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2069\u061c\ufeff]/g;

/** Outside text as HTML text or a quoted attribute value: nothing in it can be markup. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(HIDDEN, '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2025-07-01` → `Tue 1 Jul 2025` (the calendar's, not any zone's: it is already a local date). */
export function dayLabel(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return `${DAYS[weekday]} ${d} ${MONTHS[m - 1]} ${y}`;
}

/** The local date (`YYYY-MM-DD`) of a shown time: the date part of its wall time. */
const localDateOf = (t: ShownTime) => t.local.slice(0, 10);
/** `17:00`: the wall clock of a shown time. */
const clockOf = (t: ShownTime) => t.local.slice(11, 16);
/** `+09:00`, or `Z`. */
const offsetOf = (t: ShownTime) => t.local.slice(19) || 'Z';

/** The day before a local date (all-day items end at the midnight after their last day). */
function dayBefore(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

/** How a traveller names a zone: `Asia/Tokyo` → `Tokyo`, `America/Los_Angeles` → `Los Angeles`. */
export function zoneName(zone: string): string {
  if (!zone.includes('/')) return zone;
  return zone.slice(zone.lastIndexOf('/') + 1).replace(/_/g, ' ');
}

/** A wall time with its place: `<time>17:00</time> Tokyo`, the zone and offset in the title. */
function clock(t: ShownTime, withDate = false): string {
  const date = withDate ? `${dayLabel(localDateOf(t))} ` : '';
  const zone = `<span class="zone" title="${escapeHtml(`${t.timezone}, UTC${offsetOf(t) === 'Z' ? '' : offsetOf(t)}`)}">${escapeHtml(zoneName(t.timezone))}</span>`;
  return `<time datetime="${escapeHtml(t.local)}">${escapeHtml(date + clockOf(t))}</time> ${zone}`;
}

function entriesOf(item: TripModelItem): Entry[] {
  const at = (t: ShownTime) => ({ at: t.utc, date: localDateOf(t) });
  switch (item.kind) {
    case 'flight':
      return [{ item, role: 'flight', ...at(item.start) }];
    case 'stay':
      return [{ item, role: 'check-in', ...at(item.start) }, { item, role: 'check-out', ...at(item.end) }];
    default:
      return [{ item, role: 'activity', ...at(item.start) }];
  }
}

const KIND_LABEL: Record<Entry['role'], string> = { flight: 'Flight', 'check-in': 'Check-in', 'check-out': 'Check-out', activity: 'Activity' };

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** When it happens, as the traveller reads it on that day. */
function when(entry: Entry): string {
  const { item, role } = entry;
  if (role === 'flight') {
    const otherDay = localDateOf(item.end) !== localDateOf(item.start);
    return `${clock(item.start)} → ${clock(item.end, otherDay)}`;
  }
  if (role === 'check-in') return clock(item.start);
  if (role === 'check-out') return clock(item.end);
  if (item.all_day) {
    const last = dayBefore(localDateOf(item.end));
    return last > localDateOf(item.start) ? `All day, until <time datetime="${escapeHtml(last)}">${escapeHtml(dayLabel(last))}</time>` : 'All day';
  }
  if (item.end.utc === item.start.utc) return clock(item.start);
  if (item.end.timezone === item.start.timezone && localDateOf(item.end) === localDateOf(item.start)) {
    return `<time datetime="${escapeHtml(item.start.local)}">${clockOf(item.start)}</time>–${clock(item.end)}`;
  }
  return `${clock(item.start)} → ${clock(item.end, localDateOf(item.end) !== localDateOf(item.start))}`;
}

/** What it is: the title, and for a flight its route. */
function what(entry: Entry): string {
  const { item, role } = entry;
  const d = item.details ?? {};
  const name = role === 'check-in' || role === 'check-out' ? text(d.name) ?? item.summary : item.summary;
  const facts: string[] = [];
  if (role === 'flight' && text(d.departure_airport) && text(d.arrival_airport)) {
    facts.push(`<span class="route">${escapeHtml(d.departure_airport)} → ${escapeHtml(d.arrival_airport)}</span>`);
  }
  for (const [key, label] of [['seat', 'seat'], ['terminal', 'terminal'], ['confirmation_code', 'confirmation']] as const) {
    if (role !== 'check-out' && text(d[key])) facts.push(`<span class="fact">${label} ${escapeHtml(d[key])}</span>`);
  }
  const place = role === 'flight' ? undefined : text(d.address) ?? text(d.location);
  if (place) facts.push(`<span class="place">${escapeHtml(place)}</span>`);
  return `<span class="what">${escapeHtml(name)}</span>${facts.length ? ` <span class="facts">${facts.join(' · ')}</span>` : ''}`;
}

const anchor = (tripId: string, itemId: string) => `item-${escapeHtml(tripId)}-${escapeHtml(itemId)}`;

function warningNotes(warnings: readonly TripModelWarning[]): string {
  return warnings.map((w) => `<p class="warning" role="note"><strong>⚠ Check:</strong> ${escapeHtml(w.message)}</p>`).join('');
}

/** A moment as a traveller reads it: `Tue 1 Jul 2025 17:00 Tokyo`. */
export const shownTime = (t: ShownTime): string => clock(t, true);

/**
 * One trip as an HTML fragment (a `<section>`), its days in order, its warnings on its items;
 * `level`: the trip's heading level (its days one below).
 */
export function renderTrip(model: TripModel, { level = 2 }: { level?: number } = {}): string {
  const { trip } = model;
  const [h, hDay] = [`h${level}`, `h${level + 1}`];
  const warnings = model.warnings ?? [];
  const entries = model.items.flatMap(entriesOf).sort((a, b) => a.at.localeCompare(b.at) || a.item.id.localeCompare(b.item.id));
  // A warning is marked once per item, on its first line in the timeline.
  const marked = new Set<string>();
  const days = new Map<string, Entry[]>();
  for (const e of entries) {
    const day = days.get(e.date) ?? [];
    day.push(e);
    days.set(e.date, day);
  }
  const heading = `trip-${escapeHtml(trip.id)}`;
  const dates = trip.start_date && trip.end_date
    ? `<time datetime="${escapeHtml(trip.start_date)}">${escapeHtml(dayLabel(trip.start_date))}</time>`
      + (trip.end_date !== trip.start_date ? ` – <time datetime="${escapeHtml(trip.end_date)}">${escapeHtml(dayLabel(trip.end_date))}</time>` : '')
    : 'no dates yet';
  const count = model.items.length;
  const out: string[] = [
    `<section class="trip" aria-labelledby="${heading}">`,
    `<${h} id="${heading}">${escapeHtml(trip.title)}</${h}>`,
    `<p class="trip-facts">${dates} · ${count} item${count === 1 ? '' : 's'} · times are local where each thing happens</p>`,
  ];
  if (text(trip.notes)) out.push(`<p class="notes">${escapeHtml(trip.notes)}</p>`);
  if (warnings.length > 0) {
    out.push(`<div class="checks"><p><strong>⚠ ${warnings.length} thing${warnings.length === 1 ? '' : 's'} to check</strong> (marked on the items below)</p><ul>`);
    for (const w of warnings) {
      const first = w.item_ids[0];
      const link = first ? ` <a href="#${anchor(trip.id, first)}">Go to the item</a>` : '';
      out.push(`<li>${escapeHtml(w.message)}${link}</li>`);
    }
    out.push('</ul></div>');
  }
  if (entries.length === 0) out.push('<p class="empty">No items yet.</p>');
  else out.push('<ol class="days">');
  for (const [date, dayEntries] of days) {
    out.push(`<li class="day"><${hDay}><time datetime="${escapeHtml(date)}">${escapeHtml(dayLabel(date))}</time></${hDay}><ol class="entries">`);
    for (const e of dayEntries) {
      const first = !marked.has(e.item.id);
      marked.add(e.item.id);
      const concerning = first ? warnings.filter((w) => w.item_ids.includes(e.item.id)) : [];
      const id = first ? ` id="${anchor(trip.id, e.item.id)}"` : '';
      out.push(
        `<li class="entry ${e.role}${concerning.length ? ' has-warning' : ''}"${id} data-item="${escapeHtml(e.item.id)}">`
        + `<span class="kind">${KIND_LABEL[e.role]}</span> <span class="when">${when(e)}</span> ${what(e)}${warningNotes(concerning)}</li>`,
      );
    }
    out.push('</ol></li>');
  }
  if (entries.length > 0) out.push('</ol>');
  out.push('</section>');
  return out.join('');
}

/**
 * The model of a tool result's structuredContent: get_trip (trip, items, warnings) or
 * create_itinerary (trip, events); null when it holds no trip.
 */
export function modelOfResult(structured: unknown): TripModel | null {
  if (!structured || typeof structured !== 'object') return null;
  const r = structured as { trip?: TripModelTrip; items?: TripModelItem[]; events?: TripModelItem[]; warnings?: TripModelWarning[] };
  if (!r.trip || typeof r.trip !== 'object') return null;
  const items = Array.isArray(r.items) ? r.items : Array.isArray(r.events) ? r.events : [];
  return { trip: r.trip, items, warnings: Array.isArray(r.warnings) ? r.warnings : [] };
}
