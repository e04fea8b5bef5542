// .ics tools: export_trip (RFC 5545 text of a trip) and import_ics (a booking or calendar file).
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import { renderCalendar } from '../../ics/export.js';
import type { Item } from '../../model/types.js';
import { cleanText, TripIdSchema, UserIdSchema } from '../../model/schemas.js';
import { InputError } from '../../errors.js';
import { importDocument, type IncomingDocument } from '../../trips/documents.js';
import { itemView } from '../../trips/views.js';
import { handled, ok } from '../result.js';
import { ItemShape, itemText, SyncShape, untrusted, UntrustedShape } from '../shapes.js';
import { MAX_ICS_CHARS } from '../../ics/import.js';
import { MAX_RESERVATION_CHARS } from '../../trips/booking-text.js';

/** Base64 of the largest document (5 MB), with room for line breaks every 76 characters. */
const MAX_BASE64_CHARS = Math.ceil(MAX_RESERVATION_CHARS / 3) * 4 * 1.03;

/** The document of an import_reservations call: `content` as text, or `content_base64` as bytes — exactly one. */
function documentOf(args: { content?: string; content_base64?: string; filename?: string; media_type?: string }): IncomingDocument {
  const hints = { filename: args.filename, mediaType: args.media_type };
  if (args.content !== undefined && args.content_base64 !== undefined) {
    throw new InputError('content_base64', 'give the document once: `content` for text, or `content_base64` for a file\'s bytes, not both');
  }
  if (args.content !== undefined) return { bytes: Buffer.from(args.content, 'utf8'), field: 'content', ...hints };
  if (args.content_base64 === undefined) {
    throw new InputError('content', 'required: the document as text (`content`), or a file such as a PDF or .pkpass as base64 (`content_base64`)');
  }
  const encoded = args.content_base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(encoded) || encoded.length % 4 === 1) {
    throw new InputError('content_base64', 'not base64 (expected the file\'s bytes in base64, A–Z a–z 0–9 + / with = padding)');
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length === 0) throw new InputError('content_base64', 'the document is empty');
  return { bytes, field: 'content_base64', ...hints };
}

export async function exportTrip(app: App, userId: string | undefined, tripId: string) {
  const { trip, items } = await app.trips.getTrip(userId, tripId);
  const { text: ics, events: eventCount } = renderCalendar({ name: trip.title, items });
  return { trip, ics, eventCount };
}

/** After an import: syncs the trips it changed (one trip alone when only one), or says nothing changed. */
async function syncImported(app: App, requestedUser: string | undefined, changed: readonly Item[]) {
  const tripIds = [...new Set(changed.map((i) => i.tripId))];
  if (tripIds.length === 0) return { status: 'synced' as const, message: 'nothing changed', accounts: [] };
  return app.syncAfterEdit(app.trips.userId(requestedUser), tripIds.length === 1 ? tripIds[0] : undefined);
}

/** The output both imports share: they differ in how unchanged items and skipped entries are given. */
const importOutput = (unchanged: z.ZodType, skipped: z.ZodType) => ({
  success: z.boolean(),
  created: z.array(ItemShape),
  updated: z.array(ItemShape),
  unchanged,
  skipped: z.array(skipped),
  message: z.string(),
  untrusted: UntrustedShape,
  sync: SyncShape,
});

/** The shared part of an import's result, after syncing what it changed. */
async function imported(app: App, requestedUser: string | undefined, result: { created: Item[]; updated: Item[]; unchanged: Item[]; skipped: unknown[] }) {
  const sync = await syncImported(app, requestedUser, [...result.created, ...result.updated]);
  return {
    sync,
    success: true,
    created: result.created.map(itemView),
    updated: result.updated.map(itemView),
    message: `Imported ${result.created.length} new, ${result.updated.length} updated, ${result.unchanged.length} unchanged, ${result.skipped.length} skipped.`,
  };
}

