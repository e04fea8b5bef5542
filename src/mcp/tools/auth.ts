// Connecting calendars, as the original specification's tools do it: authorize_calendar gives
// the consent URL, handle_auth_callback finishes with the code and state Google sent back.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { App } from '../../app.js';
import { connector, finishGoogle, googleAccountFor } from '../../auth/connect.js';
import { UserIdSchema } from '../../model/schemas.js';
import { handled, ok } from '../result.js';
import { SyncShape } from '../shapes.js';

export function registerAuthTools(server: McpServer, app: App): void {
  server.registerTool(
    'authorize_calendar',
    {
      title: 'Connect a calendar',
      description: 'Start connecting the user\'s Google Calendar: returns a URL for the user to open and approve. '
        + 'Google then sends the browser to redirect_uri with `code` and `state`; pass both to handle_auth_callback within 10 minutes.',
      inputSchema: {
        user_id: UserIdSchema,
        redirect_uri: z.string().trim().min(1).max(2000).optional().describe('Where Google sends the browser back (must be registered for the OAuth client); default GOOGLE_REDIRECT_URI'),
        provider: z.enum(['google']).default('google').describe('Only google is connected this way; CalDAV accounts are set in the configuration'),
        account: z.string().trim().min(1).max(40).optional().describe('Name for the account (default: the user\'s Google account, or "google")'),
        calendar: z.string().trim().min(1).max(200).optional()
          .describe('Where trips go: "primary" (default), a calendar id, or a calendar name, made when missing (e.g. "Trips")'),
      },
      outputSchema: {
        success: z.boolean(),
        auth_url: z.string(),
        account: z.string(),
        calendar: z.string(),
        expires_at: z.string(),
        message: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    handled('authorize_calendar', async (args) => {
      const userId = app.trips.userId(args.user_id);
      const google = connector(app);
      const redirectUri = google.redirectUri(args.redirect_uri);
      const target = googleAccountFor(app, userId, args.account, args.calendar);
      const started = await google.start(userId, target.name, target.calendar, redirectUri);
      return ok({
        success: true,
        auth_url: started.authUrl,
        account: target.name,
        calendar: target.calendar,
        expires_at: started.expiresAt,
        message: `Open this URL, sign in to Google and allow tripcal to manage calendar events. Google will then send you to ${redirectUri} `
          + 'with `code` and `state` in the address; pass both to handle_auth_callback within 10 minutes.',
      });
    }),
  );

  server.registerTool(
    'handle_auth_callback',
    {
      title: 'Finish connecting a calendar',
      description: 'Finish what authorize_calendar started: give the `code` and `state` from the address Google redirected to. '
        + 'Stores the authorization (encrypted), lists the calendars now reachable, and syncs the user\'s trips.',
      inputSchema: {
        user_id: UserIdSchema,
        code: z.string().trim().min(1).max(2048).describe('The `code` parameter of the redirect'),
        state: z.string().trim().min(1).max(512).describe('The `state` parameter of the redirect'),
      },
      outputSchema: {
        success: z.boolean(),
        account: z.string(),
        provider: z.string(),
        calendars: z.array(z.object({
          id: z.string(), name: z.string(), access_role: z.string().nullable(), writable: z.boolean(), selected: z.boolean(), primary: z.boolean(),
        })),
        sync: SyncShape,
        message: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    handled('handle_auth_callback', async (args) => {
      const userId = app.trips.userId(args.user_id);
      const done = await finishGoogle(app, userId, args.code, args.state);
      const target = done.calendars.find((c) => c.selected);
      return ok({
        success: true,
        account: done.account,
        provider: 'google',
        calendars: done.calendars.map((c) => ({
          id: c.id, name: c.name, access_role: c.accessRole ?? null, writable: c.writable, selected: c.selected, primary: c.primary ?? false,
        })),
        sync: done.sync,
        message: `Connected Google Calendar as account "${done.account}"`
          + (target ? `; trips go to "${target.name}"` : '')
          + (done.calendarsError ? `; the calendars could not be listed (${done.calendarsError})` : `; ${done.calendars.length} calendar(s) reachable`)
          + `. ${done.sync.message}.`,
      });
    }),
  );
}
