// The MCP App of the trip view, in the host's sandboxed frame: it speaks the MCP Apps protocol
// (JSON-RPC over postMessage with the host: ui/initialize, then ui/notifications/initialized) and
// renders every tool result it is sent (ui/notifications/tool-result: get_trip or
// create_itinerary) with the same trip view the daemon's page uses. Bundled for the browser by
// scripts/bundle.mjs and inlined in the ui://tripcal/trip-view resource (web/app-resource.ts).
// Hand-written instead of the ext-apps App class: that class brings the MCP SDK and zod along
// (half a megabyte), and the view needs four messages of the protocol.
import { escapeHtml, modelOfResult, renderTrip } from './trip-view.js';

/** The MCP Apps protocol version this view speaks (@modelcontextprotocol/ext-apps 2.x). */
const PROTOCOL_VERSION = '2026-01-26';

interface Message {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string };
}

interface ToolResult {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: unknown;
  isError?: boolean;
}

const root = document.getElementById('trip')!;
const host = window.parent;
let nextId = 1;
const waiting = new Map<number | string, (message: Message) => void>();

function post(message: Omit<Message, 'jsonrpc'>): void {
  host.postMessage({ jsonrpc: '2.0', ...message }, '*');
}

function request(method: string, params: Record<string, unknown>): Promise<Message> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    post({ id, method, params });
  });
}

let lastHeight = 0;
function sizeChanged(): void {
  const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  if (height === lastHeight) return;
  lastHeight = height;
  post({ method: 'ui/notifications/size-changed', params: { height } });
}

function show(result: ToolResult): void {
  const model = modelOfResult(result.structuredContent);
  if (model) root.innerHTML = renderTrip(model);
  else {
    const said = (result.content ?? []).map((c) => c.text ?? '').join('\n').trim();
    root.innerHTML = `<p class="notice">${result.isError ? 'The trip could not be shown' : 'No trip in this result'}${said ? `: ${escapeHtml(said)}` : '.'}</p>`;
  }
  root.setAttribute('aria-busy', 'false');
  sizeChanged();
}

window.addEventListener('message', (event: MessageEvent) => {
  if (event.source !== host) return;
  const message = event.data as Message | null;
  if (!message || message.jsonrpc !== '2.0') return;
  if (message.method === undefined) {
    // A response to one of ours.
    if (message.id !== undefined) {
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    }
    return;
  }
  if (message.method === 'ui/notifications/tool-result') show((message.params ?? {}) as ToolResult);
  else if (message.method === 'ui/notifications/tool-cancelled') show({ isError: true, content: [{ type: 'text', text: 'the call was cancelled' }] });
  else if (message.method === 'ui/notifications/host-context-changed') theme(message.params);
  else if (message.id !== undefined) {
    // Requests of the host: teardown and ping are answered; nothing else is offered.
    const known = message.method === 'ui/resource-teardown' || message.method === 'ping';
    post(known ? { id: message.id, result: {} } : { id: message.id, error: { code: -32601, message: `${message.method} is not supported by this view` } });
  }
});

function theme(context: Record<string, unknown> | undefined): void {
  const value = context?.theme;
  if (value === 'light' || value === 'dark') document.documentElement.style.colorScheme = value;
}

void request('ui/initialize', {
  appInfo: { name: 'tripcal trip view', version: '1' },
  appCapabilities: { availableDisplayModes: ['inline'] },
  protocolVersion: PROTOCOL_VERSION,
}).then((answer) => {
  theme((answer.result as { hostContext?: Record<string, unknown> } | undefined)?.hostContext);
  post({ method: 'ui/notifications/initialized', params: {} });
  new ResizeObserver(sizeChanged).observe(document.documentElement);
});
