import { expect, test } from 'vitest';
import { errorForStatus } from '../../providers/caldav/http.js';
import { AuthExpiredError, InvalidError } from '../../providers/types.js';
import { singleEventCalendar } from '../../core/ical/vevent.js';

test('a calendar object names each time zone once (RFC 5545 §3.6.5)', () => {
  const text = singleEventCalendar({
    key: 'item_x:activity', uid: 'item_x-activity@tripcal', tripId: 't', itemId: 'item_x', sequence: 1, summary: 'Tour', description: '', location: null,
    allDay: false, start: { utc: '2025-06-16T08:00:00Z', zone: 'Europe/Berlin' }, end: { utc: '2025-06-16T09:00:00Z', zone: 'Europe/Berlin' },
    reminders: [], transparent: false,
  }, '2025-01-01T00:00:00Z');
  expect(text.match(/BEGIN:VTIMEZONE/g)).toHaveLength(1);
});

test('a 403 on a write is that event refused; elsewhere it is the credentials', () => {
  expect(errorForStatus(403, 'PUT x', null, true)).toBeInstanceOf(InvalidError);
  expect(errorForStatus(403, 'PROPFIND x')).toBeInstanceOf(AuthExpiredError);
});
