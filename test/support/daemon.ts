// Starts the built `tripcal daemon` as a child process, reads its start banner (MCP URL, feed
// URLs), and connects an SDK client over Streamable HTTP, as an agent framework would (v2 on
// 2026-07-28, or the 1.x client with TRIPCAL_MCP_CLIENT=v1: support/clients.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { httpClient, type ClientOptions, type McpClient } from './clients.js';
import { CLI } from './mcp.js';

export interface RunningDaemon {
  child: ChildProcess;
  mcpUrl: string;
  feeds: Record<string, string>;
  healthUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export async function startDaemonProcess(args: string[], env: Record<string, string> = {}): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [CLI, 'daemon', ...args], {
    env: { ...process.env, TRIPCAL_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${stdout}\n${stderr}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/Background sync:.*\n/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}: ${stdout}\n${stderr}`));
    });
  });
  const feeds: Record<string, string> = {};
  for (const m of stdout.matchAll(/Feed of (\S+):\s+(http\S+)/g)) feeds[m[1]!] = m[2]!;
  return {
    child,
    mcpUrl: /MCP \(HTTP\):\s+(\S+)/.exec(stdout)![1]!,
    healthUrl: /Health:\s+(\S+)/.exec(stdout)![1]!,
    feeds,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface HttpClient {
  client: McpClient;
  call: (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

export async function connectHttp(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<HttpClient> {
  const client = await httpClient(url, headers, options);
  return {
    client,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
  };
}
