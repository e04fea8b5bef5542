# The time oracle of the tests: Python's zoneinfo (the system's tz database) and Debian's
# python3-icalendar, never tripcal's own time code. Commands (JSON on stdin, JSON on stdout):
#
#   read      iCalendar text -> each VEVENT's instants, read as RFC 5545 §3.3.5 reads them (a
#             TZID wall time that happens twice is its first occurrence; python3-icalendar 4
#             gives the second, through pytz, so only its parse of the text is used), and each
#             VTIMEZONE observance checked against zoneinfo.
#   instants  [{zone, wall}] -> the instant of each wall time (first occurrence), or null in a gap
#   local     [{zone, utc}] -> the wall time and offset of each instant
#   flights   {seed, count, airports} -> random flights, each with its inputs and expected instants
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

UTC = timezone.utc


def iso(dt):
    return dt.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def instant(wall, zone):
    """The first instant showing `wall` (naive) in `zone`, or None when the clocks skip it."""
    tz = ZoneInfo(zone)
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None
    second = wall.replace(tzinfo=tz, fold=1)
    return min(first.astimezone(UTC), second.astimezone(UTC))


def offset_text(seconds):
    sign = '-' if seconds < 0 else '+'
    seconds = abs(seconds)
    text = f'{sign}{seconds // 3600:02d}{seconds // 60 % 60:02d}'
    return text + (f'{seconds % 60:02d}' if seconds % 60 else '')


def read(text):
    cal = icalendar.Calendar.from_ical(text)
    events = []
    for ev in cal.walk('VEVENT'):
        def when(name):
            prop = ev.get(name)
            if prop is None:
                return None
            raw = prop.to_ical().decode()
            tzid = prop.params.get('TZID')
            if prop.params.get('VALUE') == 'DATE' or len(raw) == 8:
                return {'date': f'{raw[:4]}-{raw[4:6]}-{raw[6:8]}', 'tzid': None, 'utc': None}
            wall = datetime.strptime(raw[:15], '%Y%m%dT%H%M%S')
            if raw.endswith('Z'):
                return {'utc': iso(wall.replace(tzinfo=UTC)), 'tzid': None, 'wall': None}
            if tzid is None:
                return {'utc': None, 'tzid': None, 'wall': wall.isoformat(), 'floating': True}
            at = instant(wall, str(tzid))
            return {'utc': at and iso(at), 'tzid': str(tzid), 'wall': wall.isoformat()}
        events.append({
            'uid': str(ev.get('UID')),
            'key': str(ev.get('X-TRIPCAL-KEY')),
            'summary': str(ev.get('SUMMARY')),
            'start': when('DTSTART'),
            'end': when('DTEND'),
            'start_zone': str(ev.get('X-TRIPCAL-DTSTART-TZID')) if ev.get('X-TRIPCAL-DTSTART-TZID') else None,
            'end_zone': str(ev.get('X-TRIPCAL-DTEND-TZID')) if ev.get('X-TRIPCAL-DTEND-TZID') else None,
        })
    problems = []
    zones = []
    for vtz in cal.walk('VTIMEZONE'):
        zone = str(vtz.get('TZID'))
        zones.append(zone)
        problems.extend(check_vtimezone(zone, vtz))
    return {'events': events, 'timezones': zones, 'problems': problems}


def change_at(tz, lo, hi):
    """The first second of a new offset between lo and hi (one change between them)."""
    before = lo.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def check_vtimezone(zone, vtz):
    """Each observance is a change zoneinfo knows (or, the first, the offset then); none is missing."""
    tz = ZoneInfo(zone)
    problems = []
    listed = set()
    years = []
    for obs in vtz.subcomponents:
        wall = datetime.strptime(obs.get('DTSTART').to_ical().decode(), '%Y%m%dT%H%M%S')
        before = obs.get('TZOFFSETFROM').to_ical()
        after = obs.get('TZOFFSETTO').to_ical()
        before = before.decode() if isinstance(before, bytes) else str(before)
        after = after.decode() if isinstance(after, bytes) else str(after)
        at = (wall - parse_offset(before)).replace(tzinfo=UTC)
        years.append((at, wall.year))
        seen_after = offset_text(int(at.astimezone(tz).utcoffset().total_seconds()))
        seen_before = offset_text(int((at - timedelta(seconds=1)).astimezone(tz).utcoffset().total_seconds()))
        if normal(before) == normal(after):
            ok = seen_after == normal(after)
        else:
            ok = seen_after == normal(after) and seen_before == normal(before)
            listed.add(at)
        if not ok:
            problems.append(f'{zone} {obs.name} {wall.isoformat()}: written {before} -> {after}, zoneinfo {seen_before} -> {seen_after}')
    if years:
        t = min(at for at, _ in years)
        end = datetime(max(year for _, year in years) + 1, 1, 1, tzinfo=UTC)
        step = timedelta(hours=6)
        while t < end:
            if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
                change = change_at(tz, t, t + step)
                if change not in listed:
                    problems.append(f'{zone}: zoneinfo changes at {change.isoformat()}, the VTIMEZONE does not list it')
            t += step
    return problems


