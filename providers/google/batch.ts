// Google batch requests, written by hand because googleapis for Node has none (reference §10;
// google-api-nodejs-client #2530): up to 1000 calls in one multipart/mixed POST to
// /batch/calendar/v3, each part a whole HTTP request with the path only, answered by one part per
// call in request order with `Content-ID: <response-…>`. Each call still counts against quota and
// may fail on its own, so every call keeps its own answer.
//
import { randomBytes } from 'node:crypto';
import { REQUEST_TIMEOUT_MS } from '../http.js';

import type { Answer, Call } from '../batcher.js';

export { WriteBatcher, type Answer, type Call } from '../batcher.js';

export function batchRequest(calls: readonly Call[]): { contentType: string; body: string } {
  const boundary = `batch_tripcal_${randomBytes(12).toString('hex')}`;
  const parts = calls.map((call, i) => {
    const json = call.body === undefined ? '' : JSON.stringify(call.body);
    const headers = Object.entries({ ...call.headers, ...(json ? { 'Content-Type': 'application/json; charset=UTF-8' } : {}) })
      .map(([k, v]) => `${k}: ${v}\r\n`).join('');
    return `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <item${i + 1}>\r\n\r\n`
      + `${call.method} ${call.path} HTTP/1.1\r\n${headers}\r\n${json}\r\n`;
  });
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: `${parts.join('')}--${boundary}--\r\n` };
}

function splitHead(text: string): [string, string] {
  const match = /\r?\n\r?\n/.exec(text);
  return match ? [text.slice(0, match.index), text.slice(match.index + match[0].length)] : [text, ''];
}

function headerMap(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The answers of a batch response, by the 0-based index of the call they answer. */
export function parseBatchResponse(contentType: string, text: string): Map<number, Answer> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error(`batch answer without a multipart boundary (${contentType})`);
  const answers = new Map<number, Answer>();
  for (const raw of text.split(`--${boundary}`).slice(1)) {
    if (raw.startsWith('--')) break;
    const [outer, http] = splitHead(raw.replace(/^\r?\n/, ''));
    const id = /<response-item(\d+)>/i.exec(headerMap(outer)['content-id'] ?? '')?.[1];
    const [head, body] = splitHead(http);
    const [statusLine, ...headerLines] = head.split(/\r?\n/);
    const status = Number(/^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(statusLine ?? '')?.[1]);
    if (!id || !status) continue;
    const trimmed = body.trim();
    let parsed: unknown = trimmed;
    try {
      parsed = trimmed ? JSON.parse(trimmed) : undefined;
    } catch {
      // not JSON: keep the text, the caller reports the status
    }
    answers.set(Number(id) - 1, { status, headers: headerMap(headerLines.join('\n')), body: parsed });
  }
  return answers;
}

/**
 * Sends the calls as one batch to `{origin}/batch/calendar/v3`; the answers come in call order. A
 * batch refused as a whole (401, 429, 5xx…) gives every call that answer. Network failures throw.
 */
export async function postBatch(origin: string, token: string, calls: readonly Call[]): Promise<Answer[]> {
  const { contentType, body } = batchRequest(calls);
  const res = await fetch(`${origin}/batch/calendar/v3`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) {
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    const answer = { status: res.status, headers: { 'retry-after': res.headers.get('retry-after') ?? '' }, body: parsed };
    return calls.map(() => answer);
  }
  const answers = parseBatchResponse(res.headers.get('content-type') ?? '', text);
  return calls.map((_, i) => answers.get(i) ?? { status: 503, headers: {}, body: { error: { code: 503, message: 'no answer for this call in the batch' } } });
}