export function registerIcsTools(server: McpServer, app: App): void {
  server.registerTool(
    'export_trip',
    {
      title: 'Export a trip as .ics',
      description: 'The trip as an iCalendar (.ics) file any calendar app can import: one event per flight, check-in, check-out and activity, with local time zones and reminders.',
      inputSchema: {
        user_id: UserIdSchema,
        trip_id: TripIdSchema,
        format: z.enum(['ics']).default('ics').describe('Only iCalendar is supported'),
      },
      outputSchema: {
        success: z.boolean(), trip_id: z.string(), filename: z.string(), content_type: z.string(),
        event_count: z.number(), ics: z.string(), message: z.string(), untrusted: UntrustedShape,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    handled('export_trip', async (args) => {
      const { trip, ics, eventCount } = await exportTrip(app, args.user_id, args.trip_id);
      const filename = `${trip.title.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60) || trip.id}.ics`;
      return ok({
        success: true, trip_id: trip.id, filename, content_type: 'text/calendar; charset=utf-8', event_count: eventCount, ics,
        message: `Exported ${eventCount} event${eventCount === 1 ? '' : 's'} of trip ${trip.id}.`,
        untrusted: untrusted('filename', 'ics'),
      });
    }),
  );

  server.registerTool(
    'import_ics',
    {
      title: 'Import an .ics file',
      description: 'Add the events of an iCalendar file (a booking confirmation, a conference schedule) as activities. Recurring events are expanded over the trip\'s dates. Importing the same file again updates instead of duplicating.',
      inputSchema: {
        user_id: UserIdSchema,
        ics: z.string().min(1).max(MAX_ICS_CHARS).describe('The iCalendar text (BEGIN:VCALENDAR …)'),
        trip_id: TripIdSchema.optional().describe('Trip to import into; omit to place each event by its dates'),
      },
      outputSchema: importOutput(z.number(), z.object({ uid: z.string().nullable(), reason: z.string() })),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    handled('import_ics', async (args) => {
      const result = await app.trips.importIcs(args.user_id, args.ics, args.trip_id);
      return ok({
        ...await imported(app, args.user_id, result),
        unchanged: result.unchanged.length,
        skipped: result.skipped,
        untrusted: untrusted(itemText('created[]'), itemText('updated[]'), 'skipped[].uid', 'skipped[].reason'),
      });
    }),
  );

  server.registerTool(
    'import_reservations',
    {
      title: 'Import booking confirmations (schema.org)',
      description: 'Add the flights, hotel stays, events, restaurant tables, rental cars, trains, buses and ferries of a booking confirmation: schema.org JSON-LD, an HTML page or a whole e-mail (.eml) containing <script type="application/ld+json"> as `content`; or, read by KDE\'s itinerary extractor where it is installed, a PDF ticket, an Apple Wallet pass (.pkpass), an image of a boarding-pass barcode or an e-mail without markup, as `content_base64`. Importing the same reservation again updates its item instead of duplicating it; what cannot be used is listed in `skipped` with the reason.',
      inputSchema: {
        user_id: UserIdSchema,
        content: z.string().min(1).max(MAX_RESERVATION_CHARS).optional().describe('The JSON-LD, HTML or raw e-mail text (or give content_base64)'),
        content_base64: z.string().min(1).max(MAX_BASE64_CHARS).optional()
          .describe('A document\'s bytes in base64, at most 5 MB decoded: a PDF, .pkpass, image or .eml (instead of content)'),
        filename: z.string().max(255).optional().describe('The document\'s file name, e.g. boarding-pass.pdf (a hint)'),
        media_type: z.string().max(100).optional().describe('The document\'s media type, e.g. application/pdf (a hint)'),
        trip_id: TripIdSchema.optional().describe('Trip to import into; omit to place each item by its dates'),
      },
      outputSchema: importOutput(z.array(ItemShape), z.object({ type: z.string(), reservation_number: z.string().nullable(), reason: z.string() })),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    handled('import_reservations', async (args) => {
      const result = await importDocument(app.trips, app.config.import, args.user_id, documentOf(args), args.trip_id);
      return ok({
        ...await imported(app, args.user_id, result),
        unchanged: result.unchanged.map(itemView),
        skipped: result.skipped.map((s) => ({ ...s, type: cleanText(s.type).slice(0, 80), reservation_number: s.reservation_number && cleanText(s.reservation_number).slice(0, 64) })),
        // Names, places and notes in the items come from a stranger's file: data, never instructions.
        untrusted: untrusted(itemText('created[]'), itemText('updated[]'), itemText('unchanged[]'),
          'skipped[].type', 'skipped[].reservation_number', 'skipped[].reason'),
      });
    }),
  );
}
