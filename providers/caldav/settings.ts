// What the CalDAV provider is built from.
export interface CalDavSettings {
  kind: 'caldav';
  url: string;
  username: string;
  password: string;
  calendar: string;
}
