// Packaging (issue 18): server.json for the MCP registry, and the .mcpb bundle for Claude Desktop.
// The bundle is built by scripts/mcpb.mjs, unpacked, its manifest validated with `mcpb validate`,
// its mcp_config resolved the way Claude Desktop does (@anthropic-ai/mcpb's getMcpConfigForManifest:
// ${__dirname} = the unpacked directory, ${user_config.*} = the user's values over the defaults),
// and exactly that command is started and driven with the MCP SDK's client over stdio.
import { getMcpConfigForManifest, replaceVariables, unpackExtension } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { structured, tempDir } from '../support/mcp.js';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const serverJson = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8'));
const run = promisify(execFile);

describe('server.json for the MCP registry', () => {
  test('is valid against the registry\'s own schema (2025-12-11, vendored in test/fixtures/registry)', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/registry/server.schema.2025-12-11.json'), 'utf8'));
    expect(serverJson.$schema).toBe(schema.$id);
    const ajv = new Ajv({ allErrors: true, strict: false });
    (addFormats as unknown as (ajv: Ajv) => void)(ajv);
    const validate = ajv.compile(schema);
    expect(validate(serverJson), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The validator is not toothless: the registry's own examples of invalid input fail.
    for (const broken of [
      { ...serverJson, name: 'tripcal' },
      { ...serverJson, description: 'x'.repeat(101) },
      { ...serverJson, packages: [{ ...serverJson.packages[0], version: 'latest' }] },
      { ...serverJson, remotes: [{ ...serverJson.remotes[0], url: 'ftp://{host}/mcp' }] },
    ]) expect(validate(broken)).toBe(false);
  });

  test('names the package.json it describes: mcpName, versions, the stdio package and the daemon remote', () => {
    expect(pkg.mcpName).toBe(serverJson.name);
    expect(serverJson.name).toMatch(/^io\.github\.[A-Za-z0-9-]+\/[a-zA-Z0-9._-]+$/);
    expect(serverJson.version).toBe(pkg.version);
    const [npm, ...others] = serverJson.packages;
    expect(others).toEqual([]);
    expect(npm).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version, transport: { type: 'stdio' } });
    expect(npm.packageArguments.map((a: { value: string }) => a.value)).toEqual(['serve']);
    const env = Object.fromEntries(npm.environmentVariables.map((v: { name: string; isSecret: boolean }) => [v.name, v.isSecret]));
    expect(env).toMatchObject({
      TRIPCAL_DATA_DIR: false, GOOGLE_CLIENT_ID: false, GOOGLE_CLIENT_SECRET: true, GOOGLE_REDIRECT_URI: false,
      MS_CLIENT_ID: false, TRIPCAL_ENCRYPTION_KEY: true,
    });
    const [remote] = serverJson.remotes;
    expect(remote.type).toBe('streamable-http');
    // Every {variable} of the URL and of the header values is declared.
    for (const name of remote.url.match(/\{(\w+)\}/g)!.map((v: string) => v.slice(1, -1))) expect(remote.variables).toHaveProperty(name);
    const auth = remote.headers.find((h: { name: string }) => h.name === 'Authorization');
    expect(auth).toMatchObject({ isSecret: true, isRequired: true, value: 'Bearer {token}' });
    expect(auth.variables.token.isSecret).toBe(true);
    expect(new URL(remote.url.replace('{host}', 'tripcal.example.com')).pathname).toBe('/mcp');
  });
});

