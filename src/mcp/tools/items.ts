// Item tools of the original specification (add_flight, add_accommodation, add_activity,
// create_itinerary, delete_event) plus update_item. Thin: validate, call Trips, shape the result.
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import { NotFoundError } from '../../errors.js';
import {
  ActivityDetailsSchema, CreateTripSchema, FlightDetailsSchema, RemindBeforeSchema, StayDetailsSchema, TripIdSchema, UserIdSchema,
} from '../../model/schemas.js';
import type { ItemDetails } from '../../model/types.js';
import { itemLine, itemView, tripView } from '../../trips/views.js';
import type { AddItemResult } from '../../trips/service.js';
import { TRIP_VIEW_TOOL_META } from '../../web/app-resource.js';
import { handled, ok } from '../result.js';
import { AddItemOutput, ItemShape, itemText, SyncShape, TripShape, tripText, untrusted, UntrustedShape } from '../shapes.js';

const tripIdInput = TripIdSchema.optional().describe(
  'Trip to add to; omit to join the trip whose dates it overlaps (±1 day) or start a new one',
);

async function addResult(app: App, result: AddItemResult) {
  const view = itemView(result.item);
  const where = result.tripCreated ? 'a new trip' : 'trip';
  const sync = await app.syncAfterEdit(result.item.userId, result.trip.id);
  const primary = await app.sync.primaryLink(result.item.userId, result.item.id);
  return ok({
    success: true,
    event_id: primary?.remoteId ?? result.item.id,
    item_id: result.item.id,
    trip_id: result.trip.id,
    trip_created: result.tripCreated,
    duplicate: result.duplicate === true,
    event_details: {
      summary: view.summary,
      start: view.start.local,
      end: view.end.local,
      start_timezone: view.start.timezone,
      end_timezone: view.end.timezone,
      start_utc: view.start.utc,
      end_utc: view.end.utc,
      calendar_link: primary?.remoteLink ?? await app.calendarLink(result.item.userId),
    },
    message: result.duplicate
      ? `Already there: ${itemLine(result.item)} in trip ${result.trip.id}; nothing was added `
        + '(pass allow_duplicate: true to add a second copy). Calendar: ' + `${sync.message}.`
      : `Added ${itemLine(result.item)} to ${where} ${result.trip.id}. Calendar: ${sync.message}.`,
    untrusted: untrusted(itemText('item'), 'event_details.summary'),
    item: view,
    sync,
  });
}

const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;

/** An item id, an event key or UID (both begin with the item id), or a calendar's own event id. */
async function itemIdOf(app: App, id: string, field: string): Promise<string> {
  // A CalDAV event is known by its path; its whole URL (the calendar_link) names it as well.
  const path = /^https?:\/\//.test(id) ? URL.canParse(id) && new URL(id).pathname : undefined;
  const itemId = /^(item_[0-9a-v]+)/.exec(id)?.[1] ?? (await app.sync.links.linkByRemoteId(id))?.itemId
    ?? (path ? (await app.sync.links.linkByRemoteId(path))?.itemId : undefined);
  if (!itemId) throw new NotFoundError(field, `"${id}" is not an item or event tripcal knows (ids look like item_…)`);
  return itemId;
}

