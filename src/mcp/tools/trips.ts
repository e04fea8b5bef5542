// Trip management tools: create_trip, list_trips, get_trip, delete_trip.
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import { CreateTripSchema, TripIdSchema, UserIdSchema } from '../../model/schemas.js';
import { checkTrip, type CheckOptions } from '../../trips/checks.js';
import { parseShift } from '../../trips/shift.js';
import { itinerary } from '../../trips/itinerary.js';
import { itemView, tripView } from '../../trips/views.js';
import { TRIP_VIEW_TOOL_META } from '../../web/app-resource.js';
import { handled, ok } from '../result.js';
import { ItemShape, itemText, SyncShape, TripShape, tripText, untrusted, UntrustedShape } from '../shapes.js';

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const ItineraryShape = z.array(z.object({
  date: z.string(), label: z.string(),
  entries: z.array(z.object({
    item_id: z.string(), kind: z.string(), time: z.string(), until: z.string().nullable(), summary: z.string(), location: z.string().nullable(),
  })),
}));

const WarningShape = z.object({
  code: z.enum(['overlapping_flights', 'short_connection', 'airport_mismatch', 'no_accommodation', 'overlapping_stays', 'checkin_before_arrival', 'activity_during_flight']),
  message: z.string().describe('Names the items by kind and id, with their local times'),
  item_ids: z.array(z.string()),
  items: z.array(z.object({ id: z.string(), kind: z.string(), summary: z.string() })).describe('The items involved, with their titles'),
});

/** Outside text in a result with a trip, its items and their warnings (get_trip, shift_trip). */
const TRIP_TEXT = [...tripText('trip'), ...itemText('items[]'), 'warnings[].items[].summary'];

export function checkOptions(app: App): CheckOptions {
  return { minConnectionMinutes: app.config.checks.min_connection_minutes, minConnectionMinutesInternational: app.config.checks.min_connection_minutes_international };
}

