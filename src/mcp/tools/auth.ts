// Connecting calendars, as the original specification's tools do it: authorize_calendar gives
// the consent URL (Google, or Microsoft for Outlook), handle_auth_callback finishes with the code
// and state the provider sent back.
import { randomUUID } from 'node:crypto';
import {
  acceptedContent, inputRequired, type CallToolResult, type InputRequiredResult, type McpServer, type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import {
  chooseCalendar, consentPrompt, finishAuthorization, providerName, SIGN_IN_PROVIDERS, signsInWith, type Connected,
} from '../../auth/connect.js';
import { signInsOf, type SignInWatcher } from '../../auth/sign-ins.js';
import type { OAuthProvider } from '../../auth/states.js';
import { log } from '../../log.js';
import { UserIdSchema } from '../../model/schemas.js';
import { canAskForm } from '../ask.js';
import { askedState, requestStates } from '../request-state.js';
import { handled, ok } from '../result.js';
import type { ServingContext } from '../server.js';
import { SyncShape, untrusted, UntrustedShape } from '../shapes.js';

/**
 * Remembers the server that started a sign-in at tripcal's own redirect listener: when the client
 * of a 2025-11-25 connection supports URL-mode elicitation, it is asked to show the consent URL
 * (2026-07-28 clients read it in the result), told when the browser came back, and sent a log line.
 */
function watchFrom(server: McpServer, authUrl: string, provider: OAuthProvider): { shown: boolean; watcher: SignInWatcher } {
  const shown = server.isConnected() && server.server.getClientCapabilities()?.elicitation?.url !== undefined;
  const elicitationId = shown ? randomUUID() : undefined;
  if (elicitationId) {
    void server.server.elicitInput({ mode: 'url', elicitationId, url: authUrl, message: consentPrompt(provider) })
      .catch((error: Error) => log.info('the client did not show the authorization URL', { error: error.message }));
  }
  const watcher: SignInWatcher = (outcome, detail) => {
    if (!server.isConnected()) return;
    if (elicitationId) void server.server.createElicitationCompletionNotifier(elicitationId)().catch(() => undefined);
    if (outcome.ok) {
      void server.server.sendLoggingMessage({ level: 'info', data: `Connected ${providerName(provider)} as account "${detail.account}". ${detail.sync}.` }).catch(() => undefined);
    }
  };
  return { shown, watcher };
}

export function registerAuthTools(server: McpServer, app: App, serving: ServingContext): void {
  const signIns = signInsOf(app);
  server.registerTool(
    'authorize_calendar',
    {
      title: 'Connect a calendar',
      description: 'Start connecting the user\'s Google Calendar (provider "google") or Outlook / Microsoft 365 calendar (provider "outlook"): '
        + 'returns a URL for the user to open and approve. The provider then sends the browser to redirect_uri with `code` and `state`; '
        + 'pass both to handle_auth_callback within 10 minutes.',
      inputSchema: {
        user_id: UserIdSchema,
        redirect_uri: z.string().trim().min(1).max(2000).optional()
          .describe('Where the provider sends the browser back (registered for the OAuth app); default GOOGLE_REDIRECT_URI / MS_REDIRECT_URI'),
        provider: z.enum(SIGN_IN_PROVIDERS).default('google').describe('google or outlook; CalDAV accounts are set in the configuration'),
        account: z.string().trim().min(1).max(40).optional().describe('Name for the account (default: the user\'s account of this provider, or "google" / "outlook")'),
        calendar: z.string().trim().min(1).max(200).optional()
          .describe('Where trips go: "primary" (default), a calendar id, or a calendar name, made when missing (e.g. "Trips")'),
      },
      outputSchema: {
        success: z.boolean(),
        auth_url: z.string(),
        account: z.string(),
        calendar: z.string(),
        expires_at: z.string(),
        listening: z.boolean().describe('tripcal itself receives the redirect (a loopback redirect URI) and finishes without handle_auth_callback'),
        message: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    handled('authorize_calendar', async (args) => {
      const userId = app.trips.userId(args.user_id);
      const started = await signIns.start({ userId, provider: args.provider, account: args.account, calendar: args.calendar, redirectUri: args.redirect_uri });
      const { shown, watcher } = watchFrom(server, started.authUrl, args.provider);
      signIns.watch(started.state, watcher);
      const { listening, redirectUri } = started;
      const who = signsInWith(args.provider);
      return ok({
        success: true,
        auth_url: started.authUrl,
        account: started.account,
        calendar: started.calendar,
        expires_at: started.expiresAt,
        listening,
        message: `${shown ? 'The client was asked to show this URL; if it did not, open' : 'Open'} it, sign in to ${who} and allow tripcal to manage calendar events. `
          + (listening
            ? `tripcal listens at ${redirectUri} and finishes by itself when the browser comes back there; `
              + 'if the browser is on another machine, pass the `code` and `state` from the address it lands on to handle_auth_callback within 10 minutes.'
            : `${who} will then send the browser to ${redirectUri} with \`code\` and \`state\` in the address; pass both to handle_auth_callback within 10 minutes.`),
      });
    }),
  );

  server.registerTool(
    'handle_auth_callback',
    {
      title: 'Finish connecting a calendar',
      description: 'Finish what authorize_calendar started: give the `code` and `state` from the address Google or Microsoft redirected to. '
        + 'Stores the authorization (encrypted), lists the calendars now reachable, and syncs the user\'s trips.',
      inputSchema: z.object({
        user_id: UserIdSchema,
        code: z.string().trim().min(1).max(2048).describe('The `code` parameter of the redirect'),
        state: z.string().trim().min(1).max(512).describe('The `state` parameter of the redirect'),
      }),
      outputSchema: z.object({
        success: z.boolean(),
        account: z.string(),
        provider: z.string(),
        calendars: z.array(z.object({
          id: z.string(), name: z.string(), access_role: z.string().nullable(), writable: z.boolean(), selected: z.boolean(), primary: z.boolean(),
        })),
        sync: SyncShape,
        message: z.string(),
        untrusted: UntrustedShape,
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    handled('handle_auth_callback', async (args, ctx: ServerContext): Promise<CallToolResult | InputRequiredResult> => {
      const userId = app.trips.userId(args.user_id);
      // The second round, after asking which of several calendars of one name to use.
      const resumed = askedState(ctx, 'handle_auth_callback', userId);
      let done: Connected;
      if (resumed) {
        const picked = acceptedContent(ctx.mcpReq.inputResponses, 'calendar', PickedCalendar)?.calendar;
        const offered = resumed.choices!.split('\n');
        done = await chooseCalendar(app, userId, resumed.account!, picked && offered.includes(picked) ? picked : null);
      } else {
        const ask = canAskForm(server, ctx, serving);
        done = await finishAuthorization(app, userId, args.code, args.state, undefined, { holdIfAmbiguous: ask });
        if (ask && done.sameName.length > 1) {
          const ids = done.sameName.map((c) => c.id);
          return inputRequired({
            inputRequests: {
              calendar: inputRequired.elicit({
                message: `${done.sameName.length} calendars you can write to are named "${done.sameName[0]!.name}": `
                  + `${done.sameName.map((c) => `${c.id}${c.accessRole ? ` (${c.accessRole})` : ''}`).join(', ')}. Which one should the trips go to?`,
                requestedSchema: z.object({ calendar: z.enum(ids as [string, ...string[]]).describe('The calendar\'s id') }),
              }),
            },
            requestState: await (await requestStates(app)).mint({ tool: 'handle_auth_callback', user: userId, data: { account: done.account, choices: ids.join('\n') } }),
          });
        }
      }
      return connectedResult(done);
    }),
  );
}

/** A calendar the person picked among several of one name. */
const PickedCalendar = z.object({ calendar: z.string() });

function connectedResult(done: Connected): CallToolResult {
  const target = done.calendars.find((c) => c.selected);
  const same = done.sameName.length > 1
    ? `; ${done.sameName.length} calendars are named like it (${done.sameName.map((c) => c.id).join(', ')}): trips go to the one marked selected; `
      + 'to use another, connect again under another account name with calendar: <its id>'
    : '';
  return ok({
    success: true,
    account: done.account,
    provider: done.provider,
    calendars: done.calendars.map((c) => ({
      id: c.id, name: c.name, access_role: c.accessRole ?? null, writable: c.writable, selected: c.selected, primary: c.primary ?? false,
    })),
    sync: done.sync,
    untrusted: untrusted('calendars[].id', 'calendars[].name'),
    message: `Connected ${providerName(done.provider)} as account "${done.account}"`
      // A calendar's name is whatever its owner (maybe someone sharing it) typed: shown in calendars[], not here.
      + (target ? '; trips go to the calendar marked selected' : '')
      + same
      + (done.calendarsError ? `; the calendars could not be listed (${done.calendarsError})` : `; ${done.calendars.length} calendar(s) reachable`)
      + `. ${done.sync.message}.`,
  });
}
