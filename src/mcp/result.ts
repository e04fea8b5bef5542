// Tool results: structuredContent plus the same JSON as text for clients that read only text.
// Every failure becomes an isError result naming the field, never a crash of the server.
import type { CallToolResult, InputRequiredResult } from '@modelcontextprotocol/server';
import { AuthExpiredError, ProviderError, RateLimitedError, TransientError } from '../../providers/types.js';
import { describeError } from '../errors.js';
import { log } from '../log.js';

export function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** What a calendar's failure means for the person, and what they can do about it. */
function providerMessage(error: ProviderError): string {
  if (error instanceof AuthExpiredError) return `${error.message}; connect the account again (authorize_calendar, or tripcal auth caldav|google|outlook ACCOUNT)`;
  if (error instanceof RateLimitedError) return `the calendar is limiting how fast tripcal may ask (${error.message}); try again in a minute`;
  if (error instanceof TransientError) return `the calendar could not be reached (${error.message}); try again later, nothing was lost`;
  return `the calendar refused the request: ${error.message}`;
}

export function failure(error: unknown, tool: string): CallToolResult {
  if (error instanceof ProviderError) return { isError: true, content: [{ type: 'text', text: providerMessage(error) }] };
  const described = describeError(error);
  if (described.code === 'internal') log.error('tool failed', { tool, error: described.message });
  const message = described.code === 'internal' ? `internal error: ${described.message}` : described.message;
  // No structuredContent: clients check it against the tool's (success) output schema even on errors.
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Wraps a tool handler so that any thrown error becomes an isError result naming the field. */
export function handled<A, E, R extends CallToolResult | InputRequiredResult = CallToolResult>(tool: string, fn: (args: A, extra: E) => Promise<R> | R) {
  return async (args: A, extra: E): Promise<R | CallToolResult> => {
    try {
      return await fn(args, extra);
    } catch (error) {
      return failure(error, tool);
    }
  };
}
