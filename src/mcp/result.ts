// Tool results: structuredContent plus the same JSON as text for clients that read only text.
// Every failure becomes an isError result naming the field, never a crash of the server.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../errors.js';
import { log } from '../log.js';

export function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

export function failure(error: unknown, tool: string): CallToolResult {
  const described = describeError(error);
  if (described.code === 'internal') log.error('tool failed', { tool, error: described.message });
  const message = described.code === 'internal' ? `internal error: ${described.message}` : described.message;
  // No structuredContent: clients check it against the tool's (success) output schema even on errors.
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Wraps a tool handler so that any thrown error becomes an isError result naming the field. */
export function handled<A, E>(tool: string, fn: (args: A, extra: E) => Promise<CallToolResult> | CallToolResult) {
  return async (args: A, extra: E): Promise<CallToolResult> => {
    try {
      return await fn(args, extra);
    } catch (error) {
      return failure(error, tool);
    }
  };
}
