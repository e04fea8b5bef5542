// Importing .ics files as a user's calendar app exports them, and as an attacker writes them:
// floating times read in the trip's zone (else the user's) on every host, TZID times in the
// repeated hour read as their first occurrence, a bad event skipped with its UID and property
// while the good ones land, an RRULE without end and files of absurd size refused in words.
// Expected instants come from Python's zoneinfo (test/support/tzoracle.py), never from tripcal.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { oracleInstants } from '../support/parsers.js';

const USER_ZONE = 'Asia/Kathmandu';

function calendar(...events: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...events, 'END:VCALENDAR', ''].join('\r\n');
}
function vevent(uid: string, ...lines: string[]): string {
  return ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT'].join('\r\n');
}

function configFile(): string {
  const dir = tempDir('tripcal-ics-config-');
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `default_user: me\nusers:\n  me:\n    timezone: ${USER_ZONE}\n`);
  return file;
}

const FLOATING = calendar(
  vevent('float-1@test', 'DTSTART:20260314T093000', 'DTEND:20260314T113000', 'SUMMARY:Museum'),
  vevent('float-2@test', 'DTSTART:20260315T190000', 'SUMMARY:Dinner'),
);

/** One server per host zone, all reading the same files. */
async function serverUnder(hostZone: string): Promise<Connected> {
  return connect({ env: { TZ: hostZone, TRIPCAL_DATA_DIR: tempDir() }, args: ['--config', configFile()] });
}

