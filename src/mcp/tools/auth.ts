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
  abandonAuthorization, accountFor, chooseCalendar, connectorFor, consentPrompt, finishAuthorization, pendingAuthorization, providerName,
  SIGN_IN_PROVIDERS, signsInWith, type Connected,
} from '../../auth/connect.js';
import { requireSetup } from '../../auth/setup.js';
import { RedirectListeners, type Redirect } from '../../auth/loopback.js';
import { log } from '../../log.js';
import { UserIdSchema } from '../../model/schemas.js';
import { canAskForm } from '../ask.js';
import { perApp } from '../per-app.js';
import { askedState, requestStates } from '../request-state.js';
import { handled, ok } from '../result.js';
import type { ServingContext } from '../server.js';
import { SyncShape, untrusted, UntrustedShape } from '../shapes.js';

/** What the server that started a sign-in is told when the browser comes back. */
interface Starter {
  server: McpServer;
  /** The URL-mode elicitation that showed the consent page, when one did. */
  elicitationId: string | undefined;
  /** When (ms since the epoch); a sign-in not finished within its state's life is forgotten. */
  at: number;
}

/** A sign-in's state lives 10 minutes; its starter is kept a little longer. */
const STARTER_TTL_MS = 15 * 60 * 1000;

/**
 * When the redirect URI is a loopback address with a port, tripcal listens there itself, so the
 * flow finishes when the browser comes back (handle_auth_callback still works). One listener per
 * App: over HTTP each request has its own server instance, and the second would find the port
 * taken. When the client of a 2025-11-25 connection supports URL-mode elicitation, it is asked to
 * show the consent URL to the user (2026-07-28 clients read it in the result).
 */
function loopbackFlows(app: App) {
  const starters = new Map<string, Starter>();
  const finish = async (redirect: Redirect) => {
    const { userId, provider } = (await pendingAuthorization(app, redirect.state))!;
    const name = providerName(provider);
    const starter = starters.get(redirect.state);
    starters.delete(redirect.state);
    const complete = () => {
      if (!starter?.elicitationId || !starter.server.isConnected()) return;
      void starter.server.server.createElicitationCompletionNotifier(starter.elicitationId)().catch(() => undefined);
    };
    if (!redirect.code) {
      await abandonAuthorization(app, redirect.state);
      complete();
      return { ok: false, text: `${signsInWith(provider)} said: ${redirect.error ?? 'no code'}. Nothing was stored.` };
    }
    const done = await finishAuthorization(app, userId, redirect.code, redirect.state);
    complete();
    if (starter?.server.isConnected()) {
      void starter.server.server.sendLoggingMessage({ level: 'info', data: `Connected ${name} as account "${done.account}". ${done.sync.message}.` }).catch(() => undefined);
    }
    return { ok: true, text: `Connected ${name} (account "${done.account}"). You can close this tab.` };
  };

  const listeners = new RedirectListeners(async (state) => (await pendingAuthorization(app, state)) !== null, finish);
  return {
    /** Listens on the redirect URI if it is ours to listen on; false when not (handle_auth_callback then). */
    listen: (redirectUri: string) => listeners.listen(redirectUri),
    /** Remembers who started the sign-in, and asks its client to show the URL where it can. */
    started(server: McpServer, state: string, authUrl: string, provider: string): boolean {
      const shown = server.isConnected() && server.server.getClientCapabilities()?.elicitation?.url !== undefined;
      const elicitationId = shown ? randomUUID() : undefined;
      const now = Date.now();
      for (const [key, starter] of starters) if (now - starter.at > STARTER_TTL_MS) starters.delete(key);
      starters.set(state, { server, elicitationId, at: now });
      if (!elicitationId) return false;
      void server.server.elicitInput({
        mode: 'url', elicitationId, url: authUrl,
        message: consentPrompt(provider),
      }).catch((error: Error) => log.info('the client did not show the authorization URL', { error: error.message }));
      return true;
    },
  };
}

const flowsOf = perApp(loopbackFlows);

export function registerAuthTools(server: McpServer, app: App, serving: ServingContext): void {
  const flows = flowsOf(app);
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
      // Everything missing at once, with where to set it, before anything starts.
      requireSetup(args.provider, app.config, args.redirect_uri !== undefined);
      const flow = connectorFor(app, args.provider);
      const redirectUri = flow.redirectUri(args.redirect_uri);
      const target = await accountFor(app, args.provider, userId, args.account, args.calendar);
      const listening = await flows.listen(redirectUri);
      const started = await flow.start(userId, target.name, target.calendar, redirectUri);
      const shown = flows.started(server, started.state, started.authUrl, args.provider);
      const who = signsInWith(args.provider);
      return ok({
        success: true,
        auth_url: started.authUrl,
        account: target.name,
        calendar: target.calendar,
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
