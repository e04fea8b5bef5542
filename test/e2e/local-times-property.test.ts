// The property behind "every flight at the right local times": random flights between airports
// weighted towards multi-zone countries and odd zones (Chatham +12:45, Lord Howe's half-hour DST,
// Kathmandu +05:45, Newfoundland -03:30, Kiribati +14, Monrovia's -00:44:30 until 1972), on random
// dates 1970–2037, a third aimed at the minutes around a zone's offset changes (gaps and
// repeated hours), given as wall times, offsets or UTC. Made through the MCP tools, exported,
// read back with python3-icalendar; every DTSTART/DTEND is the instant zoneinfo gives, and start
// comes before end. A departure the clocks skip is refused, naming the field. The cases and the
// expected instants come from test/support/tzoracle.py, never from tripcal.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { oracleFlights, readWithOracle, type OracleFlight } from '../support/parsers.js';

/** Airport → zone, from each airport's own published location (not from tripcal's data set). */
const AIRPORTS: Record<string, string> = {
  LAX: 'America/Los_Angeles', JFK: 'America/New_York', ORD: 'America/Chicago', DEN: 'America/Denver', PHX: 'America/Phoenix',
  ANC: 'America/Anchorage', HNL: 'Pacific/Honolulu', YYT: 'America/St_Johns', YVR: 'America/Vancouver', YHZ: 'America/Halifax',
  MEX: 'America/Mexico_City', GRU: 'America/Sao_Paulo', REC: 'America/Recife', SCL: 'America/Santiago', IPC: 'Pacific/Easter',
  EZE: 'America/Argentina/Buenos_Aires', MVD: 'America/Montevideo', ASU: 'America/Asuncion', HAV: 'America/Havana', BOG: 'America/Bogota',
  LHR: 'Europe/London', FRA: 'Europe/Berlin', CDG: 'Europe/Paris', LIS: 'Europe/Lisbon', PDL: 'Atlantic/Azores', LPA: 'Atlantic/Canary',
  SVO: 'Europe/Moscow', CAI: 'Africa/Cairo', ROB: 'Africa/Monrovia', JNB: 'Africa/Johannesburg', NBO: 'Africa/Nairobi',
  DXB: 'Asia/Dubai', THR: 'Asia/Tehran', DEL: 'Asia/Kolkata', KTM: 'Asia/Kathmandu', ULN: 'Asia/Ulaanbaatar', NRT: 'Asia/Tokyo',
  SYD: 'Australia/Sydney', ADL: 'Australia/Adelaide', PER: 'Australia/Perth', LDH: 'Australia/Lord_Howe', AKL: 'Pacific/Auckland',
  CHT: 'Pacific/Chatham', TRW: 'Pacific/Tarawa', CXI: 'Pacific/Kiritimati', APW: 'Pacific/Apia', PPT: 'Pacific/Tahiti',
  NOU: 'Pacific/Noumea', GUM: 'Pacific/Guam', TBU: 'Pacific/Tongatapu',
};
const ODD = { CHT: 6, LDH: 6, KTM: 4, YYT: 5, CXI: 4, APW: 4, TBU: 3, ROB: 3, REC: 3, IPC: 3, SCL: 4, LIS: 2, PDL: 3, ADL: 3, THR: 3, ASU: 3, HAV: 3 };
const CASES = Number(process.env.TRIPCAL_TIME_CASES ?? 2000);
const SEED = Number(process.env.TRIPCAL_TIME_SEED ?? 20261204);
const BATCH = 200;

let server: Connected;
beforeAll(async () => {
  server = await connect({ env: { TRIPCAL_DATA_DIR: tempDir(), TRIPCAL_LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await server?.close();
});

const details = (f: OracleFlight) => ({
  airline: 'Property Air', flight_number: `PA${f.n}`, departure_airport: f.dep, arrival_airport: f.arr,
  departure_time: f.departure_time, arrival_time: f.arrival_time,
});

test(`${CASES} random flights (seed ${SEED}): tool times and exported DTSTART/DTEND are zoneinfo's instants`, async () => {
  const flights = oracleFlights(SEED, CASES, AIRPORTS, ODD);
  const valid = flights.filter((f) => !f.refused);
  const refused = flights.filter((f) => f.refused);
  // The generator must reach what it aims at, or the property proves little.
  expect(refused.length).toBeGreaterThan(CASES / 100);
  expect(valid.filter((f) => /[+-]\d\d:\d\d$/.test(f.departure_time)).length).toBeGreaterThan(CASES / 10);

  const mismatches: string[] = [];
  for (let i = 0; i < valid.length; i += BATCH) {
    const batch = valid.slice(i, i + BATCH);
    const out = structured(await server.call('create_itinerary', { trip_name: `Property batch ${i / BATCH}`, flights: batch.map(details) }));
    const byNumber = new Map(out.events.map((e: { details: { flight_number: string } }) => [e.details.flight_number, e]));
    const ids = new Map<string, OracleFlight>();
    for (const f of batch) {
      const item = byNumber.get(`PA${f.n}`) as { id: string; start: { utc: string; timezone: string }; end: { utc: string; timezone: string } };
      ids.set(`${item.id}:flight`, f);
      if (item.start.utc !== f.start_utc || item.end.utc !== f.end_utc || item.start.timezone !== f.dep_zone || item.end.timezone !== f.arr_zone) {
        mismatches.push(`tool PA${f.n} ${f.dep} ${f.departure_time} → ${f.arr} ${f.arrival_time}: got ${item.start.utc} (${item.start.timezone}) → ${item.end.utc}, want ${f.start_utc} → ${f.end_utc}`);
      }
    }
    const exported = structured(await server.call('export_trip', { trip_id: out.trip_id }));
    const read = readWithOracle(exported.ics as string);
    mismatches.push(...read.problems);
    expect(read.events).toHaveLength(batch.length);
    for (const event of read.events) {
      const f = ids.get(event.key)!;
      const start = event.start.utc;
      const end = event.end?.utc ?? null;
      const zones = [event.start.tzid ?? event.start_zone, event.end?.tzid ?? event.end_zone];
      if (start !== f.start_utc || end !== f.end_utc || zones[0] !== f.dep_zone || zones[1] !== f.arr_zone || !(start! <= end!)) {
        mismatches.push(`ics PA${f.n} ${f.dep} ${f.departure_time} → ${f.arr} ${f.arrival_time}: read ${start} (${zones[0]}) → ${end} (${zones[1]}), want ${f.start_utc} → ${f.end_utc}`);
      }
    }
  }
  for (const f of refused) {
    const result = await server.call('add_flight', { flight_details: details(f) });
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    if (!result.isError || !/departure_time/.test(text) || !/does not exist/.test(text)) mismatches.push(`gap PA${f.n} ${f.dep} ${f.departure_time}: ${text.slice(0, 200)}`);
  }
  expect(mismatches.slice(0, 20)).toEqual([]);
}, 600_000);
