// The MCP server: tools and resources over any transport. Tool modules stay thin; the work is
// in trips/, events/ and ics/.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { objectFromShape } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { itineraryMarkdown } from '../trips/itinerary.js';
import type { App } from '../app.js';
import { itemView, tripView } from '../trips/views.js';
import { registerAuthTools } from './tools/auth.js';
import { exportTrip, registerIcsTools } from './tools/ics.js';
import { registerItemTools } from './tools/items.js';
import { registerSyncTools } from './tools/sync.js';
import { registerTripTools } from './tools/trips.js';
import { VERSION } from '../version.js';

interface ToolConfig {
  inputSchema?: unknown;
  outputSchema?: unknown;
  [key: string]: unknown;
}

/**
 * Tool definitions (their zod schemas above all) of each App, built by its first MCP server and
 * shared by every later one: the daemon makes a server per HTTP session, and a session's own
 * copy of ~25 tools' schemas was most of its memory (0.38 MB; shared, a session is a fraction).
 */
const toolDefinitions = new WeakMap<App, Map<string, ToolConfig>>();

function sharingToolDefinitions(server: McpServer, app: App): void {
  let shared = toolDefinitions.get(app);
  if (!shared) toolDefinitions.set(app, (shared = new Map()));
  const definitions = shared;
  const register = server.registerTool.bind(server) as (name: string, config: ToolConfig, cb: unknown) => ReturnType<McpServer['registerTool']>;
  const sharedRegister = (name: string, config: ToolConfig, cb: unknown) => {
    let definition = definitions.get(name);
    if (!definition) {
      // A raw shape becomes its object schema here, once, as the SDK would do per registration.
      const asObject = (schema: unknown) => (schema && !isZodSchema(schema) ? objectFromShape(schema as Record<string, never>) : schema);
      definition = { ...config, inputSchema: asObject(config.inputSchema), outputSchema: asObject(config.outputSchema) };
      definitions.set(name, definition);
    }
    return register(name, definition, cb);
  };
  server.registerTool = sharedRegister as unknown as McpServer['registerTool'];
}

const isZodSchema = (value: unknown) => typeof value === 'object' && value !== null && ('_zod' in value || '_def' in value);

export function createServer(app: App): McpServer {
  const server = new McpServer(
    { name: 'tripcal', version: VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        'tripcal keeps travel itineraries (flights, stays, activities) and puts them in calendars. '
        + 'Add items with add_flight / add_accommodation / add_activity or a whole trip with create_itinerary; '
        + 'times without an offset are local at the airport or place. Use the returned event_id to update or delete.',
    },
  );
  sharingToolDefinitions(server, app);
  registerItemTools(server, app);
  registerTripTools(server, app);
  registerIcsTools(server, app);
  registerSyncTools(server, app);
  registerAuthTools(server, app);

  const tripsList = async () => ({
    resources: app.trips.listTrips().flatMap(({ trip }) => [
      { uri: `tripcal://trips/${trip.id}`, name: trip.title, mimeType: 'application/json' },
      { uri: `tripcal://trips/${trip.id}.ics`, name: `${trip.title} (.ics)`, mimeType: 'text/calendar' },
      { uri: `tripcal://trips/${trip.id}/itinerary`, name: `${trip.title} (itinerary)`, mimeType: 'text/markdown' },
    ]),
  });
  server.registerResource(
    'trip-ics',
    new ResourceTemplate('tripcal://trips/{trip_id}.ics', { list: undefined }),
    { title: 'Trip as iCalendar', mimeType: 'text/calendar' },
    async (uri, { trip_id }) => ({
      contents: [{ uri: uri.href, mimeType: 'text/calendar', text: exportTrip(app, undefined, String(trip_id)).ics }],
    }),
  );
  server.registerResource(
    'trip-itinerary',
    new ResourceTemplate('tripcal://trips/{trip_id}/itinerary', { list: undefined }),
    { title: 'Trip itinerary', description: 'A trip day by day in local times, as Markdown', mimeType: 'text/markdown' },
    async (uri, { trip_id }) => {
      const { trip, items } = app.trips.getTrip(undefined, String(trip_id));
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: itineraryMarkdown(trip, items) }] };
    },
  );
  server.registerResource(
    'trip',
    new ResourceTemplate('tripcal://trips/{trip_id}', { list: tripsList }),
    { title: 'Trip', description: 'A trip of the default user with its items, as JSON', mimeType: 'application/json' },
    async (uri, { trip_id }) => {
      const { trip, items, zone } = app.trips.getTrip(undefined, String(trip_id));
      const body = { trip: tripView(trip, items, zone), items: items.map(itemView) };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );
  return server;
}
