// Time zone names as every calendar accepts them: the modern IANA spelling, whatever case or
// alias the user typed. Node's ICU resolves any accepted name (asia/tokyo, US/Eastern) to its
// own canonical one, but ICU keeps some spellings the tz database has since renamed
// (Asia/Calcutta for Asia/Kolkata): those are put right here, so a stored zone is the name the
// tz database, Python, Google and Microsoft Graph all use today.

/**
 * ICU's canonical names that the tz database renamed (the same place, a new spelling; from its
 * `backward` file). Zones merged into a neighbour (Europe/Bratislava → Prague) keep their names:
 * a traveller in Bratislava wants to read Bratislava.
 */
const RENAMED: Record<string, string> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
};

const known = new Map<string, string | null>();

/** The modern IANA name of `name` (any case, any alias Node accepts), or null when it is not a zone. */
export function canonicalZone(name: string): string | null {
  const typed = name.trim();
  let found = known.get(typed);
  if (found === undefined) {
    try {
      // Offsets and abbreviations ("+05:00", "EST") are not zones a calendar can show.
      if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(typed) || (!typed.includes('/') && !/^(UTC|GMT|UCT|Zulu|Universal|Greenwich)$/i.test(typed))) {
        throw new RangeError('not a zone name');
      }
      const icu = new Intl.DateTimeFormat('en-US', { timeZone: typed }).resolvedOptions().timeZone;
      found = RENAMED[icu] ?? icu;
    } catch {
      found = null;
    }
    known.set(typed, found);
  }
  return found;
}
