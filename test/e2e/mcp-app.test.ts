// Issue 21, the trip view as an MCP App: get_trip and create_itinerary link ui://tripcal/trip-view
// (tools/list shows their _meta.ui), the resource is served as text/html;profile=mcp-app, and in
// Debian's chromium a minimal host — an iframe and the ext-apps AppBridge, the host side of the
// protocol (ui/initialize → ui/notifications/initialized → ui/notifications/tool-result) — hands
// it a real get_trip result from the daemon. What the view shows is checked against the facts of
// the bookings: JL 62 Narita 17:00 Tokyo time → Los Angeles 10:30 local on 1 July 2025.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectHttp, startDaemonProcess, type HttpClient, type RunningDaemon } from '../support/daemon.js';
import { structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'test-output');
const URI = 'ui://tripcal/trip-view';
const MIME = 'text/html;profile=mcp-app';

let daemon: RunningDaemon;
let client: HttpClient;
let browser: Browser;
let hostScript: string;
let created: any;
let got: any;

// The host page's script: the official host side of MCP Apps, bundled for the browser.
const HOST = `
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
window.showApp = async (html, toolInput, toolResult) => {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.title = 'Trip view';
  iframe.style.cssText = 'width: 900px; height: 300px; border: 1px solid #888';
  document.body.appendChild(iframe);
  const bridge = new AppBridge(null, { name: 'tripcal test host', version: '1.0.0' }, {});
  window.hostLog = window.hostLog || [];
  bridge.onsizechange = ({ height }) => { window.hostLog.push('size ' + height); if (height) iframe.style.height = height + 'px'; };
  const initialized = new Promise((resolve) => { bridge.oninitialized = resolve; });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = html;
  await initialized;
  window.hostLog.push('initialized');
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  window.hostLog.push('result sent');
};
`;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), ['log_level: warn', 'users:', '  me:', '    timezone: America/Los_Angeles', 'http:', `  listen: 127.0.0.1:${port}`, ''].join('\n'));
  daemon = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir]);
  client = await connectHttp(daemon.mcpUrl);
  const input = {
    trip_name: 'Tokyo <img src=x onerror="parent.pwned=1"> to Los Angeles',
    flights: [{ airline: 'Japan Airlines', flight_number: 'JL62', departure_airport: 'NRT', arrival_airport: 'LAX', departure_time: '2025-07-01T17:00', arrival_time: '2025-07-01T10:30' }],
    accommodations: [{ name: 'Hotel Figueroa', check_in: '2025-07-01T15:00', check_out: '2025-07-04T11:00', timezone: 'America/Los_Angeles' }],
    // Booked for 20:00 Tokyo time, while JL 62 is in the air: a trip check says so.
    activities: [{ name: 'Dinner in Shibuya', start_time: '2025-07-01T20:00', end_time: '2025-07-01T22:00', timezone: 'Asia/Tokyo' }],
  };
  created = await client.call('create_itinerary', input);
  got = await client.call('get_trip', { trip_id: structured(created).trip_id });
  hostScript = (await build({ stdin: { contents: HOST, resolveDir: ROOT }, bundle: true, write: false, platform: 'browser', format: 'iife', logLevel: 'warning' })).outputFiles[0]!.text;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

afterAll(async () => {
  await browser?.close();
  await client?.close();
  await daemon?.stop();
});

