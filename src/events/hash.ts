// The content hash of an event: every field a calendar shows, in one canonical string. Desired
// events and remote events read back are hashed the same way.
import { createHash } from 'node:crypto';
import type { EventContent } from '../../providers/types.js';

export function contentHash(event: EventContent): string {
  const shown = [
    event.summary, event.description, event.location ?? '', event.allDay ? 'all-day' : 'timed',
    event.start.utc, event.start.zone, event.end.utc, event.end.zone,
    event.reminders.map((r) => `${r.method}:${r.minutesBefore}`).join(','), event.transparent ? 'transparent' : 'opaque',
  ].join('\u0000');
  return createHash('sha256').update(shown).digest('hex').slice(0, 32);
}
