// The two MCP clients every end-to-end scenario runs with: the SDK v2 client speaking 2026-07-28
// (no initialize; version and capabilities on every request) and the SDK 1.x client speaking
// 2025-11-25 (initialize, as Claude Desktop and most clients still do). TRIPCAL_MCP_CLIENT=v1
// picks the old one; the default is v2. `.ci/run` runs the MCP scenarios with both.
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Readable } from 'node:stream';

export type Era = 'modern' | 'legacy';

/** Which protocol the tests' clients speak (TRIPCAL_MCP_CLIENT=v1: 2025-11-25). */
export const ERA: Era = process.env.TRIPCAL_MCP_CLIENT === 'v1' ? 'legacy' : 'modern';

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** What the tests ask of a client, the same for both SDKs. */
export interface McpClient {
  era: Era;
  callTool(params: { name: string; arguments?: Record<string, unknown> }, options?: { onprogress?: (p: Progress) => void; signal?: AbortSignal }): Promise<any>;
  listTools(): Promise<any>;
  listResources(): Promise<any>;
  listResourceTemplates(): Promise<any>;
  readResource(params: { uri: string }): Promise<any>;
  getServerVersion(): { name: string; version: string } | undefined;
  /** Answers the server's form elicitations (both eras: a v2 client retries an input_required call itself). */
  onElicit(answer: (request: { message: string; mode?: string; url?: string; requestedSchema?: unknown }) => Promise<any> | any): void;
  /** Called with each resource URI the server says changed (v2: a subscriptions/listen stream; v1: resources/subscribe). */
  watch(uris: string[], changed: (uri: string) => void): Promise<() => Promise<void>>;
  /** The SDK client itself, for what only one of them can do. */
  raw: any;
  close(): Promise<void>;
}

export interface ClientOptions {
  capabilities?: Record<string, unknown>;
  era?: Era;
}

function wrap(raw: any, era: Era): McpClient {
  return {
    era,
    raw,
    callTool: (params, options) => (era === 'modern' ? raw.callTool(params, options) : raw.callTool(params, undefined, options)),
    listTools: () => raw.listTools(),
    listResources: () => raw.listResources(),
    listResourceTemplates: () => raw.listResourceTemplates(),
    readResource: (params) => raw.readResource(params),
    getServerVersion: () => raw.getServerVersion(),
    onElicit(answer) {
      if (era === 'modern') raw.setRequestHandler('elicitation/create', (request: any) => answer(request.params));
      else raw.setRequestHandler(ElicitRequestSchemaV1, (request: any) => answer(request.params));
    },
    async watch(uris, changed) {
      if (era === 'modern') {
        raw.setNotificationHandler('notifications/resources/updated', (n: any) => changed(n.params.uri));
        const subscription = await raw.listen({ resourceSubscriptions: uris });
        return () => subscription.close();
      }
      raw.setNotificationHandler(ResourceUpdatedNotificationSchemaV1, (n: any) => changed(n.params.uri));
      for (const uri of uris) await raw.subscribeResource({ uri });
      return async () => {
        for (const uri of uris) await raw.unsubscribeResource({ uri });
      };
    },
    close: () => raw.close(),
  };
}

// The 1.x request schemas, loaded once (v2 takes method names instead).
const { ElicitRequestSchema: ElicitRequestSchemaV1, ResourceUpdatedNotificationSchema: ResourceUpdatedNotificationSchemaV1 } = await import('@modelcontextprotocol/sdk/types.js');

function client(options: ClientOptions, name: string): { raw: any; era: Era } {
  const era = options.era ?? ERA;
  const info = { name, version: '1.0.0' };
  if (era === 'modern') {
    return { era, raw: new ClientV2(info, { capabilities: options.capabilities ?? {}, versionNegotiation: { mode: { pin: '2026-07-28' } } } as any) };
  }
  return { era, raw: new ClientV1(info, { capabilities: (options.capabilities ?? {}) as never }) };
}

/** An MCP client on a server child process over stdio. */
export async function stdioClient(
  server: { command: string; args: string[]; env: Record<string, string> },
  options: ClientOptions = {},
): Promise<{ client: McpClient; stderr: Readable | null }> {
  const { raw, era } = client(options, 'tripcal-tests');
  const transport = era === 'modern'
    ? new StdioV2({ ...server, stderr: 'pipe' })
    : new StdioV1({ ...server, stderr: 'pipe' });
  const stderr = transport.stderr as Readable | null;
  await raw.connect(transport);
  return { client: wrap(raw, era), stderr };
}

/** An MCP client of a Streamable HTTP endpoint. */
export async function httpClient(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<McpClient> {
  const { raw, era } = client(options, 'tripcal-http-tests');
  const transport = era === 'modern'
    ? new HttpV2(new URL(url), { requestInit: { headers } })
    : new HttpV1(new URL(url), { requestInit: { headers } });
  await raw.connect(transport);
  return wrap(raw, era);
}
