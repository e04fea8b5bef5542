// Sync tools: sync_now (with progress notifications), sync_status, list_calendars.
import {
  acceptedContent, inputRequired, type CallToolResult, type InputRequiredResult, type McpServer, type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { App } from '../../app.js';
import { TripcalError, UnavailableError } from '../../errors.js';
import { TripIdSchema, UserIdSchema } from '../../model/schemas.js';
import { parseDateTime, showTime, toUtcIso } from '../../model/time.js';
import { canAskForm } from '../ask.js';
import { handled, ok } from '../result.js';
import type { ServingContext } from '../server.js';
import { ShownTimeShape as ShownTime, untrusted, UntrustedShape } from '../shapes.js';

/** What the person is asked when a sync stopped short of deleting many events at once. */
const GuardAnswer = z.object({
  decision: z.enum(['go_ahead', 'recreate', 'stop']).describe(
    'go_ahead: the events were deleted on purpose, let them go; recreate: put them back in the calendar; stop: change nothing',
  ),
});

const Counts = z.object({
  created: z.number(), updated: z.number(), deleted: z.number(), unchanged: z.number(),
  failed: z.number(), conflicts: z.number(), pulled: z.number(), gone: z.number(),
});

const Version = z.object({ summary: z.string(), start: ShownTime, end: ShownTime, location: z.string().nullable() }).nullable();

const AccountName = z.string().trim().min(1).max(40);

export function registerSyncTools(server: McpServer, app: App, serving: ServingContext): void {
  server.registerTool(
    'sync_now',
    {
      title: 'Sync calendars now',
      description: 'Make the connected calendars match the trips now: all accounts, or one account or one trip. Sends progress notifications.',
      inputSchema: z.object({
        user_id: UserIdSchema,
        account: AccountName.optional().describe('Only this account (its name in the configuration)'),
        trip_id: TripIdSchema.optional().describe('Only this trip\'s events'),
        recreate: z.boolean().default(false).describe('Put back events that were deleted in the calendar'),
        resolve: z.enum(['model', 'remote']).optional().describe('Settle flagged conflicts: the trip\'s version or the calendar\'s'),
        allow_mass_delete: z.boolean().default(false).describe('Go ahead even if many events would be deleted at once'),
      }),
      outputSchema: z.object({
        success: z.boolean(),
        accounts: z.array(z.object({
          account: z.string(), status: z.string(), message: z.string().nullable(), counts: Counts, requests: z.number(),
          gone: z.array(z.string()),
        })),
        message: z.string(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    handled('sync_now', async (args, ctx: ServerContext): Promise<CallToolResult | InputRequiredResult> => {
      const token = ctx.mcpReq._meta?.progressToken;
      // The person's answer when an earlier round of this call stopped at the mass-delete guard.
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'mass_delete', GuardAnswer)?.decision;
      if (answer === 'stop') {
        return ok({ success: false, accounts: [], message: 'Stopped as you asked: nothing was synced, nothing was deleted.' });
      }
      let progress = 0;
      // Progress must reach the client before the result does, or it is dropped there.
      const notifications: Promise<unknown>[] = [];
      const reports = await app.sync.sync({
        account: args.account,
        userId: args.account ? undefined : app.trips.userId(args.user_id),
        tripId: args.trip_id,
        recreate: args.recreate || answer === 'recreate',
        resolve: args.resolve,
        allowMassDelete: args.allow_mass_delete || answer === 'go_ahead',
        signal: ctx.mcpReq.signal,
        onProgress: ({ account, done, total }) => {
          if (token === undefined) return;
          progress += 1;
          notifications.push(ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress, total: Math.max(total, progress), message: `${account}: ${done}/${total}` },
          }).catch(() => undefined));
        },
      });
      await Promise.all(notifications);
      // The SDK's client handles a notification a microtask later than a response read in the same
      // chunk, and forgets a request's progress handler once its response is in: progress written
      // right before the result can be dropped. A short pause lets the progress go out on its own.
      if (notifications.length > 0) await new Promise((resolve) => setTimeout(resolve, 25));
      const guarded = reports.filter((r) => r.status === 'guarded');
      if (guarded.length > 0 && answer === undefined && canAskForm(server, ctx, serving)) {
        return inputRequired({
          inputRequests: {
            mass_delete: inputRequired.elicit({
              message: `${guarded.map((r) => `${r.account}: ${r.message}`).join('\n')}\nWhat should tripcal do?`,
              requestedSchema: GuardAnswer,
            }),
          },
        });
      }
      const failed = reports.filter((r) => r.status !== 'ok');
      return ok({
        success: failed.length === 0,
        accounts: reports.map((r) => ({ account: r.account, status: r.status, message: r.message, counts: r.counts, requests: r.requests, gone: r.gone })),
        message: reports.length === 0
          ? 'No calendar account is configured (see config.example.yaml); the .ics feed is up to date.'
          : reports.map((r) => `${r.account}: ${r.status}${r.message ? ` (${r.message})` : ''}; created ${r.counts.created}, updated ${r.counts.updated}, deleted ${r.counts.deleted}, unchanged ${r.counts.unchanged}, failed ${r.counts.failed}`).join('\n'),
      });
    }),
  );

  server.registerTool(
    'sync_status',
    {
      title: 'Calendar sync status',
      description: 'Per account: last sync, what is pending, what failed and why, conflicts with both versions, events deleted in the calendar; and the background sync schedule with its next run.',
      inputSchema: {},
      outputSchema: {
        success: z.boolean(),
        schedule: z.object({ expression: z.string(), timezone: z.string(), jitter_seconds: z.number(), next_run: z.string().nullable() }).nullable()
          .describe('The daemon\'s background sync; null when nothing syncs on a schedule (tripcal serve)'),
        accounts: z.array(z.object({
          account: z.string(), provider: z.string(), user: z.string(), calendar: z.string(), policy: z.string(),
          state: z.string(), detail: z.string().nullable(), last_sync_at: z.string().nullable(), last_success_at: z.string().nullable(),
          synced: z.number(), pending: z.number(),
          failed: z.array(z.object({ key: z.string(), item_id: z.string(), error: z.string() })),
          conflicts: z.array(z.object({ key: z.string(), item_id: z.string(), model: Version, calendar: Version })),
          gone: z.array(z.object({ key: z.string(), item_id: z.string() })),
        })),
        untrusted: UntrustedShape,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    handled('sync_status', async () => ok({
      success: true, schedule: app.schedule(),
      // A caller acting for one user sees that user's accounts only.
      accounts: (await app.sync.status()).filter((a) => serving.principal?.user === undefined || a.user === serving.principal.user),
      // A conflict shows the calendar's version of the event: whoever can edit that calendar wrote it.
      untrusted: untrusted(['model', 'calendar'].flatMap((v) => [`accounts[].conflicts[].${v}.summary`, `accounts[].conflicts[].${v}.location`]),
        'accounts[].failed[].error', 'accounts[].detail'),
    })),
  );

  server.registerTool(
    'check_availability',
    {
      title: 'Check availability',
      description: 'Busy time in the user\'s connected calendars between start and end (their own events, not the trips), in UTC and local time, and which trip items collide with it.',
      inputSchema: {
        user_id: UserIdSchema,
        start: z.string().trim().min(1).max(40).describe('ISO 8601; without an offset it is the user\'s local time'),
        end: z.string().trim().min(1).max(40).describe('ISO 8601; without an offset it is the user\'s local time'),
        calendars: z.array(AccountName).max(20).optional().describe('Account names to ask; default all of the user\'s'),
      },
      outputSchema: {
        success: z.boolean(),
        start: ShownTime,
        end: ShownTime,
        accounts: z.array(z.string()),
        busy: z.array(z.object({ account: z.string(), calendar: z.string().nullable(), start: ShownTime, end: ShownTime })),
        collisions: z.array(z.object({
          item_id: z.string(), trip_id: z.string(), summary: z.string(), start: ShownTime, end: ShownTime,
          account: z.string(), calendar: z.string().nullable(), busy_start: ShownTime, busy_end: ShownTime,
        })),
        errors: z.array(z.object({ account: z.string(), error: z.string() })).describe('Accounts that could not be asked, and why'),
        answered: z.array(z.string()).describe('Accounts whose busy time is known'),
        complete: z.boolean().describe('False when some account could not be asked: its busy time is unknown, not free'),
        message: z.string(),
        untrusted: UntrustedShape,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    handled('check_availability', async (args) => {
      const user = await app.trips.user(args.user_id);
      const from = toUtcIso(parseDateTime(args.start, user.timezone, 'start'));
      const to = toUtcIso(parseDateTime(args.end, user.timezone, 'end'));
      const result = await app.sync.availability(user, from, to, args.calendars);
      if (result.accounts.length === 0) {
        throw new TripcalError('config', 'no calendar account is connected, so tripcal cannot tell when you are busy (connect one with authorize_calendar, '
          + 'or add an account to the configuration: see config.example.yaml). This is not an answer of "free"', 'calendars');
      }
      if (result.answered.length === 0) {
        throw new UnavailableError(`no calendar answered, so busy time is unknown (not free): ${result.errors.map((e) => `${e.account}: ${e.error}`).join('; ')}`);
      }
      const counts = `${result.busy.length} busy period${result.busy.length === 1 ? '' : 's'}, ${result.collisions.length} collision${result.collisions.length === 1 ? '' : 's'} with trip items`;
      const message = result.complete
        ? `${counts}, from ${result.answered.join(', ')}.`
        : `INCOMPLETE: could not ask ${result.errors.map((e) => e.account).join(', ')} (see errors), so busy time there is unknown; `
          + `${counts} from ${result.answered.join(', ')} only.`;
      return ok({
        success: result.complete, start: showTime(from, user.timezone), end: showTime(to, user.timezone), ...result, message,
        untrusted: untrusted('collisions[].summary', 'busy[].calendar', 'collisions[].calendar', 'errors[].error'),
      });
    }),
  );

  server.registerTool(
    'list_calendars',
    {
      title: 'List calendars',
      description: 'The calendars an account can reach, and which one tripcal writes to.',
      inputSchema: { account: AccountName.optional().describe('Default: every configured account') },
      outputSchema: {
        success: z.boolean(),
        accounts: z.array(z.object({
          account: z.string(),
          calendars: z.array(z.object({
            id: z.string(), name: z.string(), writable: z.boolean(), selected: z.boolean(), access_role: z.string().nullable(), primary: z.boolean(),
          })),
          error: z.string().nullable(),
        })),
        untrusted: UntrustedShape,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    handled('list_calendars', async (args) => {
      const names = args.account ? [(await app.sync.account(args.account)).name] : (await app.sync.accounts(serving.principal?.user)).map((a) => a.name);
      const accounts = await Promise.all(names.map(async (account) => {
        try {
          const calendars = await app.sync.listCalendars(account);
          return {
            account, error: null,
            calendars: calendars.map((c) => ({ id: c.id, name: c.name, writable: c.writable, selected: c.selected, access_role: c.accessRole ?? null, primary: c.primary ?? false })),
          };
        } catch (error) {
          return { account, calendars: [], error: (error as Error).message };
        }
      }));
      if (accounts.length > 0 && accounts.every((a) => a.error !== null)) {
        throw new UnavailableError(`no account could list its calendars: ${accounts.map((a) => `${a.account}: ${a.error}`).join('; ')}`);
      }
      return ok({
        success: accounts.every((a) => a.error === null), accounts,
        untrusted: untrusted('accounts[].calendars[].id', 'accounts[].calendars[].name', 'accounts[].error'),
      });
    }),
  );
}
