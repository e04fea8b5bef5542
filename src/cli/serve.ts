// `tripcal serve`: the MCP server over stdio. stdout carries the protocol and nothing else. The
// SDK decides the connection's protocol from its first message: a 2026-07-28 request (with its
// version and capabilities in `_meta`) or a 2025-11-25 `initialize`; both get the same tools.
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { openApp } from '../app.js';
import { log } from '../log.js';
import { createServer } from '../mcp/server.js';
import type { GlobalOptions } from './common.js';

const SHUTDOWN_GRACE_MS = 5000;

export async function serve(options: GlobalOptions): Promise<void> {
  const app = await openApp({ configPath: options.config, dataDir: options.dataDir });
  let stopping = false;
  let handle: ReturnType<typeof serveStdio> | undefined;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { reason });
    void handle?.close().catch(() => undefined);
    // Let a sync in flight record its last answer, but never hang on a calendar that stopped answering.
    const deadline = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    void Promise.race([app.close(), deadline]).finally(() => process.exit(0));
  };
  process.stdin.on('end', () => stop('stdin closed'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  handle = serveStdio(({ era }) => createServer(app, { era, connection: true }), {
    onerror: (error: Error) => log.warn('MCP message refused', { error: error.message }),
  });
  log.info('tripcal MCP server on stdio', { data_dir: app.dataDir, config: app.configPath ?? 'built-in defaults' });
  // Rewrite every feed once, after the client can already talk to us, so no feed stays stale after a crash.
  setImmediate(() => {
    Promise.resolve().then(() => app.feeds.publishAll())
      .catch((error: Error) => log.error('could not rewrite the feeds at start-up', { error: error.message }));
  });
}
