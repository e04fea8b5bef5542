// The status page as HTML, from what it shows: the trips (each through the trip view), every
// calendar account with its state in words, the conflicts side by side with a button to keep
// either version, and the feed links. Pure: the model in, the document out; the HTTP side is
// web/page.ts. Every outside text (titles, calendar names, a calendar's version of an event,
// errors a server sent) is escaped; the only inline secret is the form token, in hidden fields.
import type { ShownTime } from '../model/time.js';
import type { AccountStatus, EventVersion } from '../sync/status.js';
import { escapeHtml, renderTrip, shownTime, type TripModel } from './trip-view.js';

export interface PageModel {
  version: string;
  /** When the page was made (UTC ISO), for "5 min ago". */
  now: string;
  trips: Array<{ user: string; trips: TripModel[] }>;
  accounts: AccountStatus[];
  schedule: { expression: string; timezone: string; next_run: string | null } | null;
  feeds: Array<{ user: string; url: string }>;
  /** The form token every POST carries back. */
  csrf: string;
  /** Providers whose accounts are connected by signing in (a "Reconnect" button when they need it). */
  signInProviders: string[];
  /** What the last button did, when the page is shown after it. */
  result?: { ok: boolean; lines: string[] } | undefined;
  /** Who is signed in (tripcal's own sign-in, or a token), when someone is: the page is theirs. */
  signedIn?: { user: string; write: boolean; signOut: boolean } | undefined;
  /** A sync started from the page and not finished: how far each account is. */
  running?: { id: string; accounts: Array<{ account: string; done: number; total: number }> } | undefined;
}

/** `2025-06-15T08:00:00Z` → `2025-06-15 08:00 UTC (5 min ago)`: in UTC, so no zone is guessed. */
export function whenUtc(iso: string | null, now: string): string {
  if (!iso) return 'never';
  const minutes = Math.round((Date.parse(now) - Date.parse(iso)) / 60_000);
  const ago = minutes < 1 ? 'just now' : minutes < 120 ? `${minutes} min ago` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h ago` : `${Math.round(minutes / 1440)} days ago`;
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.slice(0, 16).replace('T', ' '))} UTC</time> (${ago})`;
}

/** The account's state as a sentence a person can act on. */
function stateWords(a: AccountStatus): { words: string; bad: boolean } {
  const detail = a.detail ? `: ${a.detail}` : '';
  switch (a.state) {
    case 'ok': {
      const waiting = [a.pending > 0 ? `${a.pending} change(s) still to send` : '', a.conflicts.length > 0 ? 'conflicts wait for you' : ''].filter(Boolean);
      return { words: waiting.length === 0 ? 'In step' : `Synced; ${waiting.join(', ')}`, bad: false };
    }
    case 'never synced': return { words: 'Not synced yet', bad: false };
    case 'needs_reauth': return { words: `Needs re-authorization${detail}`, bad: true };
    case 'guarded': return { words: `Stopped before deleting many events at once${detail}. Sync with allow_mass_delete (MCP sync_now) if that is meant`, bad: true };
    case 'error': return { words: `Could not sync${detail}`, bad: true };
    default: return { words: `${a.state}${detail}`, bad: a.state !== 'ok' };
  }
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('');
}

/** Whether the page may offer changes: anyone on this machine, or someone signed in with tripcal:write. */
const canChange = (model: PageModel) => !model.signedIn || model.signedIn.write;

/** A form that posts to the sync endpoint: the same as sync_now with these arguments. */
function syncForm(csrf: string, fields: Record<string, string>, label: string, describedBy?: string): string {
  return `<form method="post" action="/page/sync" data-busy="Syncing…">${hidden({ csrf, ...fields })}`
    + `<button type="submit"${describedBy ? ` aria-describedby="${escapeHtml(describedBy)}"` : ''}>${escapeHtml(label)}</button></form>`;
}

