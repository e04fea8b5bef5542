// .ics tools: export_trip (RFC 5545 text of a trip) and import_ics (a booking or calendar file).
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import { renderCalendar } from '../../ics/export.js';
import type { Item } from '../../model/types.js';
import { cleanText, TripIdSchema, UserIdSchema } from '../../model/schemas.js';
import { importReservations } from '../../trips/reservations.js';
import { itemView } from '../../trips/views.js';
import { handled, ok } from '../result.js';
import { ItemShape, itemText, SyncShape, untrusted, UntrustedShape } from '../shapes.js';
import { MAX_ICS_CHARS } from '../../ics/import.js';
import { MAX_RESERVATION_CHARS } from '../../trips/booking-text.js';

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
      description: 'Add the flights, hotel stays, events, restaurant tables, rental cars, trains and buses of a booking confirmation: schema.org JSON-LD, an HTML page or a whole e-mail (.eml) containing <script type="application/ld+json">. Importing the same reservation again updates its item instead of duplicating it; what cannot be used is listed in `skipped` with the reason.',
      inputSchema: {
        user_id: UserIdSchema,
        content: z.string().min(1).max(MAX_RESERVATION_CHARS).describe('The JSON-LD, HTML or raw e-mail text'),
        trip_id: TripIdSchema.optional().describe('Trip to import into; omit to place each item by its dates'),
      },
      outputSchema: importOutput(z.array(ItemShape), z.object({ type: z.string(), reservation_number: z.string().nullable(), reason: z.string() })),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    handled('import_reservations', async (args) => {
      const result = await importReservations(app.trips, args.user_id, args.content, args.trip_id);
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
