// The trip view (web/trip-view.ts) on a hand-written model: the times a traveller reads come from
// the model's local wall times (known facts below), never from the host's zone; outside text can
// make no markup; warnings sit on the items they concern.
import { describe, expect, test } from 'vitest';
import { dayLabel, escapeHtml, modelOfResult, renderTrip, zoneName, type TripModel } from '../../src/web/trip-view.js';

const t = (utc: string, local: string, timezone: string) => ({ utc, local, timezone });

// JL 62: Tokyo Narita 17:00 JST (UTC+9) → Los Angeles 10:30 PDT (UTC−7), the same calendar day.
const model: TripModel = {
  trip: { id: 'trip_1', title: 'Japan & back <script>alert(1)</script>', timezone: 'Asia/Tokyo', start_date: '2025-07-01', end_date: '2025-07-03' },
  items: [
    {
      id: 'item_f', kind: 'flight', summary: 'Flight: Japan Airlines JL62', all_day: false,
      start: t('2025-07-01T08:00:00Z', '2025-07-01T17:00:00+09:00', 'Asia/Tokyo'),
      end: t('2025-07-01T17:30:00Z', '2025-07-01T10:30:00-07:00', 'America/Los_Angeles'),
      details: { departure_airport: 'NRT', arrival_airport: 'LAX', seat: '31K' },
    },
    {
      id: 'item_s', kind: 'stay', summary: 'The "Line" Hotel', all_day: false,
      start: t('2025-07-01T22:00:00Z', '2025-07-01T15:00:00-07:00', 'America/Los_Angeles'),
      end: t('2025-07-03T18:00:00Z', '2025-07-03T11:00:00-07:00', 'America/Los_Angeles'),
      details: { name: 'The "Line" Hotel', address: '3515 Wilshire Blvd' },
    },
  ],
  warnings: [{ code: 'no_accommodation', message: 'no stay for the night of <b>2025-07-02</b>', item_ids: ['item_f'] }],
};

describe('the trip view', () => {
  const html = renderTrip(model);
  const plain = html.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));

  test('a flight shows its departure and arrival in their own zones, on the traveller\'s local day', () => {
    expect(plain).toContain('Flight 17:00 Tokyo → 10:30 Los Angeles Flight: Japan Airlines JL62 NRT → LAX');
    expect(plain).toContain('Tue 1 Jul 2025');
    expect(plain).toContain('Check-in 15:00 Los Angeles');
    // Check-out is on its own local day.
    expect(html.indexOf('Thu 3 Jul 2025')).toBeLessThan(html.indexOf('Check-out'));
  });

  test('warnings are marked on the items they concern, in words', () => {
    expect(html).toMatch(/<li class="entry flight has-warning" id="item-trip_1-item_f"[^>]*>.*⚠ Check:/);
    expect(html).not.toMatch(/class="entry check-in has-warning"/);
    expect(plain).toContain('1 thing to check');
  });

  test('outside text is never markup', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&#60;script&#62;');
    expect(escapeHtml('a"b\'c\u202e')).toBe('a&#34;b&#39;c');
  });

  test('helpers', () => {
    expect(zoneName('America/Argentina/Buenos_Aires')).toBe('Buenos Aires');
    expect(zoneName('UTC')).toBe('UTC');
    expect(dayLabel('2024-02-29')).toBe('Thu 29 Feb 2024');
    expect(modelOfResult({ trip: model.trip, events: model.items })!.items).toHaveLength(2);
    expect(modelOfResult({ success: false })).toBeNull();
  });
});