describe('floating times (no TZID, no Z)', () => {
  const hosts = ['Pacific/Chatham', 'America/St_Johns', 'UTC'];
  const servers: Connected[] = [];
  beforeAll(async () => {
    for (const zone of hosts) servers.push(await serverUnder(zone));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  test('outside a trip they are read in the user\'s zone, the same on every host', async () => {
    const [museum, museumEnd, dinner] = oracleInstants([
      { zone: USER_ZONE, wall: '2026-03-14T09:30:00' },
      { zone: USER_ZONE, wall: '2026-03-14T11:30:00' },
      { zone: USER_ZONE, wall: '2026-03-15T19:00:00' },
    ]);
    for (const server of servers) {
      const out = structured(await server.call('import_ics', { ics: FLOATING }));
      expect(out.created).toHaveLength(2);
      const byName = new Map<string, any>((out.created as any[]).map((i) => [i.summary, i]));
      const host = `host ${hosts[servers.indexOf(server)]}`;
      expect(byName.get('Museum').start, host).toMatchObject({ utc: museum, timezone: USER_ZONE });
      expect(byName.get('Museum').end.utc, host).toBe(museumEnd);
      expect(byName.get('Dinner').start, host).toMatchObject({ utc: dinner, timezone: USER_ZONE });
      // A second import of the same file is a no-op on every host: the source keys do not depend on the host.
      const again = structured(await server.call('import_ics', { ics: FLOATING }));
      expect(again.created).toHaveLength(0);
    }
  });

  test('inside a trip they are read in the trip\'s zone', async () => {
    const [museum] = oracleInstants([{ zone: 'Pacific/Chatham', wall: '2026-03-14T09:30:00' }]);
    for (const server of servers) {
      const trip = structured(await server.call('create_trip', { title: 'Chatham Islands', timezone: 'Pacific/Chatham' }));
      const out = structured(await server.call('import_ics', { ics: FLOATING.replaceAll('UID:float-', 'UID:trip-float-'), trip_id: trip.trip_id }));
      const starts = (out.created as any[]).map((i) => i.start.utc);
      expect(starts).toContain(museum);
      expect((out.created as any[]).every((i) => i.start.timezone === 'Pacific/Chatham')).toBe(true);
    }
  });
});

/** One server on a Chatham host for the TZID and hostile-file tests. */
let server: Connected;
beforeAll(async () => {
  server = await serverUnder('Pacific/Chatham');
});
afterAll(async () => {
  await server?.close();
});

describe('TZID times', () => {
  test('a wall time in the repeated hour is its first occurrence (RFC 5545 §3.3.5)', async () => {
    const ics = calendar(vevent('rep@test', 'DTSTART;TZID=America/New_York:20261101T013000', 'DTEND;TZID=America/New_York:20261101T020000', 'SUMMARY:Late show'));
    const out = structured(await server.call('import_ics', { ics }));
    const [start, end] = oracleInstants([
      { zone: 'America/New_York', wall: '2026-11-01T01:30:00' },
      { zone: 'America/New_York', wall: '2026-11-01T02:00:00' },
    ]);
    expect(start).toBe('2026-11-01T05:30:00Z');
    expect(out.created[0].start).toMatchObject({ utc: start, timezone: 'America/New_York' });
    expect(out.created[0].end.utc).toBe(end);
  });
});

describe('bad and hostile files', () => {
  const MIXED = calendar(
    vevent('good@test', 'DTSTART:20260601T080000Z', 'DTEND:20260601T090000Z', 'SUMMARY:Good'),
    vevent('bad-start@test', 'DTSTART:garbage', 'SUMMARY:Bad start'),
    vevent('bad-end@test', 'DTSTART:20260601T100000Z', 'DTEND:notatime', 'SUMMARY:Bad end'),
  );

  test('import_ics skips each bad event with its UID and the property at fault, and imports the good one', async () => {
    const result = await server.call('import_ics', { ics: MIXED });
    expect(result.isError).toBeFalsy();
    const out = structured(result);
    expect(out.created.map((i: any) => i.start.utc)).toEqual(['2026-06-01T08:00:00Z']);
    expect(out.skipped).toEqual(expect.arrayContaining([
      expect.objectContaining({ uid: 'bad-start@test', reason: expect.stringMatching(/^DTSTART "garbage" is not a date/) }),
      expect.objectContaining({ uid: 'bad-end@test', reason: expect.stringMatching(/^DTEND "notatime" is not a date/) }),
    ]));
  });

  test('an RRULE without end that repeats every second is skipped in words, not an internal error', async () => {
    const ics = calendar(
      vevent('every-second@test', 'DTSTART:20260601T080000Z', 'RRULE:FREQ=SECONDLY', 'SUMMARY:Spam'),
      vevent('anchor@test', 'DTSTART:20260601T080000Z', 'DTEND:20260603T080000Z', 'SUMMARY:Anchor'),
    );
    const out = structured(await server.call('import_ics', { ics }));
    expect(out.skipped).toEqual([expect.objectContaining({ uid: 'every-second@test', reason: expect.stringMatching(/RRULE .*at most 1000/) })]);
    expect(out.created).toHaveLength(1);
  });

  test('a file with more events than can be read is refused before parsing, naming the limit', async () => {
    const many = calendar(...Array.from({ length: 6000 }, (_, i) => vevent(`m${i}@test`, 'DTSTART:20260601T080000Z', 'SUMMARY:x')));
    const result = await server.call('import_ics', { ics: many });
    expect(result.isError).toBe(true);
    const text = JSON.stringify(result.content);
    expect(text).toMatch(/ics: holds 6000 events; at most 5000/);
    // The server is still there and still answers.
    expect(structured(await server.call('list_trips', {})).success).toBe(true);
  });

  describe('tripcal import', () => {
    const run = (file: string) => spawnSync(process.execPath, [CLI, '--config', configFile(), 'import', file], {
      env: { ...process.env, TRIPCAL_DATA_DIR: tempDir() }, encoding: 'utf8', timeout: 60_000,
    });

    test('imports the good events, lists the bad ones, and exits non-zero', () => {
      const file = join(tempDir(), 'mixed.ics');
      writeFileSync(file, MIXED);
      const r = run(file);
      expect(r.stdout).toMatch(/^added {5}/m);
      expect(r.stdout).toMatch(/^skipped +bad-start@test: DTSTART "garbage" is not a date/m);
      expect(r.stdout).toMatch(/1 added, 0 updated, 0 unchanged, 2 skipped/);
      expect(r.stderr).toMatch(/2 of the file's entries were not imported/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.status).toBe(1);
    });

    test('a file of no known kind is an error, not "1 skipped"', () => {
      const file = join(tempDir(), 'x.txt');
      writeFileSync(file, 'Dear traveller, your booking is confirmed.\n');
      const r = run(file);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/FILE: .*x\.txt is neither iCalendar \(BEGIN:VCALENDAR\) nor schema\.org reservations/);
      expect(r.stdout).toBe('');
    });

    test('a file far too large is refused before it is read', () => {
      const file = join(tempDir(), 'huge.ics');
      const event = vevent('h@test', 'DTSTART:20260601T080000Z', 'SUMMARY:x');
      writeFileSync(file, calendar(Array.from({ length: 250_000 }, () => event).join('\r\n')));
      const r = run(file);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/huge\.ics is [\d,]+ bytes; a file to import may be at most 5,000,000/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