/** The view in the test host, given this tool result; the App's frame once it has shown it. */
async function hostWith(result: any, toolInput: Record<string, unknown>): Promise<{ page: Page; app: FrameLocator; problems: string[] }> {
  const read = await client.client.readResource({ uri: URI });
  const page = await browser.newPage({ viewport: { width: 960, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  await page.setContent('<!doctype html><html><head><title>Host</title></head><body><h1>A minimal MCP Apps host</h1></body></html>');
  await page.addScriptTag({ content: hostScript });
  await page.evaluate(([html, args, res]) => (window as any).showApp(html, args, res), [read.contents[0].text, toolInput, result] as const);
  const app = page.frameLocator('iframe[title="Trip view"]');
  await app.locator('section.trip').waitFor();
  return { page, app, problems };
}

test('get_trip and create_itinerary link the trip view; their results are unchanged for hosts without it', async () => {
  const { tools } = await client.client.listTools();
  const byName = new Map(tools.map((t: any) => [t.name, t]));
  for (const name of ['get_trip', 'create_itinerary']) {
    const tool: any = byName.get(name);
    expect(tool._meta.ui.resourceUri, name).toBe(URI);
    expect(tool._meta['ui/resourceUri'], name).toBe(URI);
  }
  expect((byName.get('get_trip') as any).annotations).toMatchObject({ readOnlyHint: true });
  for (const tool of tools) if (!['get_trip', 'create_itinerary'].includes(tool.name)) expect(tool._meta?.ui, tool.name).toBeUndefined();
  // The text and the structured result are there as before.
  expect(got.content[0].type).toBe('text');
  expect(JSON.parse(got.content[0].text)).toEqual(got.structuredContent);
  expect(Object.keys(got.structuredContent).sort()).toEqual(['items', 'itinerary', 'success', 'trip', 'untrusted', 'warnings']);
  expect(Object.keys(structured(created)).sort()).toEqual(['calendar_link', 'events', 'message', 'success', 'sync', 'trip', 'trip_id', 'untrusted']);
});

test('the resource is an MCP App document, listed and readable', async () => {
  const { resources } = await client.client.listResources();
  expect(resources.find((r: any) => r.uri === URI)).toMatchObject({ mimeType: MIME, name: 'trip-view' });
  const read = await client.client.readResource({ uri: URI });
  expect(read.contents).toHaveLength(1);
  expect(read.contents[0]).toMatchObject({ uri: URI, mimeType: MIME, _meta: { ui: { prefersBorder: true } } });
  expect(read.contents[0].text).toMatch(/^<!doctype html>[\s\S]*<script>[\s\S]+<\/script><\/body><\/html>$/);
});

test('in a host, the App shows the get_trip result: local days, the flight in Tokyo and Los Angeles time, the check on its items', async () => {
  const { page, app, problems } = await hostWith(got, { trip_id: got.structuredContent.trip.id });
  const flight = app.locator('li.entry.flight', { hasText: 'JL62' });
  expect(await flight.innerText()).toMatch(/17:00 Tokyo → 10:30 Los Angeles/);
  expect(await app.locator('li.day', { has: flight }).locator('h3').innerText()).toBe('Tue 1 Jul 2025');
  const dinner = app.locator('li.entry.activity', { hasText: 'Dinner in Shibuya' });
  expect(await dinner.innerText()).toMatch(/20:00–22:00 Tokyo/);
  expect(await dinner.innerText()).toMatch(/⚠ Check: activity .* is while flight .* is in the air/);
  expect(await flight.innerText()).toMatch(/⚠ Check:/);
  // The title is outside text: shown as it is, never as markup.
  expect(await app.locator('h2').innerText()).toBe('Tokyo <img src=x onerror="parent.pwned=1"> to Los Angeles');
  expect(await app.locator('img').count()).toBe(0);
  expect(await page.evaluate(() => (window as any).pwned)).toBeUndefined();
  // It told the host its height, and the host made room for it.
  await expect.poll(() => page.evaluate(() => (window as any).hostLog.filter((l: string) => l.startsWith('size ')).length)).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).hostLog)).toContain('result sent');
  await page.screenshot({ path: join(OUT, 'mcp-app.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
});

test('…and the create_itinerary result the same way', async () => {
  const { page, app, problems } = await hostWith(created, {});
  expect(await app.locator('li.entry.flight', { hasText: 'JL62' }).innerText()).toMatch(/17:00 Tokyo → 10:30 Los Angeles/);
  expect(await app.locator('li.entry.check-out', { hasText: 'Hotel Figueroa' }).innerText()).toMatch(/11:00 Los Angeles/);
  expect(problems).toEqual([]);
  await page.close();
});
