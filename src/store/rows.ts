// The model's rows as the database keeps them (snake_case, flags as 0/1, details as JSON text),
// and the domain records they make.
import type { Item, Trip } from '../model/types.js';

export function utcSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TripRow {
  id: string; user_id: string; title: string; timezone: string | null; notes: string | null;
  start_date: string | null; end_date: string | null; start_utc: string | null; end_utc: string | null;
  version: number; created_at: string; updated_at: string; deleted_at: string | null;
}

export interface ItemRow {
  id: string; trip_id: string; user_id: string; kind: Item['kind']; data: string;
  start_utc: string; end_utc: string; start_tz: string; end_tz: string; all_day: number;
  remind_before_hours: number; confirmation_code: string | null; source_uid: string | null;
  version: number; created_at: string; updated_at: string;
}

export interface UserRow { id: string; timezone: string; created_at: string }

export function toTrip(r: TripRow): Trip {
  return {
    id: r.id, userId: r.user_id, title: r.title, timezone: r.timezone, notes: r.notes,
    startDate: r.start_date, endDate: r.end_date, startUtc: r.start_utc, endUtc: r.end_utc,
    version: r.version, createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at,
  };
}

export function toItem(r: ItemRow): Item {
  return {
    id: r.id, tripId: r.trip_id, userId: r.user_id, kind: r.kind, details: JSON.parse(r.data),
    startUtc: r.start_utc, endUtc: r.end_utc, startTz: r.start_tz, endTz: r.end_tz, allDay: r.all_day === 1,
    remindBeforeHours: r.remind_before_hours, confirmationCode: r.confirmation_code, sourceUid: r.source_uid,
    version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
  } as Item;
}
