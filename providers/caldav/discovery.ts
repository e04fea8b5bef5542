// Finding the account's calendar (RFC 6764, RFC 5397, RFC 4791 §6.2.1): the principal from the
// configured URL (else its /.well-known/caldav, else the server's root), its calendar home, the
// calendar by display name or URL, made with MKCALENDAR (RFC 4791 §5.3.1) when missing. Two
// PROPFINDs where the home is the principal (Radicale), three where it is not.
import { AuthExpiredError, InvalidError, ProviderError } from '../types.js';
import type { CalDavSettings } from './settings.js';
import { errorForStatus, header, type DavAnswer, type DavHttp } from './http.js';
import { CALDAV, DAV, child, children, escapeXml, hrefProp, readMultistatus, type DavEntry } from './xml.js';

const XMLNS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"';
const PRINCIPAL_BODY = `<?xml version="1.0" encoding="utf-8"?><d:propfind ${XMLNS}><d:prop><d:current-user-principal/><c:calendar-home-set/></d:prop></d:propfind>`;
const CALENDARS_BODY = `<?xml version="1.0" encoding="utf-8"?><d:propfind ${XMLNS}><d:prop><c:calendar-home-set/><d:resourcetype/><d:displayname/>`
  + '<c:supported-calendar-component-set/></d:prop></d:propfind>';
const REDIRECTS = new Set([301, 302, 307, 308]);
const MAX_REDIRECTS = 5;

export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'trips';
}

export interface CalendarEntry {
  url: string;
  name: string;
}

export interface Discovered {
  /** The calendar's URL, ending in `/`. */
  collection: string;
  /** Made just now by MKCALENDAR: it holds nothing yet. */
  created: boolean;
}

/** A PROPFIND, following redirects (the well-known URL answers with one). */
async function propfind(http: DavHttp, url: string, depth: '0' | '1', body: string): Promise<{ url: string; answer: DavAnswer }> {
  let at = url;
  for (let hop = 0; ; hop++) {
    const answer = await http.request('PROPFIND', at, { headers: { depth, 'content-type': 'application/xml; charset=utf-8' }, body });
    const location = header(answer, 'location');
    if (!REDIRECTS.has(answer.status) || !location || hop === MAX_REDIRECTS) return { url: at, answer };
    at = new URL(location, at).href;
  }
}

/** The answer's multistatus, or the provider error its status stands for. */
function entriesOf(answer: DavAnswer, what: string): DavEntry[] {
  if (answer.status !== 207) throw errorForStatus(answer.status, what, header(answer, 'retry-after'));
  try {
    return readMultistatus(answer.body).entries;
  } catch (error) {
    throw new InvalidError(`${what}: unreadable answer (${(error as Error).message})`);
  }
}

async function findPrincipal(http: DavHttp, settings: CalDavSettings): Promise<{ principal: string; home: string | null }> {
  const origin = new URL(settings.url).origin;
  const candidates = [...new Set([settings.url, `${origin}/.well-known/caldav`, `${origin}/`])];
  for (const candidate of candidates) {
    const { url, answer } = await propfind(http, candidate, '0', PRINCIPAL_BODY);
    if (answer.status === 401) throw errorForStatus(401, `CalDAV login at ${settings.url}`);
    // Busy or failing: worth another try later, not a reason to look elsewhere.
    if (answer.status === 429 || answer.status >= 500) throw errorForStatus(answer.status, `CalDAV discovery at ${url}`, header(answer, 'retry-after'));
    if (answer.status !== 207) continue;
    const entry = entriesOf(answer, `PROPFIND ${url}`)[0];
    const principal = hrefProp(entry, `${DAV}current-user-principal`);
    if (principal) {
      const home = hrefProp(entry, `${CALDAV}calendar-home-set`);
      return { principal: new URL(principal, url).href, home: home && new URL(home, url).href };
    }
  }
  throw new InvalidError(`CalDAV discovery at ${settings.url} failed: the server named no current-user-principal`);
}

/** The collections of a Depth 1 answer that hold events. */
function eventCalendars(entries: DavEntry[], base: string): CalendarEntry[] {
  return entries.flatMap((e) => {
    if (!child(e.props.get(`${DAV}resourcetype`), CALDAV, 'calendar')) return [];
    // A calendar for tasks or journal entries only cannot hold our events (RFC 4791 §5.2.3).
    const comps = children(e.props.get(`${CALDAV}supported-calendar-component-set`), CALDAV, 'comp');
    if (comps.length > 0 && !comps.some((c) => c.attrs.name?.toUpperCase() === 'VEVENT')) return [];
    const url = withSlash(new URL(e.href, base).href);
    return [{ url, name: (e.props.get(`${DAV}displayname`)?.text ?? '').trim() }];
  });
}

/** Lists the event calendars of the account's home. */
export async function listCalendars(http: DavHttp, settings: CalDavSettings): Promise<{ home: string; calendars: CalendarEntry[] }> {
  const { principal, home: named } = await findPrincipal(http, settings);
  const first = await propfind(http, principal, '1', CALENDARS_BODY);
  const entries = entriesOf(first.answer, `listing calendars at ${principal}`);
  const self = entries.find((e) => withSlash(new URL(e.href, first.url).href) === withSlash(first.url)) ?? entries[0];
  const homeHref = named ?? hrefProp(self, `${CALDAV}calendar-home-set`);
  if (!homeHref) throw new InvalidError(`CalDAV discovery at ${settings.url} failed: the principal ${principal} names no calendar-home-set`);
  const home = withSlash(new URL(homeHref, first.url).href);
  if (home === withSlash(first.url)) return { home, calendars: eventCalendars(entries, first.url) };
  const second = await propfind(http, home, '1', CALENDARS_BODY);
  return { home, calendars: eventCalendars(entriesOf(second.answer, `listing calendars at ${home}`), second.url) };
}

/** Finds the configured calendar (by display name, or by URL), making it when it is not there. */
export async function discover(http: DavHttp, settings: CalDavSettings): Promise<Discovered> {
  let listed: { home: string; calendars: CalendarEntry[] };
  try {
    listed = await listCalendars(http, settings);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new InvalidError(`CalDAV discovery at ${settings.url} failed: ${(error as Error).message}`);
  }
  const wanted = settings.calendar;
  const byUrl = withSlash(new URL(wanted, settings.url).href);
  const found = listed.calendars.find((c) => c.name === wanted || c.url === byUrl);
  if (found) return { collection: found.url, created: false };
  const url = withSlash(new URL(`${slug(wanted)}/`, listed.home).href);
  const body = `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar ${XMLNS}><d:set><d:prop><d:displayname>${escapeXml(wanted)}</d:displayname></d:prop></d:set></c:mkcalendar>`;
  const made = await http.request('MKCALENDAR', url, { headers: { 'content-type': 'application/xml; charset=utf-8' }, body });
  if (made.status === 401) throw new AuthExpiredError(`creating calendar ${url}: HTTP 401`, 401);
  // 405 / 409: it exists already (made by a run that died before remembering it).
  if (made.status >= 300 && made.status !== 405 && made.status !== 409) throw errorForStatus(made.status, `creating calendar ${url}`, header(made, 'retry-after'), true);
  return { collection: url, created: made.status < 300 };
}
