"""SOQL's relative date literals (`TODAY`, `LAST_N_DAYS:30`, `THIS_QUARTER` ...) as half-open ranges of dates.

Reference: SOQL and SOSL Reference, "Date Formats and Date Literals"
(https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm).
- A literal is a range: `= THIS_WEEK` means inside it, `< THIS_WEEK` before its start, `> THIS_WEEK` after its end.
- Ranges start at 00:00:00 in the time zone of the user running the query; a dateTime field is compared with the
  range's bounds converted to UTC, a date field with the dates themselves. (The guide's table words the bounds as
  "00:00:00 UTC", while the same page says the range depends on the querying user's settings; orgs read them in
  the user's time zone, so the sandbox's New York integration user sees TODAY begin at 05:00 UTC in winter.)
- Weeks start on Sunday (the en_US locale); the org keeps the default fiscal year, which starts in January, so the
  FISCAL_ literals equal the calendar ones.
- LAST_N_DAYS:n and LAST_90_DAYS include today ("starts 00:00:00 of the current day and continues for the past n
  days"); NEXT_N_DAYS:n and NEXT_90_DAYS start tomorrow.
"""
import datetime as dt
import zoneinfo

from .store import now_stamp


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period(unit: str, today: dt.date) -> tuple:
    """(start of the period holding today, a function moving a period start by k periods)."""
    if unit == "DAY":
        return today, lambda start, k: start + dt.timedelta(days=k)
    if unit == "WEEK":
        start = today - dt.timedelta(days=(today.weekday() + 1) % 7)    # back to Sunday
        return start, lambda s, k: s + dt.timedelta(days=7 * k)
    if unit == "MONTH":
        return today.replace(day=1), _add_months
    if unit in ("QUARTER", "FISCAL_QUARTER"):
        start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return start, lambda s, k: _add_months(s, 3 * k)
    start = dt.date(today.year, 1, 1)     # YEAR, FISCAL_YEAR
    return start, lambda s, k: _add_months(s, 12 * k)


def date_range(name: str, n: int | None, today: dt.date) -> tuple:
    """[first day, day after the last) of the literal, as seen on `today`."""
    if name in ("YESTERDAY", "TODAY", "TOMORROW"):
        offset = {"YESTERDAY": -1, "TODAY": 0, "TOMORROW": 1}[name]
        return today + dt.timedelta(days=offset), today + dt.timedelta(days=offset + 1)
    if name == "LAST_90_DAYS":
        name, n = "LAST_N_DAYS", 90
    elif name == "NEXT_90_DAYS":
        name, n = "NEXT_N_DAYS", 90
    if n is None:
        when, unit = name.split("_", 1)             # LAST_WEEK, THIS_FISCAL_QUARTER ...
        start, move = _period(unit, today)
        shift = {"LAST": -1, "THIS": 0, "NEXT": 1}[when]
        return move(start, shift), move(start, shift + 1)
    if name.startswith("LAST_N_"):
        unit = name[len("LAST_N_"):-1]
        start, move = _period(unit, today)
        if unit == "DAY":
            return move(start, -n), move(start, 1)  # includes today
        return move(start, -n), start
    if name.startswith("NEXT_N_"):
        start, move = _period(name[len("NEXT_N_"):-1], today)
        return move(start, 1), move(start, 1 + n)
    start, move = _period(name[len("N_"):-len("S_AGO")], today)    # N_DAYS_AGO, N_WEEKS_AGO ...
    return move(start, -n), move(start, -n + 1)


def bounds(name: str, n: int | None, *, datetime_field: bool, zone: str, now: dt.datetime | None = None) -> tuple:
    """The range as the store holds the field: ISO dates, or UTC timestamps of the local midnights."""
    tz = zoneinfo.ZoneInfo(zone)
    local_now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(tz)
    first, after = date_range(name, n, local_now.date())
    if not datetime_field:
        return first.isoformat(), after.isoformat()
    return tuple(now_stamp(dt.datetime.combine(day, dt.time(), tzinfo=tz)) for day in (first, after))
