// Windows time zone names ("Tokyo Standard Time") as IANA zones. Outlook and Exchange may give
// either form back for the same zone (an event re-saved in Outlook carries the Windows name),
// so every remote time is read through here. The mapping is CLDR's windowsZones (the territory
// "001" zone of each Windows name), as node-ical ships it in windowsZones.json; it is loaded on
// first use, so only code reading remote zones pays for it.
import { createRequire } from 'node:module';
import { canonicalZone } from './names.js';

let table: Record<string, { iana?: string[] }> | undefined;

function windowsTable(): Record<string, { iana?: string[] }> {
  table ??= createRequire(import.meta.url)('node-ical/windowsZones.json') as Record<string, { iana?: string[] }>;
  return table;
}

/**
 * The IANA zone a remote calendar means by `name`: an IANA name in any spelling, a Windows name,
 * or (as Outlook writes in older events) a Windows display name like "(UTC+09:00) Osaka, Sapporo,
 * Tokyo". UTC in any form is `UTC`. Null when it names no zone tripcal knows.
 */
export function remoteZone(name: string | null | undefined): string | null {
  if (!name) return null;
  const typed = name.trim();
  if (/^(Etc\/)?(UTC|GMT|UCT|Zulu|Universal|Greenwich)$/i.test(typed)) return 'UTC';
  const direct = canonicalZone(typed);
  if (direct) return direct;
  const mapped = windowsTable()[typed]?.iana?.[0];
  if (!mapped) return null;
  return /^Etc\/(UTC|GMT)$/.test(mapped) ? 'UTC' : canonicalZone(mapped);
}
