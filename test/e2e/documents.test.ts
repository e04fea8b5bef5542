// Travel documents without JSON-LD, read by KDE's real itinerary extractor (Debian's
// libkpimitinerary-bin) as a user sends them: a PDF boarding pass with its Aztec barcode, Apple
// Wallet passes, a barcode's image, e-mails, through the real MCP client over stdio and the CLI.
// The calendar is read back with python3-icalendar and every expected instant comes from Python's
// zoneinfo (tzoracle.py), never from tripcal. The documents are made here (support/documents.ts).
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dumpDatabase } from '../support/app.js';
import { barcode, bcbp, eventPass, manyEntries, pdf, pkpass, png, zipBomb, type BoardingPass } from '../support/documents.js';
import { CLI, connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { oracleInstants, readWithOracle } from '../support/parsers.js';

const EXTRACTOR = '/usr/lib/x86_64-linux-gnu/libexec/kf5/kitinerary-extractor';

/** A date `days` from today (UTC): a boarding pass keeps only the day of the year, read as the next one. */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const FLIGHT: BoardingPass = { passenger: 'TESTER/ALEX', pnr: 'TST8K2', from: 'YUL', to: 'FRA', carrier: 'AC', flight: '834', date: inDays(40), seat: '3C' };
/** Three times on the page of a PDF boarding pass: boarding, departure, arrival (local at each end). */
const ticketPdf = () => pdf(['Boarding pass', 'Montreal YUL - Frankfurt FRA', 'Boarding 07:50', 'Departure 08:34', 'Arrival 21:55', 'Seat 3C'], barcode('AZTEC', bcbp(FLIGHT)));
const b64 = (bytes: Buffer) => bytes.toString('base64');

/**
 * A plain-text itinerary e-mail without markup, in the layout of Amadeus's itinerary mails (a
 * booking system many airlines and agencies send from), written here: two flights, the first on
 * the day Europe's clocks go forward. The extractor's rule for that sender reads it.
 */
const Y = new Date().getUTCFullYear() + 1;
/** The last Sunday of March next year (Europe's change to summer time), and the Friday after. */
const lastSundayOfMarch = (() => {
  const d = new Date(Date.UTC(Y, 2, 31));
  d.setUTCDate(31 - d.getUTCDay());
  return d;
})();
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const outbound = isoDay(lastSundayOfMarch);
const inbound = isoDay(new Date(lastSundayOfMarch.getTime() + 5 * 86_400_000));
const inboundNext = isoDay(new Date(lastSundayOfMarch.getTime() + 6 * 86_400_000));
const mailDay = (iso: string) => `${iso.slice(8, 10)} ${['JAN', 'FEB', 'MAR', 'APR'][Number(iso.slice(5, 7)) - 1]}`;
const itineraryMail = () => ['From: Travel Itinerary <itinerary@amadeus.com>', 'To: alex@example.com', 'Subject: Your trip',
  `Date: ${new Date(Date.UTC(Y, 0, 10, 9)).toUTCString()}`, 'Message-ID: <tst-itinerary@amadeus.com>', 'Content-Type: text/plain; charset=utf-8', '',
  'BOOKING REF: TST4QZ', '',
  `FLIGHT  LH 400 - LUFTHANSA                    SUNDAY ${outbound.slice(8, 10)} MARCH ${Y}`, '',
  `DEPARTURE:  FRANKFURT FRA - ${mailDay(outbound)} 10:00`, `ARRIVAL:    NEW YORK JFK - ${mailDay(outbound)} 12:45`, '',
  `FLIGHT  LH 401 - LUFTHANSA                    FRIDAY ${inbound.slice(8, 10)} APRIL ${Y}`, '',
  `DEPARTURE:  NEW YORK JFK - ${mailDay(inbound)} 17:30`, `ARRIVAL:    FRANKFURT FRA - ${mailDay(inboundNext)} 07:10`, ''].join('\r\n');

/** The itinerary's four instants, from zoneinfo. */
const itineraryInstants = () => oracleInstants([
  { zone: 'Europe/Berlin', wall: `${outbound}T10:00:00` }, { zone: 'America/New_York', wall: `${outbound}T12:45:00` },
  { zone: 'America/New_York', wall: `${inbound}T17:30:00` }, { zone: 'Europe/Berlin', wall: `${inboundNext}T07:10:00` },
]);

/** The flight's expected instants, from zoneinfo: Montréal keeps Eastern time, Frankfurt Central European. */
function expectedFlight() {
  const [departure, arrival] = oracleInstants([
    { zone: 'America/Toronto', wall: `${FLIGHT.date}T08:34:00` },
    { zone: 'Europe/Berlin', wall: `${FLIGHT.date}T21:55:00` },
  ]);
  return { departure, arrival };
}

/** Every row of the data directory's database, read on a connection of the test's own. */
function dumpStore(dataDir: string): string {
  if (!existsSync(join(dataDir, 'tripcal.db'))) return '(no database)';
  const db = new Database(join(dataDir, 'tripcal.db'), { readonly: true });
  try {
    return dumpDatabase(db);
  } finally {
    db.close();
  }
}

beforeAll(() => {
  // Real parts only: these tests never skip (.ci/run installs both).
  expect(existsSync(EXTRACTOR), `${EXTRACTOR}: apt-get install libkpimitinerary-bin`).toBe(true);
  expect(spawnSync('zint', ['--version']).status, 'zint draws the test barcodes: apt-get install zint').toBe(0);
});

describe('through MCP', () => {
  let server: Connected;
  beforeAll(async () => {
    server = await connect({ dataDir: tempDir(), env: { TRIPCAL_LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  test('a PDF boarding pass becomes the flight at its local times; sent again it is unchanged, never doubled', async () => {
    const first = structured(await server.call('import_reservations', { content_base64: b64(ticketPdf()), filename: 'boarding-pass.pdf' }));
    expect(first.skipped).toEqual([]);
    expect(first.created).toHaveLength(1);
    const flight = first.created[0];
    expect(flight).toMatchObject({ kind: 'flight', details: { flight_number: 'AC834', departure_airport: 'YUL', arrival_airport: 'FRA', confirmation_code: 'TST8K2', seat: '3C' } });
    expect(first.untrusted.fields).toEqual(expect.arrayContaining(['created[].details']));

    const { departure, arrival } = expectedFlight();
    const { ics } = structured(await server.call('export_trip', { trip_id: flight.trip_id }));
    const events = readWithOracle(ics).events.filter((e) => e.summary.includes('AC834'));
    expect(events).toHaveLength(1);
    expect(events[0]!.start).toMatchObject({ utc: departure, wall: `${FLIGHT.date}T08:34:00` });
    expect(events[0]!.end).toMatchObject({ utc: arrival, wall: `${FLIGHT.date}T21:55:00` });
    expect(events[0]!.start.tzid).toMatch(/^America\/(Toronto|Montreal)$/);
    expect(events[0]!.end!.tzid).toBe('Europe/Berlin');

    const again = structured(await server.call('import_reservations', { content_base64: b64(ticketPdf()), media_type: 'application/pdf' }));
    expect(again).toMatchObject({ created: [], updated: [], skipped: [] });
    expect(again.unchanged.map((i: any) => i.id)).toEqual([flight.id]);
    expect(structured(await server.call('get_trip', { trip_id: flight.trip_id })).items).toHaveLength(1);
  }, 30_000);

  test('a Wallet event ticket at a place given by coordinates is an activity in that place\'s zone; re-imported, unchanged', async () => {
    // Denver, by its coordinates alone; the pass gives its times as instants (UTC), as passes may.
    const day = inDays(60);
    const [startUtc, endUtc] = oracleInstants([{ zone: 'America/Denver', wall: `${day}T19:30:00` }, { zone: 'America/Denver', wall: `${day}T22:00:00` }]);
    const pass = eventPass('Symphony concert', startUtc!, endUtc!, 39.7392, -104.9903);
    const res = structured(await server.call('import_reservations', { content_base64: b64(pass), filename: 'concert.pkpass' }));
    expect(res.skipped).toEqual([]);
    expect(res.created).toHaveLength(1);
    expect(res.created[0]).toMatchObject({ kind: 'activity', details: { name: 'Symphony concert', timezone: 'America/Denver' } });
    const { ics } = structured(await server.call('export_trip', { trip_id: res.created[0].trip_id }));
    const event = readWithOracle(ics).events.find((e) => e.summary.includes('Symphony concert'))!;
    expect(event.start).toMatchObject({ utc: startUtc, wall: `${day}T19:30:00` });
    expect(event.end).toMatchObject({ utc: endUtc });
    expect(event.start.tzid).toBe('America/Denver');
    const again = structured(await server.call('import_reservations', { content_base64: b64(pass) }));
    expect(again).toMatchObject({ created: [], updated: [], skipped: [] });
    expect(again.unchanged).toHaveLength(1);
  }, 30_000);

  test('a boarding pass with only its barcode (Wallet pass, image) is skipped: the times are not in it', async () => {
    const before = structured(await server.call('list_trips', {})).trips;
    for (const [content, name] of [[pkpass(FLIGHT, '08:34'), 'flight.pkpass'], [png(barcode('AZTEC', bcbp(FLIGHT))), 'barcode.png']] as const) {
      const res = structured(await server.call('import_reservations', { content_base64: b64(content), filename: name }));
      expect(res.created).toEqual([]);
      expect(res.skipped).toEqual([{
        type: 'FlightReservation', reservation_number: 'TST8K2',
        reason: expect.stringMatching(new RegExp(`AC834 YUL→FRA on ${FLIGHT.date} but not its departure and arrival times \\(a boarding-pass barcode holds only the date\\)`)),
      }]);
    }
    // The code as text, and a Wallet pass attached to an e-mail without markup, its year read against the Date header.
    const code = structured(await server.call('import_reservations', { content: bcbp(FLIGHT) }));
    expect(code.skipped).toEqual([expect.objectContaining({ reason: expect.stringContaining(`AC834 YUL→FRA on ${FLIGHT.date} but not its departure`) })]);
    const mail = ['From: Tripcal Test Air <checkin@example.com>', 'Date: Sun, 01 Mar 2026 09:00:00 +0000', 'Subject: Your boarding pass', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="t2"', '', '--t2', 'Content-Type: text/plain', '', 'Your boarding pass is attached.', '--t2',
      'Content-Type: application/vnd.apple.pkpass; name="bp.pkpass"', 'Content-Transfer-Encoding: base64', '',
      b64(pkpass({ ...FLIGHT, date: '2026-03-20' }, '08:34')).replace(/(.{76})/g, '$1\r\n'), '--t2--', ''].join('\r\n');
    const mailed = structured(await server.call('import_reservations', { content: mail }));
    expect(mailed.skipped).toEqual([expect.objectContaining({ reason: expect.stringContaining('AC834 YUL→FRA on 2026-03-20 but not its departure') })]);
    expect(structured(await server.call('list_trips', {})).trips).toEqual(before);
  }, 30_000);

  test('a plain-text itinerary e-mail (no markup): both flights at their local times, across the change to summer time; again, unchanged', async () => {
    const first = structured(await server.call('import_reservations', { content: itineraryMail() }));
    expect(first.skipped).toEqual([]);
    expect(first.created.map((i: any) => i.details.flight_number).sort()).toEqual(['LH400', 'LH401']);
    expect(first.created[0]).toMatchObject({ kind: 'flight', details: { confirmation_code: 'TST4QZ' } });
    const [out, back] = [first.created.find((i: any) => i.details.flight_number === 'LH400'), first.created.find((i: any) => i.details.flight_number === 'LH401')];
    const [d1, a1, d2, a2] = itineraryInstants();
    // One booking, one trip: the return five days later joins the outbound's.
    expect(back.trip_id).toBe(out.trip_id);
    const trips = [out.trip_id];
    const events = (await Promise.all(trips.map(async (id) => readWithOracle(structured(await server.call('export_trip', { trip_id: id })).ics).events))).flat();
    const lh400 = events.find((e) => e.summary.includes('LH400'))!;
    const lh401 = events.find((e) => e.summary.includes('LH401'))!;
    expect([lh400.start.utc, lh400.end?.utc, lh400.start.tzid, lh400.end?.tzid]).toEqual([d1, a1, 'Europe/Berlin', 'America/New_York']);
    expect([lh401.start.utc, lh401.end?.utc]).toEqual([d2, a2]);
    expect(lh400.start.wall).toBe(`${outbound}T10:00:00`);
    const again = structured(await server.call('import_reservations', { content: itineraryMail() }));
    expect(again).toMatchObject({ created: [], updated: [], skipped: [] });
    expect(again.unchanged.map((i: any) => i.id).sort()).toEqual([out.id, back.id].sort());
  }, 30_000);

  test('exactly one of content and content_base64, a decoded size cap, and base64 that is not: refused naming the field', async () => {
    const both = await server.call('import_reservations', { content: '{}', content_base64: b64(Buffer.from('{}')) });
    expect(both.isError).toBe(true);
    expect(JSON.stringify(both.content)).toContain('content_base64: give the document once');
    const neither = await server.call('import_reservations', {});
    expect(neither.isError).toBe(true);
    expect(JSON.stringify(neither.content)).toContain('content: required');
    const notBase64 = await server.call('import_reservations', { content_base64: 'this is not base64!' });
    expect(JSON.stringify(notBase64.content)).toContain('content_base64: not base64');
    const large = await server.call('import_reservations', { content_base64: b64(Buffer.alloc(5_000_001, 0x20)) });
    expect(large.isError).toBe(true);
    expect(JSON.stringify(large.content)).toMatch(/content_base64: 5,000,001 bytes; a document to import may be at most 5,000,000 \(5 MB\)/);
  }, 30_000);
});

describe('hostile documents: a clear error in bounded time, nothing changed, the server answering meanwhile', () => {
  let server: Connected;
  let dataDir: string;
  let fakes: string;
  beforeAll(async () => {
    dataDir = tempDir();
    fakes = tempDir('tripcal-fakes-');
    server = await connect({ dataDir, env: { TRIPCAL_LOG_LEVEL: 'error' } });
    // Something in the store, so "nothing changed" is about rows that exist.
    structured(await server.call('import_reservations', { content_base64: b64(ticketPdf()) }));
  });
  afterAll(async () => {
    await server?.close();
  });
  const store = () => dumpStore(dataDir);

  test('a corrupt PDF, a zip bomb, a zip of 5,000 files', async () => {
    const before = store();
    const corrupt = Buffer.concat([ticketPdf().subarray(0, 300), Buffer.alloc(4000, 0xa7)]);
    const cases: Array<[Buffer, string, RegExp]> = [
      [corrupt, 'broken.pdf', /content_base64: KDE's itinerary extractor found no reservation in this PDF \(it may be damaged/],
      [zipBomb(1024), 'bomb.pkpass', /content_base64: the zip inflates to more than 20,000,000 bytes \(a zip bomb\)/],
      [manyEntries(5000), 'many.pkpass', /content_base64: more than 200 files in the zip/],
    ];
    for (const [bytes, filename, message] of cases) {
      const started = Date.now();
      const result = await server.call('import_reservations', { content_base64: b64(bytes), filename });
      expect(result.isError, filename).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(message);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
    expect(store()).toBe(before);
  }, 60_000);

  test('an extractor that hangs is killed at import.timeout_seconds while other calls are answered; one that floods is cut at 5 MB', async () => {
    const hang = join(fakes, 'hang');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 60\n');
    const flood = join(fakes, 'flood');
    writeFileSync(flood, '#!/bin/sh\nexec yes "[{}]"\n');
    chmodSync(hang, 0o755);
    chmodSync(flood, 0o755);
    const config = join(fakes, 'config.yaml');
    writeFileSync(config, 'import:\n  timeout_seconds: 2\n');
    const slow = await connect({ dataDir, args: ['--config', config], env: { TRIPCAL_LOG_LEVEL: 'error', TRIPCAL_EXTRACTOR: hang } });
    try {
      const before = store();
      const started = Date.now();
      const pending = slow.call('import_reservations', { content_base64: b64(ticketPdf()) });
      // While the extractor runs, the server answers.
      const trips = structured(await slow.call('list_trips', {}));
      expect(trips.trips).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(1_500);
      const result = await pending;
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain("content_base64: KDE's itinerary extractor did not finish within 2 s on this document; nothing was imported");
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(store()).toBe(before);
    } finally {
      await slow.close();
    }
    const noisy = await connect({ dataDir, env: { TRIPCAL_LOG_LEVEL: 'error', TRIPCAL_EXTRACTOR: flood } });
    try {
      const result = await noisy.call('import_reservations', { content_base64: b64(ticketPdf()) });
      expect(JSON.stringify(result.content)).toContain('wrote more than 5,000,000 bytes');
    } finally {
      await noisy.close();
    }
  }, 30_000);

  test('the extractor missing: the package to install and what it would have read, naming the field; nothing changed', async () => {
    const missing = await connect({ dataDir, env: { TRIPCAL_LOG_LEVEL: 'error', TRIPCAL_EXTRACTOR: '/nonexistent/kitinerary-extractor' } });
    try {
      const before = store();
      const result = await missing.call('import_reservations', { content_base64: b64(ticketPdf()), filename: 'boarding-pass.pdf' });
      expect(result.isError).toBe(true);
      const text = JSON.stringify(result.content);
      expect(text).toContain("content_base64: this looks like a PDF; tripcal reads PDFs, Apple Wallet passes, boarding-pass barcodes and e-mails without markup with KDE's itinerary extractor");
      expect(text).toContain('/nonexistent/kitinerary-extractor');
      expect(text).toContain('apt-get install libkpimitinerary-bin');
      // Text without markup keeps its answer (nothing found), with the way to read more of it.
      const plain = structured(await missing.call('import_reservations', { content: `Your code: ${bcbp(FLIGHT)}` }));
      expect(plain.skipped).toEqual([expect.objectContaining({ type: 'JSON-LD', reason: expect.stringMatching(/^no JSON-LD found.*apt-get install libkpimitinerary-bin/) })]);
      expect(store()).toBe(before);
    } finally {
      await missing.close();
    }
  }, 30_000);
});

describe('through the CLI', () => {
  const dataDir = tempDir();
  const tripcal = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, TRIPCAL_LOG_LEVEL: 'error', ...env } });
  const file = (name: string, bytes: Buffer | string) => {
    const path = join(dataDir, name);
    writeFileSync(path, bytes);
    return path;
  };

  test('tripcal import ticket.pdf: the flight at its local times in the exported .ics; again, unchanged; the same flight in an e-mail, unchanged', () => {
    const ticket = file('ticket.pdf', ticketPdf());
    const first = tripcal(['import', ticket]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^added {5}item_\S+ {2}(trip_\S+) {2}\S+ {2}Flight: AC AC834\n1 added, 0 updated, 0 unchanged, 0 skipped\n$/);
    expect(first.status).toBe(0);
    const tripId = /(trip_\S+)/.exec(first.stdout)![1]!;
    const { departure, arrival } = expectedFlight();
    const events = readWithOracle(tripcal(['export', tripId]).stdout).events;
    expect(events.map((e) => [e.start.utc, e.end?.utc])).toContainEqual([departure, arrival]);

    expect(tripcal(['import', ticket]).stdout).toMatch(/0 added, 0 updated, 1 unchanged, 0 skipped\n$/);
    // The airline's e-mail with the PDF attached: the same reservation, so the same item.
    const mail = ['From: Tripcal Test Air <checkin@example.com>', `Date: ${new Date().toUTCString()}`, 'Subject: Boarding pass', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="t1"', '', '--t1', 'Content-Type: text/plain', '', 'Your boarding pass is attached.', '--t1',
      'Content-Type: application/pdf; name="bp.pdf"', 'Content-Disposition: attachment; filename="bp.pdf"', 'Content-Transfer-Encoding: base64', '',
      b64(ticketPdf()).replace(/(.{76})/g, '$1\r\n'), '--t1--', ''].join('\r\n');
    const viaMail = tripcal(['import', file('boarding.eml', mail)]);
    expect(viaMail.stdout).toMatch(/0 added, 0 updated, 1 unchanged, 0 skipped\n$/);
  }, 30_000);

  test('tripcal import itinerary.eml (plain text, no markup): both flights at their local times', () => {
    const run = tripcal(['import', file('itinerary.eml', itineraryMail())]);
    expect(run.stdout).toMatch(/2 added, 0 updated, 0 unchanged, 0 skipped\n$/);
    expect(run.status).toBe(0);
    const trips = [...new Set([...run.stdout.matchAll(/(trip_\S+)/g)].map((m) => m[1]!))];
    expect(trips).toHaveLength(1);
    const [d1, a1, d2, a2] = itineraryInstants();
    const events = trips.flatMap((id) => readWithOracle(tripcal(['export', id]).stdout).events);
    expect(events.map((e) => [e.start.utc, e.end?.utc])).toEqual(expect.arrayContaining([[d1, a1], [d2, a2]]));
  }, 30_000);

  test('a boarding-pass code in a text file is read against the file\'s date; what cannot be imported exits 1', () => {
    const code = file('code.txt', `${bcbp({ ...FLIGHT, date: '2025-06-10' })}\n`);
    utimesSync(code, new Date('2025-05-01T12:00:00Z'), new Date('2025-05-01T12:00:00Z'));
    const r = tripcal(['import', code]);
    expect(r.stdout).toContain('skipped   FlightReservation TST8K2: missing reservationFor.departureTime, reservationFor.arrivalTime: the document names AC834 YUL→FRA on 2025-06-10');
    expect(r.status).toBe(1);
  }, 30_000);

  test('refusals: a 50 MB PDF before it is read, a corrupt PDF, the extractor missing (exit 2, nothing changed)', () => {
    const before = dumpStore(dataDir);
    const huge = file('huge.pdf', ticketPdf());
    truncateSync(huge, 50_000_000);
    const big = tripcal(['import', huge]);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/FILE: .*huge\.pdf is 50,000,000 bytes; a file to import may be at most 5,000,000 \(5 MB\), nothing was imported/);
    const broken = tripcal(['import', file('broken.pdf', Buffer.concat([ticketPdf().subarray(0, 300), Buffer.alloc(2000, 0x41)]))]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/FILE: .*broken\.pdf: KDE's itinerary extractor found no reservation in this PDF/);
    const missing = tripcal(['import', join(dataDir, 'ticket.pdf')], { TRIPCAL_EXTRACTOR: '/nonexistent/kitinerary-extractor' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/FILE: .*ticket\.pdf: this looks like a PDF; tripcal reads PDFs.*apt-get install libkpimitinerary-bin/);
    const text = tripcal(['import', file('note.txt', 'Dear traveller, your booking is confirmed.\n')], { TRIPCAL_EXTRACTOR: 'off' });
    expect(text.stderr).toMatch(/note\.txt is neither iCalendar .* KDE's itinerary extractor would read e-mails without markup and boarding-pass codes \(apt-get install libkpimitinerary-bin\)/);
    expect(dumpStore(dataDir)).toBe(before);
  }, 30_000);

  test('tripcal doctor shows the extractor and its version, or the package to install', () => {
    const found = JSON.parse(tripcal(['doctor', '--json']).stdout);
    expect(found.extractor).toMatch(/^kitinerary-extractor \d+\.\d+\.\d+ \(\/usr\/lib\/x86_64-linux-gnu\/libexec\/kf5\/kitinerary-extractor\)$/);
    const missing = JSON.parse(tripcal(['doctor', '--json'], { TRIPCAL_EXTRACTOR: '/nonexistent/x' }).stdout);
    expect(missing.extractor).toBe('not installed at /nonexistent/x (PDFs, Wallet passes and plain e-mails need it: apt-get install libkpimitinerary-bin)');
    expect(tripcal(['doctor']).stdout).toMatch(/^extractor +kitinerary-extractor /m);
  }, 30_000);
});
