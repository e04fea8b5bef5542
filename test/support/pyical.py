# Independent check of our .ics with Debian's python3-icalendar: reads iCalendar text on stdin,
# prints each VEVENT as JSON (times as ISO with their offsets, TZIDs, alarm triggers).
import json
import sys

import icalendar

cal = icalendar.Calendar.from_ical(sys.stdin.read())
events = []
for ev in cal.walk('VEVENT'):
    def when(name):
        prop = ev.get(name)
        if prop is None:
            return None
        return {'value': prop.dt.isoformat(), 'tzid': prop.params.get('TZID')}
    events.append({
        'uid': str(ev.get('UID')),
        'summary': str(ev.get('SUMMARY')),
        'description': str(ev.get('DESCRIPTION', '')),
        'location': str(ev.get('LOCATION', '')),
        'dtstart': when('DTSTART'),
        'dtend': when('DTEND'),
        'alarms': [str(a.get('TRIGGER').to_ical(), 'ascii') for a in ev.walk('VALARM')],
        'x_key': str(ev.get('X-TRIPCAL-KEY')),
    })
print(json.dumps({'timezones': [str(tz.get('TZID')) for tz in cal.walk('VTIMEZONE')], 'events': events}))
