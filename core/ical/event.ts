// An event as tripcal writes it to any calendar: its content (what is compared), and the marker
// that makes it ours. The providers and the .ics renderer both speak this shape.

export interface EventTime {
  /** The instant, `YYYY-MM-DDTHH:MM:SSZ`. */
  utc: string;
  /** The IANA zone the time is shown in. */
  zone: string;
}

export interface Reminder {
  method: 'popup' | 'email';
  minutesBefore: number;
}

/** The fields of an event that tripcal manages and compares. */
export interface EventContent {
  summary: string;
  description: string;
  location: string | null;
  allDay: boolean;
  start: EventTime;
  end: EventTime;
  reminders: Reminder[];
  transparent: boolean;
}

/** An event to write: its content plus our marker. */
export interface OutgoingEvent extends EventContent {
  key: string;
  uid: string;
  tripId: string;
  itemId: string;
  /** Version number for SEQUENCE and the like. */
  sequence: number;
}
