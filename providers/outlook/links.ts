// Links Graph hands back (@odata.nextLink, @odata.deltaLink, or one kept in a sync cursor) are
// followed only when they point at the configured Graph origin: the bearer token goes nowhere
// else, whatever a page says.
import { InvalidError } from '../types.js';

/** `link` when it is relative or on `graph`'s origin; an InvalidError naming both origins otherwise. */
export function sameOrigin(link: string, graph: string): string {
  if (link.startsWith('/')) return link;
  const allowed = new URL(graph).origin;
  let origin: string;
  try {
    origin = new URL(link).origin;
  } catch {
    throw new InvalidError(`Microsoft Graph sent a link that is not a URL (${link.slice(0, 80)})`);
  }
  if (origin !== allowed) {
    throw new InvalidError(`Microsoft Graph sent a link to ${origin}, not ${allowed}: it is not followed, so the account's token stays with Graph`);
  }
  return link;
}
