// Starts the real built server (`dist/tripcal.mjs serve`) as a child process and connects an SDK
// client over stdio, as Claude Desktop would: the v2 client on 2026-07-28, or with
// TRIPCAL_MCP_CLIENT=v1 the 1.x client on 2025-11-25 (support/clients.ts).
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stdioClient, type Era, type McpClient } from './clients.js';

/** The built, bundled command users run (`bin` in package.json). */
export const CLI = resolve(import.meta.dirname, '../../dist/tripcal.mjs');

export function tempDir(prefix = 'tripcal-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Connected {
  client: McpClient;
  dataDir: string;
  stderr: () => string;
  call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

export async function connect(
  options: { dataDir?: string; env?: Record<string, string>; args?: string[]; capabilities?: Record<string, unknown>; era?: Era } = {},
): Promise<Connected> {
  const dataDir = options.dataDir ?? tempDir();
  let stderr = '';
  const { client, stderr: stream } = await stdioClient({
    command: process.execPath,
    args: [CLI, ...(options.args ?? []), 'serve'],
    env: { ...(process.env as Record<string, string>), TRIPCAL_DATA_DIR: dataDir, ...options.env },
  }, { capabilities: options.capabilities, era: options.era });
  stream?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    client,
    dataDir,
    stderr: () => stderr,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
  };
}

/** The structuredContent of a successful call, failing loudly with the error text otherwise. */
export function structured<T = Record<string, any>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`tool failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export const SPEC_FLIGHT = {
  user_id: 'test_user',
  flight_details: {
    airline: 'United Airlines',
    flight_number: 'UA123',
    departure_airport: 'LAX',
    arrival_airport: 'JFK',
    departure_time: '2025-06-15T08:00:00Z',
    arrival_time: '2025-06-15T16:30:00Z',
    confirmation_code: 'ABC123',
    seat: '12A',
  },
  remind_before: 48,
};

/** The secrets a fake handed out appear nowhere in the data directory's database files. */
export function storedInClear(dataDir: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of ['tripcal.db', 'tripcal.db-wal']) {
    let bytes = '';
    try {
      bytes = readFileSync(join(dataDir, file)).toString('latin1');
    } catch {
      continue;
    }
    for (const secret of secrets) if (bytes.includes(secret)) found.push(secret);
  }
  return found;
}