export function registerTripTools(server: McpServer, app: App): void {
  server.registerTool(
    'create_trip',
    {
      title: 'Create a trip',
      description: 'Create an empty trip to add flights, stays and activities to (with their trip_id).',
      inputSchema: { user_id: UserIdSchema, ...CreateTripSchema.shape },
      outputSchema: { success: z.boolean(), trip_id: z.string(), trip: TripShape, message: z.string(), untrusted: UntrustedShape },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    handled('create_trip', async (args) => {
      const { user_id, ...input } = args;
      const trip = await app.trips.createTrip(user_id, input);
      const { items, zone } = await app.trips.getTrip(trip.userId, trip.id);
      return ok({ success: true, trip_id: trip.id, trip: tripView(trip, items, zone), message: `Created trip ${trip.id}.`, untrusted: untrusted(tripText('trip')) });
    }),
  );

  server.registerTool(
    'list_trips',
    {
      title: 'List trips',
      description: 'List the user\'s trips, earliest first, with their dates and number of items.',
      inputSchema: { user_id: UserIdSchema },
      outputSchema: { success: z.boolean(), trips: z.array(TripShape), untrusted: UntrustedShape },
      annotations: READ,
    },
    handled('list_trips', async (args) => {
      const trips = (await app.trips.listTrips(args.user_id)).map(({ trip, items, zone }) => tripView(trip, items, zone));
      return ok({ success: true, trips, untrusted: untrusted(tripText('trips[]')) });
    }),
  );

  server.registerTool(
    'get_trip',
    {
      title: 'Get a trip',
      description: 'A trip with all its items in time order, every time shown as UTC and as local time with its zone, '
        + 'and warnings about mistakes in it (as check_trip finds them).',
      inputSchema: { user_id: UserIdSchema, trip_id: TripIdSchema },
      outputSchema: {
        success: z.boolean(), trip: TripShape, items: z.array(ItemShape), warnings: z.array(WarningShape),
        itinerary: ItineraryShape.describe('Day by day in local times, each event on the local date where it happens'),
        untrusted: UntrustedShape,
      },
      annotations: READ,
      // Hosts with MCP Apps show the result in the trip view; the text and structured result stay.
      _meta: TRIP_VIEW_TOOL_META,
    },
    handled('get_trip', async (args) => {
      const { trip, items, zone } = await app.trips.getTrip(args.user_id, args.trip_id);
      return ok({
        success: true, trip: tripView(trip, items, zone), items: items.map(itemView), warnings: checkTrip(items, checkOptions(app)), itinerary: itinerary(items),
        untrusted: untrusted(TRIP_TEXT, 'itinerary[].entries[].summary', 'itinerary[].entries[].location'),
      });
    }),
  );

  server.registerTool(
    'check_trip',
    {
      title: 'Check a trip for mistakes',
      description: 'Look for the mistakes travellers make: flights that overlap, connections shorter than the minimum (longer across a border), '
        + 'landing at one airport and leaving from another, nights without a stay, stays that overlap, a stay starting before the flight there lands, '
        + 'activities while in the air. Each warning names the items and their local times.',
      inputSchema: { user_id: UserIdSchema, trip_id: TripIdSchema },
      outputSchema: { success: z.boolean(), trip_id: z.string(), warnings: z.array(WarningShape), message: z.string(), untrusted: UntrustedShape },
      annotations: READ,
    },
    handled('check_trip', async (args) => {
      const { trip, items } = await app.trips.getTrip(args.user_id, args.trip_id);
      const warnings = checkTrip(items, checkOptions(app));
      return ok({
        success: true, trip_id: trip.id, warnings, untrusted: untrusted('warnings[].items[].summary'),
        message: warnings.length === 0 ? `No problems found in trip ${trip.id}.` : `${warnings.length} thing(s) to check in trip ${trip.id}.`,
      });
    }),
  );

  server.registerTool(
    'delete_trip',
    {
      title: 'Delete a trip',
      description: 'Delete a trip and every item in it (and so their calendar events).',
      inputSchema: { user_id: UserIdSchema, trip_id: TripIdSchema },
      outputSchema: { success: z.boolean(), trip_id: z.string(), deleted_items: z.number(), message: z.string(), sync: SyncShape },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    handled('delete_trip', async (args) => {
      const { trip, itemCount } = await app.trips.deleteTrip(args.user_id, args.trip_id);
      const sync = await app.syncAfterEdit(trip.userId, trip.id);
      return ok({
        success: true, trip_id: trip.id, deleted_items: itemCount, sync,
        message: `Deleted trip ${trip.id} and its ${itemCount} item${itemCount === 1 ? '' : 's'}. Calendar: ${sync.message}.`,
      });
    }),
  );

  server.registerTool(
    'shift_trip',
    {
      title: 'Move a whole trip in time',
      description: 'Move every item of a trip by a duration (an ISO 8601 duration: P7D a week later, -P1D a day earlier, PT2H), '
        + 'keeping local times: a 10:00 flight is at 10:00 local on the new day, also across a DST change. Dates alone move by whole days.',
      inputSchema: {
        user_id: UserIdSchema, trip_id: TripIdSchema,
        by: z.string().trim().min(2).max(40).describe('How far: P7D, -P1D, PT2H30M, P1W…'),
      },
      outputSchema: {
        success: z.boolean(), trip: TripShape, items: z.array(ItemShape), warnings: z.array(WarningShape), sync: SyncShape, message: z.string(), untrusted: UntrustedShape,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    handled('shift_trip', async (args) => {
      const { trip } = await app.trips.shiftTrip(args.user_id, args.trip_id, parseShift(args.by, 'by'));
      const { items, zone } = await app.trips.getTrip(trip.userId, trip.id);
      const sync = await app.syncAfterEdit(trip.userId, trip.id);
      return ok({
        success: true, trip: tripView(trip, items, zone), items: items.map(itemView), warnings: checkTrip(items, checkOptions(app)), sync,
        message: `Moved the ${items.length} item(s) of trip ${trip.id} by ${args.by}. Calendar: ${sync.message}.`,
        untrusted: untrusted(TRIP_TEXT),
      });
    }),
  );
}