function accountsBlock(model: PageModel): string {
  const out = ['<section class="block" id="calendars" aria-labelledby="calendars-h"><h2 id="calendars-h">Calendars</h2>'];
  if (model.accounts.length === 0) {
    out.push('<p>No calendar account is configured (see config.example.yaml): the trips reach calendars through the feeds below.</p>');
  } else {
    out.push('<table><caption class="muted">Each calendar account tripcal keeps in step with the trips</caption><thead><tr>'
      + '<th scope="col">Account</th><th scope="col">Provider</th><th scope="col">Calendar</th><th scope="col">Last sync</th>'
      + '<th scope="col">Pending</th><th scope="col">State</th></tr></thead><tbody>');
    for (const a of model.accounts) {
      const { words, bad } = stateWords(a);
      const notes: string[] = [];
      if (a.failed.length) notes.push(`${a.failed.length} event(s) could not be written: ${a.failed.map((f) => `${escapeHtml(f.key)} (${escapeHtml(f.error)})`).join('; ')}`);
      if (a.conflicts.length) notes.push(`${a.conflicts.length} conflict(s): <a href="#conflicts">see below</a>`);
      if (a.gone.length) notes.push(`${a.gone.length} event(s) deleted in the calendar and left deleted (sync_now with recreate puts them back)`);
      const reconnect = canChange(model) && a.state === 'needs_reauth' && model.signInProviders.includes(a.provider)
        ? `<form method="post" action="/page/reconnect">${hidden({ csrf: model.csrf, account: a.account })}<button type="submit">Reconnect ${escapeHtml(a.account)}</button></form>`
        : '';
      out.push(`<tr><th scope="row">${escapeHtml(a.account)}</th><td>${escapeHtml(a.provider)}</td><td>${escapeHtml(a.calendar)}</td>`
        + `<td>${whenUtc(a.last_sync_at, model.now)}${a.last_success_at && a.last_success_at !== a.last_sync_at ? `<br><span class="muted">last success ${whenUtc(a.last_success_at, model.now)}</span>` : ''}</td>`
        + `<td>${a.pending} change${a.pending === 1 ? '' : 's'}</td>`
        + `<td><span class="${bad ? 'state-bad' : ''}">${bad ? 'Problem: ' : ''}${escapeHtml(words)}</span>${notes.map((n) => `<br>${n}`).join('')}${reconnect}</td></tr>`);
    }
    out.push('</tbody></table>');
  }
  const s = model.accounts.length > 0 ? model.schedule : null;
  if (model.accounts.length > 0) out.push(`<p class="muted" id="schedule">${s ? `Background sync on "${escapeHtml(s.expression)}" (${escapeHtml(s.timezone)}), next ${s.next_run ? whenUtc(s.next_run, model.now).replace(/ \([^)]*\)$/, '') : 'not planned'}.` : 'No background sync in this process.'}</p>`);
  if (model.accounts.length > 0 && canChange(model)) out.push(`<div class="actions">${syncForm(model.csrf, {}, 'Sync now', 'schedule')}</div>`);
  out.push('</section>');
  return out.join('');
}

function version(v: EventVersion | null, title: string): string {
  if (!v) return `<div><h4>${escapeHtml(title)}</h4><p>Not there (deleted)</p></div>`;
  const time = (t: ShownTime) => shownTime(t);
  return `<div><h4>${escapeHtml(title)}</h4><dl><dt>Title</dt><dd>${escapeHtml(v.summary)}</dd><dt>Starts</dt><dd>${time(v.start)}</dd>`
    + `<dt>Ends</dt><dd>${time(v.end)}</dd><dt>Place</dt><dd>${v.location ? escapeHtml(v.location) : '—'}</dd></dl></div>`;
}