def parse_offset(text):
    sign = -1 if text.startswith('-') else 1
    digits = text[1:]
    seconds = int(digits[:2]) * 3600 + int(digits[2:4]) * 60 + (int(digits[4:6]) if len(digits) > 4 else 0)
    return timedelta(seconds=sign * seconds)


def normal(text):
    return offset_text(int(parse_offset(text).total_seconds()))


def local(utc, zone):
    at = datetime.strptime(utc, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return {'wall': at.replace(tzinfo=None).isoformat(), 'offset': offset_text(int(at.utcoffset().total_seconds())), 'date': at.date().isoformat()}


def transitions_near(zone, year):
    """Instants in `year` where `zone` changes its offset (to aim random times at gaps and repeats)."""
    tz = ZoneInfo(zone)
    found = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    while t < end:
        nxt = t + timedelta(days=1)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = t, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        t = nxt
    return found


def flights(seed, count, airports, weights):
    rnd = random.Random(seed)
    codes = list(airports)
    out = []
    for n in range(count):
        dep, arr = rnd.choices(codes, weights=[weights.get(c, 1) for c in codes], k=2)
        while arr == dep:
            arr = rnd.choice(codes)
        dz, az = ZoneInfo(airports[dep]), ZoneInfo(airports[arr])
        year = rnd.randint(1970, 2037)
        shape = rnd.random()
        changes = transitions_near(airports[dep], year) if shape < 0.35 else []
        if changes:
            # Aim at the wall clock just around a change: inside a gap, or inside a repeated hour.
            at = rnd.choice(changes)
            before = (at - timedelta(seconds=1)).astimezone(dz).utcoffset()
            after = at.astimezone(dz).utcoffset()
            lo = at.replace(tzinfo=None) + min(before, after)
            span = abs(after - before)
            wall = lo + timedelta(minutes=rnd.randrange(0, max(1, int(span.total_seconds() // 60)) + 30, 5)) - timedelta(minutes=15)
        else:
            wall = datetime(year, 1, 1) + timedelta(days=rnd.randrange(0, 365), minutes=rnd.randrange(0, 1440, 5))
        wall = wall.replace(second=0, microsecond=0)
        form = rnd.random()
        if form < 0.6:
            start = instant(wall, airports[dep])
            dep_input = wall.strftime('%Y-%m-%dT%H:%M')
            if start is None:
                out.append({'n': n, 'dep': dep, 'arr': arr, 'departure_time': dep_input, 'arrival_time': (wall + timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M'), 'refused': True})
                continue
        else:
            # An instant, with an offset or Z: any second pass of a repeated hour is reachable this way.
            start = wall.replace(tzinfo=UTC) - timedelta(hours=rnd.randint(-12, 12))
            local_start = start.astimezone(dz)
            off = int(local_start.utcoffset().total_seconds())
            if form < 0.8 and off % 60 == 0:
                dep_input = local_start.replace(tzinfo=None).isoformat() + offset_text(off)[:3] + ':' + offset_text(off)[3:5]
            else:
                dep_input = iso(start)
        minutes = rnd.randrange(30, 20 * 60, 5)
        end = start + timedelta(minutes=minutes)
        local_end = end.astimezone(az)
        end_off = int(local_end.utcoffset().total_seconds())
        end_wall = local_end.replace(tzinfo=None)
        # The arrival as a wall time when that reads back as the same instant, else as UTC.
        if instant(end_wall, airports[arr]) == end and rnd.random() < 0.7:
            arr_input = end_wall.strftime('%Y-%m-%dT%H:%M:%S')
        else:
            arr_input = iso(end)
        out.append({'n': n, 'dep': dep, 'arr': arr, 'departure_time': dep_input, 'arrival_time': arr_input,
                    'start_utc': iso(start), 'end_utc': iso(end), 'dep_zone': airports[dep], 'arr_zone': airports[arr], 'refused': False})
    return out


command = sys.argv[1]
if command == 'read':
    print(json.dumps(read(sys.stdin.read())))
else:
    args = json.loads(sys.stdin.read())
    if command == 'instants':
        print(json.dumps([(lambda at: at and iso(at))(instant(datetime.fromisoformat(a['wall']), a['zone'])) for a in args]))
    elif command == 'local':
        print(json.dumps([local(a['utc'], a['zone']) for a in args]))
    elif command == 'flights':
        print(json.dumps(flights(args['seed'], args['count'], args['airports'], args.get('weights', {}))))
    else:
        raise SystemExit(f'unknown command {command}')
