// Zod schemas for what users and clients send: the MCP tools' input schemas are built from these,
// so every tool names the same fields the same way. Lengths are capped so no input can bloat the
// database or a calendar.
import { z } from 'zod';
import { USER_ID } from '../config/schema.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => z.string().trim().max(max).optional();
const when = (example: string) =>
  z.string().trim().min(1).max(40).describe(`ISO 8601; with Z or an offset it is an instant, without it is local time (e.g. ${example})`);

export const UserIdSchema = z
  .string()
  .regex(USER_ID, 'letters, digits and . _ @ + - only, at most 64 characters')
  .optional()
  .describe('Whose trips; omit for the configured default user');

export const TripIdSchema = z.string().trim().min(1).max(64);

export const RemindBeforeSchema = z.number().min(0).max(24 * 28).describe('Hours before the start to remind; 0 for none');

export const FlightDetailsSchema = z.object({
  airline: text(100).describe('e.g. United Airlines'),
  flight_number: text(12).describe('e.g. UA123'),
  departure_airport: text(8).describe('IATA code, e.g. LAX'),
  arrival_airport: text(8).describe('IATA code, e.g. JFK'),
  departure_time: when('2025-06-15T08:00 at the departure airport'),
  arrival_time: when('2025-06-15T16:30 at the arrival airport'),
  confirmation_code: optionalText(64),
  seat: optionalText(16),
  terminal: optionalText(32),
  notes: optionalText(2000),
});

export const StayDetailsSchema = z.object({
  name: text(200).describe('Hotel or lodging name'),
  address: optionalText(500),
  check_in: when('2025-06-15T15:00; a date alone means 15:00'),
  check_out: when('2025-06-18T11:00; a date alone means 11:00'),
  confirmation_code: optionalText(64),
  phone: optionalText(40),
  timezone: optionalText(64).describe('IANA zone of the stay; default: the trip\'s, else the user\'s'),
  notes: optionalText(2000),
});

export const ActivityDetailsSchema = z.object({
  name: text(200),
  location: optionalText(500),
  start_time: when('2025-06-16T10:00; a date alone makes an all-day activity'),
  end_time: when('2025-06-16T12:00; default one hour after the start').optional(),
  description: optionalText(4000),
  timezone: optionalText(64).describe('IANA zone of the activity; default: the trip\'s, else the user\'s'),
  confirmation_code: optionalText(64),
});

export const CreateTripSchema = z.object({
  title: text(200),
  start_date: z.string().trim().max(10).optional().describe('YYYY-MM-DD'),
  end_date: z.string().trim().max(10).optional().describe('YYYY-MM-DD'),
  timezone: optionalText(64).describe('IANA zone for stays and activities given without one'),
  notes: optionalText(4000),
});

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0080-\u009f\u2028\u2029]/g;
/**
 * Bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069): they make text display in another order than it is stored and read, so a
 * name could show one thing to a person and say another to an assistant ("Trojan Source").
 */
export const BIDI_CONTROL = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Strips control characters (keeping newlines and tabs) and bidirectional controls, and
 * normalises line ends. Every text from outside passes here: item details typed or imported
 * (cleanDetails), trip titles and notes, .ics and schema.org imports, remote calendar events.
 */
export function cleanText(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(BIDI_CONTROL, '').trim();
}

/** cleanText over every string field of a details object; empty optional fields are dropped. */
export function cleanDetails<T extends object>(details: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string') {
      const cleaned = cleanText(value);
      if (cleaned !== '') out[key] = cleaned;
    } else if (value !== undefined) {
      out[key] = value;
    }
  }
  return out as T;
}
