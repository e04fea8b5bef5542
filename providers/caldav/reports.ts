// The REPORTs the CalDAV provider sends to its calendar: sync-collection (RFC 6578 §3) with its
// answer classified, calendar-query and calendar-multiget (RFC 4791 §7.8, §7.9), each a body we
// write and a multistatus we read.
import { InvalidError } from '../types.js';
import { errorForStatus, header, type DavHttp } from './http.js';
import { CALDAV, DAV, errorNames, escapeXml, readMultistatus, type DavEntry } from './xml.js';

const XMLNS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"';
const XML_TYPE = { 'content-type': 'application/xml; charset=utf-8' };
/** What a remembered calendar URL answers when the calendar is no longer there. */
const MOVED = new Set([301, 302, 307, 308, 404, 410]);

export const etagOf = (e: DavEntry) => e.props.get(`${DAV}getetag`)?.text.trim() ?? null;
export const dataOf = (e: DavEntry) => e.props.get(`${CALDAV}calendar-data`)?.text ?? null;

/** `2025-06-15T08:00:00Z` -> `20250615T080000Z`, as CalDAV time ranges are written. */
function toCalDavTime(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function readEntries(body: string, what: string): { entries: DavEntry[]; syncToken: string | null } {
  try {
    return readMultistatus(body);
  } catch (error) {
    throw new InvalidError(`${what}: unreadable answer (${(error as Error).message})`);
  }
}

/**
 * One sync-collection round, classified: its changes (the collection's own entries left out),
 * or the token is invalid (RFC 6578 §3.2), or the server has no such report, or — where `mayMove`
 * — the calendar is not at `collection` any more.
 */
export type SyncRound = { entries: DavEntry[]; token: string | null; truncated: boolean } | 'invalid-token' | 'unsupported' | 'moved';

export async function syncCollection(http: DavHttp, collection: string, token: string | null, mayMove: boolean, isCollection: (href: string) => boolean): Promise<SyncRound> {
  const body = `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${XMLNS}><d:sync-token>${escapeXml(token ?? '')}</d:sync-token>`
    + '<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>';
  const res = await http.request('REPORT', collection, { headers: XML_TYPE, body });
  if (res.status !== 207) {
    const errors = errorNames(res.body);
    if (errors.includes('valid-sync-token')) return 'invalid-token';
    if (errors.includes('supported-report')) return 'unsupported';
    if (mayMove && (MOVED.has(res.status) || res.status === 403)) return 'moved';
    if (token !== null && [403, 409].includes(res.status)) return 'invalid-token';
    if (token === null && [403, 501].includes(res.status)) return 'unsupported';
    // Some servers fail on a token they no longer know instead of saying so (Xandikos 0.2.8
    // answers 500): try once more without it before calling the server broken.
    if (token !== null && (res.status === 500 || res.status === 400)) return 'invalid-token';
    throw errorForStatus(res.status, `sync-collection on ${collection}`, header(res, 'retry-after'));
  }
  const { entries, syncToken } = readEntries(res.body, `sync-collection on ${collection}`);
  // Xandikos answers an invalid token with a 207 holding an inner 412 for the collection.
  if (entries.some((e) => e.errors.includes('valid-sync-token') || (isCollection(e.href) && [403, 409, 412].includes(e.status)))) return 'invalid-token';
  // RFC 6578 §3.6: a 507 for the collection says more changes follow from the returned token.
  const truncated = entries.some((e) => isCollection(e.href) && e.status === 507);
  return { entries: entries.filter((e) => !isCollection(e.href)), token: syncToken, truncated };
}

/** A Depth 1 REPORT on the calendar whose answer must be a multistatus. */
async function report(http: DavHttp, collection: string, what: string, body: string): Promise<DavEntry[]> {
  const res = await http.request('REPORT', collection, { headers: { ...XML_TYPE, depth: '1' }, body: `<?xml version="1.0" encoding="utf-8"?>${body}` });
  if (res.status !== 207) throw errorForStatus(res.status, `${what} on ${collection}`, header(res, 'retry-after'));
  return readEntries(res.body, `${what} on ${collection}`).entries;
}

/** Every event's href and etag (calendar-query), for servers without sync-collection. */
export function queryEtags(http: DavHttp, collection: string): Promise<DavEntry[]> {
  return report(http, collection, 'calendar-query', `<c:calendar-query ${XMLNS}><d:prop><d:getetag/></d:prop>`
    + '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter></c:calendar-query>');
}

/** The etags and data of the objects at `hrefs` (calendar-multiget); one gone is an inner 404. */
export function multiget(http: DavHttp, collection: string, hrefs: string[]): Promise<DavEntry[]> {
  const listed = hrefs.map((h) => `<d:href>${escapeXml(h)}</d:href>`).join('');
  return report(http, collection, 'calendar-multiget', `<c:calendar-multiget ${XMLNS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${listed}</c:calendar-multiget>`);
}

/** The events overlapping [from, to), recurrences expanded by the server (RFC 4791 §9.6.5). */
export function queryRange(http: DavHttp, collection: string, from: string, to: string): Promise<DavEntry[]> {
  const range = `start="${toCalDavTime(from)}" end="${toCalDavTime(to)}"`;
  return report(http, collection, 'calendar-query', `<c:calendar-query ${XMLNS}><d:prop><d:getetag/><c:calendar-data><c:expand ${range}/></c:calendar-data></d:prop>`
    + `<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range ${range}/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`);
}