describe('the .mcpb bundle', () => {
  const work = tempDir('tripcal-mcpb-test-');
  const bundle = join(work, 'tripcal.mcpb');
  const unpacked = join(work, 'unpacked');
  let manifest: any;
  let buildSeconds = 0;

  beforeAll(async () => {
    const started = Date.now();
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts/mcpb.mjs'), '--out', bundle], { cwd: ROOT, timeout: 150_000 });
    buildSeconds = (Date.now() - started) / 1000;
    console.log(stdout.trim());
    expect(await unpackExtension({ mcpbPath: bundle, outputDir: unpacked, silent: true })).toBe(true);
    manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('is built in bounded time and stays small', () => {
    expect(buildSeconds).toBeLessThan(150);
    expect(statSync(bundle).size).toBeLessThan(40 * 1024 * 1024);
  });

  test('its manifest passes `mcpb validate` and matches package.json and server.json', async () => {
    const mcpb = join(ROOT, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js');
    const { stdout } = await run(process.execPath, [mcpb, 'validate', join(unpacked, 'manifest.json')], { timeout: 30_000 });
    expect(stdout).toContain('validation passes');
    expect(manifest).toMatchObject({
      manifest_version: '0.3', name: pkg.name, version: pkg.version, description: serverJson.description,
      server: { type: 'node', entry_point: 'dist/tripcal.mjs', mcp_config: { command: 'node', args: ['${__dirname}/dist/tripcal.mjs', 'serve'] } },
      compatibility: { platforms: [process.platform] },
    });
    expect(manifest.user_config.data_dir).toMatchObject({ type: 'directory', required: false });
    expect(manifest.user_config.google_client_id.sensitive).toBe(true);
    expect(manifest.user_config.google_client_secret.sensitive).toBe(true);
  });

  test('carries the runtime and nothing of the development setup', () => {
    for (const file of ['manifest.json', 'dist/tripcal.mjs', 'package.json', 'LICENSE', 'README.md',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'node_modules/googleapis/build/src/apis/calendar/v3.js',
      'node_modules/@modelcontextprotocol/server/package.json']) expect(existsSync(join(unpacked, file)), file).toBe(true);
    expect(readdirSync(join(unpacked, 'dist/chunks')).length).toBeGreaterThan(0);
    for (const dev of ['vitest', 'typescript', 'esbuild', '@anthropic-ai', 'fast-check', '@modelcontextprotocol/sdk', '@modelcontextprotocol/client', '.bin']) {
      expect(existsSync(join(unpacked, 'node_modules', dev)), dev).toBe(false);
    }
    expect(readdirSync(join(unpacked, 'node_modules/googleapis/build/src/apis'))).toEqual(['calendar']);
    const staged = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    expect(staged.scripts).toBeUndefined();
    expect(staged.devDependencies).toBeUndefined();
  });

  /** Starts what `config` says, over stdio, with the SDK's client, from a neutral cwd and HOME. */
  async function start(config: { command: string; args?: string[]; env?: Record<string, string> }, home: string) {
    const transport = new StdioClientTransport({
      command: config.command,
      args: config.args ?? [],
      env: { ...getDefaultEnvironment(), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'), ...config.env },
      cwd: home,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
    await client.connect(transport).catch((error) => {
      throw new Error(`${error}\n${stderr}`);
    });
    const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
    return { client, call, stderr: () => stderr };
  }

  test('the server its manifest describes starts, lists the manifest\'s tools and keeps trips in the chosen data directory', async () => {
    const home = join(work, 'home');
    const dataDir = join(work, 'chosen data dir');
    mkdirSync(home, { recursive: true });
    const config = await getMcpConfigForManifest({
      manifest,
      extensionPath: unpacked,
      systemDirs: { HOME: home, DESKTOP: join(home, 'Desktop'), DOCUMENTS: join(home, 'Documents'), DOWNLOADS: join(home, 'Downloads') },
      userConfig: { data_dir: dataDir, google_client_id: '1234-test.apps.googleusercontent.com', google_client_secret: 'GOCSPX-test' },
      pathSeparator: sep,
    });
    expect(config).toBeDefined();
    expect(config!.command).toBe('node');
    expect(config!.args).toEqual([join(unpacked, 'dist/tripcal.mjs'), 'serve']);
    expect(config!.env).toEqual({
      TRIPCAL_DATA_DIR: dataDir, GOOGLE_CLIENT_ID: '1234-test.apps.googleusercontent.com', GOOGLE_CLIENT_SECRET: 'GOCSPX-test', MS_CLIENT_ID: '',
    });

    const server = await start(config!, home);
    try {
      expect(server.client.getServerVersion()).toMatchObject({ name: 'tripcal', version: pkg.version });
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(manifest.tools.map((t: { name: string }) => t.name));
      for (const [i, tool] of tools.entries()) expect(tool.description!.replace(/\s+/g, ' ')).toContain(manifest.tools[i].description);

      const added = structured(await server.call('add_activity', { activity_details: { name: 'Bundle walk', start_time: '2026-07-01T10:00:00Z' } }));
      const { trips } = structured(await server.call('list_trips', {}));
      expect(trips.map((t: { id: string }) => t.id)).toContain(added.trip_id);
      expect(existsSync(join(dataDir, 'tripcal.db')), server.stderr()).toBe(true);
    } finally {
      await server.client.close();
    }
  });

  test('a host that passes empty optional fields as literal ${user_config.…} placeholders still gets a working server', async () => {
    const home = join(work, 'home-literal');
    mkdirSync(home, { recursive: true });
    // Only ${__dirname} resolved: what some hosts do with fields the user left empty.
    const config = replaceVariables(manifest.server.mcp_config, { __dirname: unpacked }) as { command: string; args: string[]; env: Record<string, string> };
    expect(config.env.TRIPCAL_DATA_DIR).toBe('${user_config.data_dir}');
    const server = await start(config, home);
    try {
      const added = structured(await server.call('add_activity', { activity_details: { name: 'Default dir', start_time: '2026-07-02T10:00:00Z' } }));
      expect(added.trip_id).toMatch(/^trip_/);
      expect(existsSync(join(home, '.local/share/tripcal/tripcal.db')), server.stderr()).toBe(true);
      expect(readdirSync(home).filter((name) => name.includes('$'))).toEqual([]);
      const listed = await server.call('list_calendars', {});
      expect(JSON.stringify(listed.content)).not.toContain('user_config');
    } finally {
      await server.client.close();
    }
  });
});