function conflictsBlock(model: PageModel): string {
  const out = ['<section class="block" id="conflicts" aria-labelledby="conflicts-h"><h2 id="conflicts-h">Conflicts</h2>'];
  const withConflicts = model.accounts.filter((a) => a.conflicts.length > 0);
  if (withConflicts.length === 0) out.push('<p>None: no event was changed in a calendar whose policy is <code>flag</code>.</p>');
  for (const a of withConflicts) {
    out.push(`<h3>In ${escapeHtml(a.account)} (${escapeHtml(a.calendar)})</h3>`);
    for (const c of a.conflicts) {
      out.push(`<div class="conflict" role="group" aria-label="${escapeHtml(`Conflict on ${c.key}`)}">${version(c.model, 'tripcal\'s version')}${version(c.calendar, 'The calendar\'s version')}</div>`);
    }
    const all = a.conflicts.length > 1 ? ` (all ${a.conflicts.length} in ${a.account})` : '';
    if (canChange(model)) out.push(`<div class="actions">${syncForm(model.csrf, { account: a.account, resolve: 'model' }, `Keep tripcal's version${all}`)}`
      + `${syncForm(model.csrf, { account: a.account, resolve: 'remote' }, `Keep the calendar's version${all}`)}</div>`);
  }
  out.push('</section>');
  return out.join('');
}

function feedsBlock(model: PageModel): string {
  const out = ['<section class="block" id="feeds" aria-labelledby="feeds-h"><h2 id="feeds-h">Feeds</h2>',
    '<p class="muted">Subscribe to a feed in any calendar app; the link is the key to it, so share it only with whom should see the trips.</p>'];
  model.feeds.forEach((f, i) => {
    const id = `feed-${i}`;
    out.push(`<div class="feed"><label for="${id}">Feed of ${escapeHtml(f.user)}</label><input id="${id}" type="text" readonly value="${escapeHtml(f.url)}">`
      + `<div class="actions"><button type="button" data-copy="${id}">Copy link</button>`
      + `<a class="button" href="${escapeHtml(f.url.replace(/^https?:/, 'webcal:'))}">Subscribe (webcal://)</a>`
      + `<a class="button" href="${escapeHtml(f.url)}">Download .ics</a></div><p class="muted" id="${id}-status" role="status" aria-live="polite"></p></div>`);
  });
  out.push('</section>');
  return out.join('');
}

function tripsBlock(model: PageModel): string {
  const out = ['<section class="block" id="trips" aria-labelledby="trips-h"><h2 id="trips-h">Trips</h2>'];
  const several = model.trips.length > 1;
  for (const { user, trips } of model.trips) {
    if (several) out.push(`<h3 class="user">Trips of ${escapeHtml(user)}</h3>`);
    if (trips.length === 0) out.push('<p>No trips yet.</p>');
    for (const trip of trips) out.push(renderTrip(trip, { level: several ? 4 : 3 }));
  }
  out.push('</section>');
  return out.join('');
}

/** Each account's progress in words (the same words page.js writes as it goes). */
export function progressLines(accounts: Array<{ account: string; done: number; total: number }>): string {
  return accounts.length === 0 ? 'Reading the calendars…' : accounts.map((a) => `${a.account}: ${a.done} of ${a.total} change(s) written`).join('\n');
}

export function renderPage(model: PageModel): string {
  const result = model.result
    ? `<div class="notice" id="sync-result" role="status" tabindex="-1"><strong>${model.result.ok ? 'Done.' : 'Not everything went through.'}</strong><pre>${model.result.lines.map(escapeHtml).join('\n')}</pre></div>`
    : model.running
      ? `<div class="notice" id="sync-result" role="status" aria-live="polite" tabindex="-1" data-run="${escapeHtml(model.running.id)}"><strong>Syncing…</strong>`
        + `<pre id="sync-progress">${escapeHtml(progressLines(model.running.accounts))}</pre></div>`
      : '';
  // Without the script, a page following a sync looks again every two seconds.
  const refresh = model.running ? `<noscript><meta http-equiv="refresh" content="2;url=/?run=${encodeURIComponent(model.running.id)}#sync-result"></noscript>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<meta name="viewport" content="width=device-width, initial-scale=1">`
    + '<title>tripcal</title><link rel="stylesheet" href="/page.css"><script src="/page.js" defer></script></head><body>'
    + `<header class="top"><h1>tripcal</h1><span class="muted">version ${escapeHtml(model.version)} · as of ${whenUtc(model.now, model.now).replace(/ \([^)]*\)$/, '')}</span>`
    + '<nav class="skip" aria-label="Sections"><a href="#calendars">Calendars</a><a href="#conflicts">Conflicts</a><a href="#trips">Trips</a><a href="#feeds">Feeds</a></nav>'
    + (model.signedIn
      ? `<span class="who" id="signed-in">Signed in as <strong>${escapeHtml(model.signedIn.user)}</strong>${model.signedIn.write ? '' : ' (may only read)'}`
        + `${model.signedIn.signOut ? '<form method="post" action="/page/sign-out"><button type="submit">Sign out</button></form>' : ''}</span>`
      : '')
    + '</header>'
    + `<main>${result}${accountsBlock(model)}${conflictsBlock(model)}${tripsBlock(model)}${feedsBlock(model)}</main></body></html>`;
}
