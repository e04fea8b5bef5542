// Provider registry: one entry per folder under providers/. Each is imported only when an
// account uses it, so an SDK nobody needs never slows start-up.
import type { CalendarProvider } from './types.js';

export interface CalDavSettings {
  kind: 'caldav';
  url: string;
  username: string;
  password: string;
  calendar: string;
}

export type ProviderSettings = CalDavSettings;

export const PROVIDER_KINDS = ['caldav'] as const;

export async function createProvider(settings: ProviderSettings): Promise<CalendarProvider> {
  switch (settings.kind) {
    case 'caldav': {
      const { CalDavProvider } = await import('./caldav/provider.js');
      return new CalDavProvider(settings);
    }
  }
}
