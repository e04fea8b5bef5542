// JSON batching (reference §7): up to 20 requests in one POST /$batch, each with a string id
// unique in the batch, a relative URL, and Content-Type when it has a body; the answers come back
// in any order, matched by id, each with its own status (a 429 inside an outer 200).
// The parts are chained with dependsOn (each on the one before): Outlook runs at most 4 requests
// per mailbox at once, and parts of a parallel batch beyond that are throttled (429
// ApplicationThrottled, MailboxConcurrency); a sequential batch uses one (learn Q&A 734143, 968767;
// json-batching "Sequencing requests with the dependsOn property"). A part whose predecessor failed
// is not run (424 Failed Dependency) and is sent again, so one failed write never fails its neighbours.
import type { Answer, Call } from '../batcher.js';

export interface BatchResult {
  responses?: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }>;
}

export function batchBody(calls: readonly Call[], prefer: string): { requests: unknown[] } {
  return {
    requests: calls.map((call, i) => ({
      id: String(i + 1),
      ...(i > 0 ? { dependsOn: [String(i)] } : {}),
      method: call.method,
      url: call.path,
      headers: { ...call.headers, Prefer: prefer, ...(call.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(call.body !== undefined ? { body: call.body } : {}),
    })),
  };
}

/** §7: the dependent request of a failed one, not run. */
export const FAILED_DEPENDENCY = 424;

/** The answers in call order; a call the batch did not answer gets a 503 to retry. */
export function batchAnswers(calls: readonly Call[], result: BatchResult): Answer[] {
  const byId = new Map((result.responses ?? []).map((r) => [r.id, r]));
  return calls.map((_, i) => {
    const r = byId.get(String(i + 1));
    if (!r) return { status: 503, headers: {}, body: { error: { code: 'serviceNotAvailable', message: 'no answer for this request in the batch' } } };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
    return { status: r.status, headers, body: r.body };
  });
}
