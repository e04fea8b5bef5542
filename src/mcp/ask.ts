// Asking the person something in the middle of a tool call (MCP elicitation). On 2026-07-28 the
// tool answers `input_required` and the client retries with the answer; on a 2025-11-25 stdio
// connection the SDK asks with a real elicitation request and calls the tool again. A client that
// declared no elicitation, or a 2025-11-25 client over stateless HTTP (no connection to ask on),
// is never asked: the tool gives its plain answer, which says what to pass instead.
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import type { ServingContext } from './server.js';

interface ElicitationCapability {
  form?: object;
  url?: object;
}

function declaredElicitation(server: McpServer, ctx: ServerContext, serving: ServingContext): ElicitationCapability | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const modern = envelope?.['io.modelcontextprotocol/clientCapabilities'] as { elicitation?: ElicitationCapability } | undefined;
  if (modern) return modern.elicitation;
  if (!serving.connection) return undefined;
  return server.server.getClientCapabilities()?.elicitation as ElicitationCapability | undefined;
}

/** Whether this call may ask the person to fill in a form. */
export function canAskForm(server: McpServer, ctx: ServerContext, serving: ServingContext): boolean {
  const elicitation = declaredElicitation(server, ctx, serving);
  // `elicitation: {}` is the form mode alone (the 2025-06-18 meaning, kept since).
  return elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
}