export function registerItemTools(server: McpServer, app: App): void {
  const add = (kind: ItemDetails['kind'], name: string, description: string, detailsKey: string, detailsSchema: z.ZodObject, remindDefault: number) => {
    server.registerTool(
      name,
      {
        title: description.split('.')[0],
        description,
        inputSchema: {
          user_id: UserIdSchema,
          [detailsKey]: detailsSchema,
          remind_before: RemindBeforeSchema.default(remindDefault),
          trip_id: tripIdInput,
          allow_duplicate: z.boolean().default(false)
            .describe('Add it even if the user has the same flight (number and date) or booking (confirmation code) already; else the existing item is returned'),
        },
        outputSchema: AddItemOutput,
        annotations: WRITE,
      },
      handled(name, async (args: Record<string, unknown>) =>
        addResult(app, await app.trips.addItem(args.user_id as string | undefined, { kind, details: args[detailsKey] } as ItemDetails, {
          tripId: args.trip_id as string | undefined,
          remindBeforeHours: args.remind_before as number,
          allowDuplicate: args.allow_duplicate as boolean,
          path: detailsKey,
        })),
      ),
    );
  };

  add('flight', 'add_flight',
    'Add a flight. It starts in the departure airport\'s time zone and ends in the arrival airport\'s; times without an offset are local at that airport.',
    'flight_details', FlightDetailsSchema, 24);
  add('stay', 'add_accommodation',
    'Add a hotel or other stay (check-in and check-out events). Times without an offset are local at the stay.',
    'accommodation_details', StayDetailsSchema, 24);
  add('activity', 'add_activity',
    'Add an activity (tour, meeting, dinner, ...). A date without a time makes an all-day activity.',
    'activity_details', ActivityDetailsSchema, 1);

  server.registerTool(
    'create_itinerary',
    {
      title: 'Create a whole itinerary',
      description: 'Create a trip with its flights, stays and activities in one call. Either all of it is saved or, on any error, none of it.',
      inputSchema: {
        user_id: UserIdSchema,
        trip_name: CreateTripSchema.shape.title,
        start_date: CreateTripSchema.shape.start_date,
        end_date: CreateTripSchema.shape.end_date,
        timezone: CreateTripSchema.shape.timezone,
        notes: CreateTripSchema.shape.notes,
        flights: z.array(FlightDetailsSchema).max(200).default([]),
        accommodations: z.array(StayDetailsSchema).max(200).default([]),
        activities: z.array(ActivityDetailsSchema).max(500).default([]),
        remind_before: RemindBeforeSchema.optional().describe('Hours before each item to remind; default per kind (flights 24, stays 24, activities 1)'),
      },
      outputSchema: {
        success: z.boolean(),
        trip_id: z.string(),
        trip: TripShape,
        events: z.array(ItemShape),
        calendar_link: z.string(),
        message: z.string(),
        untrusted: UntrustedShape,
        sync: SyncShape,
      },
      annotations: WRITE,
      // Hosts with MCP Apps show the new trip in the trip view; the text and structured result stay.
      _meta: TRIP_VIEW_TOOL_META,
    },
    handled('create_itinerary', async (args) => {
      const { trip, items } = await app.trips.createItinerary(args.user_id, {
        title: args.trip_name, start_date: args.start_date, end_date: args.end_date, timezone: args.timezone, notes: args.notes,
        flights: args.flights, accommodations: args.accommodations, activities: args.activities,
        remindBeforeHours: args.remind_before,
      });
      const { zone } = await app.trips.getTrip(trip.userId, trip.id);
      const sync = await app.syncAfterEdit(trip.userId, trip.id);
      return ok({
        success: true,
        trip_id: trip.id,
        trip: tripView(trip, items, zone),
        events: items.map(itemView),
        calendar_link: await app.calendarLink(trip.userId),
        message: `Created trip ${trip.id} with ${items.length} item${items.length === 1 ? '' : 's'}. Calendar: ${sync.message}.`,
        untrusted: untrusted(tripText('trip'), itemText('events[]')),
        sync,
      });
    }),
  );

  server.registerTool(
    'update_item',
    {
      title: 'Change a flight, stay or activity',
      description: 'Change fields of an item (the fields of its kind, as in add_flight / add_accommodation / add_activity); null removes an optional field. Can also move it to another trip.',
      inputSchema: {
        user_id: UserIdSchema,
        item_id: z.string().trim().min(1).max(200).describe('The item_id or event_id returned when the item was added'),
        changes: z.record(z.string().max(40), z.union([z.string().max(4000), z.null()])).default({}).describe('e.g. {"departure_time": "2025-06-15T09:00", "seat": "14C"}'),
        remind_before: RemindBeforeSchema.optional(),
        trip_id: TripIdSchema.optional().describe('Move the item to this trip'),
        expected_version: z.number().int().min(1).optional().describe('Refuse the change if the item is no longer at this version'),
      },
      outputSchema: { success: z.boolean(), item: ItemShape, trip: TripShape, message: z.string(), sync: SyncShape, untrusted: UntrustedShape },
      annotations: { ...WRITE, idempotentHint: true },
    },
    handled('update_item', async (args) => {
      const { item, trip } = await app.trips.updateItem(args.user_id, await itemIdOf(app, args.item_id, 'item_id'), {
        changes: args.changes, remindBeforeHours: args.remind_before, tripId: args.trip_id, expectedVersion: args.expected_version,
      });
      const { items, zone } = await app.trips.getTrip(trip.userId, trip.id);
      const sync = await app.syncAfterEdit(trip.userId, trip.id);
      return ok({
        success: true, item: itemView(item), trip: tripView(trip, items, zone), sync,
        message: `Updated ${itemLine(item)} (version ${item.version}). Calendar: ${sync.message}.`,
        untrusted: untrusted(itemText('item'), tripText('trip')),
      });
    }),
  );

  server.registerTool(
    'delete_event',
    {
      title: 'Delete a flight, stay or activity',
      description: 'Delete an item (with all its calendar events) by the event_id returned when it was added.',
      inputSchema: {
        user_id: UserIdSchema,
        event_id: z.string().trim().min(1).max(200).describe('The event_id from add_*, an event key (item_…:flight) or an event UID'),
      },
      outputSchema: { success: z.boolean(), event_id: z.string(), item_id: z.string(), trip_id: z.string(), message: z.string(), sync: SyncShape },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    handled('delete_event', async (args) => {
      const { item, trip } = await app.trips.deleteItem(args.user_id, await itemIdOf(app, args.event_id, 'event_id'), 'event_id');
      const sync = await app.syncAfterEdit(trip.userId, trip.id);
      return ok({
        success: true, event_id: args.event_id, item_id: item.id, trip_id: trip.id, sync,
        message: `Deleted ${itemLine(item)} from trip ${trip.id}. Calendar: ${sync.message}.`,
      });
    }),
  );
}
