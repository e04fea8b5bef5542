// The command line as a new user meets it: zero config, export, import, list, doctor, errors.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, connect, SPEC_FLIGHT, structured, tempDir } from '../support/mcp.js';
import { parseWithPython } from '../support/parsers.js';

function tripcal(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the command line', () => {
  test('with no configuration at all, data lands under $XDG_DATA_HOME/tripcal', () => {
    const home = tempDir();
    const env = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), TRIPCAL_DATA_DIR: '' };
    const out = tripcal(['doctor', '--json'], env);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      config: 'none (built-in defaults)', data_dir: join(home, 'data', 'tripcal'), schema_version: 11, schema_latest: 11, journal_mode: 'wal', airport_data: 'ok',
      push: 'off (needs http.public_url on https; accounts are polled on sync.schedule)',
    });
  });

  test('export writes what the MCP tools made; import reads a booking; both are idempotent', async () => {
    const dataDir = tempDir();
    const server = await connect({ dataDir });
    const { trip_id } = structured(await server.call('add_flight', { flight_details: SPEC_FLIGHT.flight_details, remind_before: 48 }));
    await server.close();

    const file = join(dataDir, 'trip.ics');
    const exported = tripcal(['export', trip_id, '-o', file, '--data-dir', dataDir]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('Wrote 1 events');
    const [event] = parseWithPython(readFileSync(file, 'utf8')).events;
    expect(event!.dtstart).toEqual({ value: '2025-06-15T01:00:00-07:00', tzid: 'America/Los_Angeles' });
    expect(tripcal(['export', trip_id, '--data-dir', dataDir]).stdout).toBe(readFileSync(file, 'utf8'));

    const booking = join(dataDir, 'booking.ics');
    writeFileSync(booking, ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', 'UID:show-9@example.com', 'DTSTAMP:20250101T000000Z',
      'DTSTART;TZID=America/New_York:20250615T200000', 'DTEND;TZID=America/New_York:20250615T223000', 'SUMMARY:Hamilton', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'));
    const first = tripcal(['import', booking, '--trip', trip_id, '--data-dir', dataDir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/1 added, 0 updated, 0 unchanged, 0 skipped/);
    expect(tripcal(['import', booking, '--data-dir', dataDir]).stdout).toMatch(/0 added, 0 updated, 1 unchanged/);
    const listed = JSON.parse(tripcal(['list', '--json', '--data-dir', dataDir]).stdout);
    expect(listed).toMatchObject([{ id: trip_id, item_count: 2, start_date: '2025-06-15', end_date: '2025-06-15' }]);
  });

  test('mistakes get a clear message and a meaningful exit code', () => {
    const dataDir = tempDir();
    const missingTrip = tripcal(['export', 'trip_nope', '--data-dir', dataDir]);
    expect(missingTrip.code).toBe(1);
    expect(missingTrip.stderr).toMatch(/trip_id: no trip "trip_nope"/);
    expect(tripcal(['import', '/nonexistent.ics', '--data-dir', dataDir]).stderr).toMatch(/FILE: cannot read/);
    const config = join(dataDir, 'bad.yaml');
    writeFileSync(config, 'users:\n  me:\n    timezone: Atlantis/Capital\n');
    const bad = tripcal(['doctor', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('users.me.timezone: not an IANA time zone');
    expect(tripcal(['frobnicate']).code).toBe(2);
    const bare = tripcal([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: tripcal');
    expect(tripcal(['--help']).stdout.replace(/\s+/g, ' ')).toContain('else ~/.local/share/tripcal');
  });

  test('a reader that stops early (doctor | head -3) ends the command quietly', () => {
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" --data-dir "${tempDir()}" doctor | head -3; echo "status \${PIPESTATUS:-done}"`], { encoding: 'utf8' });
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(4);
    expect(result.stderr).toBe('');
  });

  test('serve speaks MCP on stdout and logs only to stderr', async () => {
    const server = await connect();
    await server.client.listTools();
    await server.close();
    expect(server.stderr()).toContain('tripcal MCP server on stdio');
  });
});
