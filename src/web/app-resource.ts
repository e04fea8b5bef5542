// The MCP App resource of the trip view (the MCP Apps extension): ui://tripcal/trip-view, an HTML
// document that hosts supporting the extension render inline next to get_trip and
// create_itinerary results (their `_meta.ui.resourceUri`). The document carries the view's
// style and script inline (a host gives it no origin to load them from); the script is the
// browser bundle of web/app-main.ts, which scripts/bundle.mjs builds with esbuild and puts
// into the bundled tripcal as TRIPCAL_TRIP_VIEW_SCRIPT. Run unbundled (tsc output, tests from
// source), there is no script and the document says so.
import { STYLE } from './style.js';

export const TRIP_VIEW_URI = 'ui://tripcal/trip-view';
/** RESOURCE_MIME_TYPE of @modelcontextprotocol/ext-apps. */
export const TRIP_VIEW_MIME = 'text/html;profile=mcp-app';

/** A tool's `_meta` linking the view: the current key and the older flat one hosts still read. */
export const TRIP_VIEW_TOOL_META = { ui: { resourceUri: TRIP_VIEW_URI }, 'ui/resourceUri': TRIP_VIEW_URI } as const;

/**
 * The resource's own `_meta.ui`: a border around it. No `csp`: the view loads and connects to
 * nothing outside its document, which is what a host allows when none is declared.
 */
export const TRIP_VIEW_RESOURCE_META = { ui: { prefersBorder: true } };

declare const TRIPCAL_TRIP_VIEW_SCRIPT: string | undefined;

const script = typeof TRIPCAL_TRIP_VIEW_SCRIPT === 'string' ? TRIPCAL_TRIP_VIEW_SCRIPT : undefined;

/** The App's document. */
export function tripViewHtml(): string {
  const body = script
    ? `<main id="trip" aria-busy="true" aria-live="polite"><p class="muted">Waiting for the trip…</p></main><script>${script}</script>`
    : '<main id="trip"><p class="notice">This build of tripcal has no trip view (build it with npm run build).</p></main>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Trip</title>`
    + `<style>${STYLE}body{padding:.5rem}</style></head><body>${body}</body></html>`;
}
