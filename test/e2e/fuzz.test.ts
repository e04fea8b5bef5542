// Property-based fuzzing of every tool through the real client: wrong types, missing fields, huge
// strings, impossible dates, SQL-looking text, unknown ids, odd unicode. Each call either
// succeeds or returns isError and leaves the database exactly as it was; the error names the path
// of the field the test broke (`flights[0].arrival_airport`, as zod and tripcal write it) or one
// inside it, unless the unbroken call fails the same way. The server keeps serving throughout.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { dumpDatabase } from '../support/app.js';
import { connect, SPEC_FLIGHT, structured, type Connected } from '../support/mcp.js';

let server: Connected;
let db: Database.Database;
const baselines: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  server = await connect();
  const flight = structured(await server.call('add_flight', { flight_details: SPEC_FLIGHT.flight_details }));
  db = new Database(join(server.dataDir, 'tripcal.db'), { readonly: true });
  const ics = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f@x\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250615T100000Z\r\nSUMMARY:Fuzz\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
  Object.assign(baselines, {
    add_flight: { flight_details: SPEC_FLIGHT.flight_details, remind_before: 48 },
    add_accommodation: { accommodation_details: { name: 'The Plaza', check_in: '2025-06-15', check_out: '2025-06-18', timezone: 'America/New_York' } },
    add_activity: { activity_details: { name: 'Tour', start_time: '2025-06-16T10:00', end_time: '2025-06-16T12:00', timezone: 'America/New_York' } },
    create_itinerary: { trip_name: 'Fuzz trip', flights: [SPEC_FLIGHT.flight_details], accommodations: [], activities: [] },
    create_trip: { title: 'T', start_date: '2025-06-01', end_date: '2025-06-03', timezone: 'Europe/Paris' },
    list_trips: { user_id: 'me' },
    get_trip: { trip_id: flight.trip_id },
    update_item: { item_id: flight.event_id, changes: { seat: '3A' }, expected_version: 1 },
    export_trip: { trip_id: flight.trip_id },
    import_ics: { ics },
    delete_event: { event_id: 'item_doesnotexist' },
    delete_trip: { trip_id: 'trip_doesnotexist' },
    sync_now: { account: 'nope', trip_id: flight.trip_id, recreate: false },
    sync_status: {},
    list_calendars: { account: 'nope' },
    check_availability: { start: '2025-06-15T00:00', end: '2025-06-16T00:00', calendars: ['nope'] },
  });
});

afterAll(async () => {
  db?.close();
  await server?.close();
});

type Path = Array<string | number>;

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (value && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    return [prefix, ...entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]))].filter((p) => p.length > 0);
  }
  return prefix.length ? [prefix] : [];
}

const DELETE = Symbol('delete');

function mutate(args: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(args) as any;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key];
  const last = path[path.length - 1]!;
  if (value === DELETE) delete target[last];
  else target[last] = value;
  return copy;
}

const badValue = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(DELETE),
  fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  fc.string({ maxLength: 30 }),
  fc.string({ minLength: 5000, maxLength: 6000 }),
  fc.constantFrom(
    '', ' ', '2025-02-30T10:00', '2025-06-15T25:00', '9999-99-99', 'yesterday', "'; DROP TABLE items; --", "trip_x' OR '1'='1",
    'trip_unknown', 'item_unknown', '\u0000\u0007\u001b[31m', '\u202eevil', '😀✈️🏨', 'Zoë Ångström', 'Moon/Base', 'QQQ', '../../etc/passwd',
    'BEGIN:VCALENDAR', -1, 1e308, Number.NaN,
  ),
);

/** A field path as the SDK (zod) and tripcal's own errors write it: `flights[2].arrival_airport`. */
function dotPath(path: Path): string {
  return path.reduce<string>((acc, seg, i) => (typeof seg === 'number' ? `${acc}[${seg}]` : i === 0 ? seg : `${acc}.${seg}`), '');
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether `text` names the field at `path` (or one inside it: a broken object is reported by its
 * missing or bad members) as a whole path, not as the tail of another (`trip_id` is not `x.trip_id`).
 */
function namesPath(text: string, path: Path): boolean {
  return new RegExp(`(^|[^\\w.\\]\\[])${escape(dotPath(path))}(?![\\w])`).test(text);
}

const errorText = (result: Awaited<ReturnType<Connected['call']>>) => (result.content as Array<{ text: string }>)[0]!.text;

test('every tool survives random bad input without changing anything it refuses', async () => {
  const tools = Object.keys(baselines);
  let refused = 0;
  let calls = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...tools), fc.nat(), badValue, async (tool, pick, value) => {
      const base = baselines[tool]!;
      const paths = leafPaths(base);
      const path = paths.length ? paths[pick % paths.length]! : ['user_id'];
      const args = mutate(base, path, value);
      const before = dumpDatabase(db);
      const result = await server.call(tool, args);
      calls += 1;
      if (result.isError) {
        refused += 1;
        const text = errorText(result);
        expect(text).not.toMatch(/internal error/);
        expect(dumpDatabase(db), `${tool} refused but changed the database`).toBe(before);
        if (!namesPath(text, path)) {
          // Not about the field we broke: then it must be what the unbroken call says too (say, an
          // account that does not exist, or a version that has moved on), and not caused by the mutation.
          const unbroken = await server.call(tool, base);
          expect(unbroken.isError && errorText(unbroken), `${tool}: ${dotPath(path)} := ${JSON.stringify(value === DELETE ? 'DELETE' : value)?.slice(0, 60)}: "${text.slice(0, 300)}" does not name ${dotPath(path)}`).toBe(text);
        }
      }
    }),
    { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20251128) },
  );
  expect(calls).toBe(400);
  expect(refused).toBeGreaterThan(200);
  // Still serving, and still right.
  const after = structured(await server.call('add_flight', { flight_details: SPEC_FLIGHT.flight_details }));
  expect(after.event_details.start).toBe('2025-06-15T01:00:00-07:00');
});
