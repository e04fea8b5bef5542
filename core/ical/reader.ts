// node-ical, loaded the first time something is read. It brings two Temporal polyfills and an
// RRULE engine (some 15 MB of code and heap), which a sync that reads no event must not pay for.
// Loaded with require, so a synchronous reader (a provider's expectedContent) can use it too;
// the bundle leaves it to node_modules, so every reader in the process shares one copy.
import { createRequire } from 'node:module';
import type * as NodeIcal from 'node-ical';

let loaded: typeof NodeIcal | undefined;

export function nodeIcal(): typeof NodeIcal {
  loaded ??= createRequire(import.meta.url)('node-ical') as typeof NodeIcal;
  return loaded;
}
