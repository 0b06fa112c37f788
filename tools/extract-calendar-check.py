#!/usr/bin/env python3
"""Writes the second, independent calendar source the domain crate's tests compare against.

Outputs, in crates/fengqiao-domain/tests/data/:

  chinese_calendar_workdays.csv  `date,is_workday`, one line per day 2004-01-01..2026-12-31, from
                                 PyPI chinese-calendar 1.11.0 (`chinese_calendar.is_workday`).
  festivals_check.csv            `year,lunar_new_year,qingming,dragon_boat,mid_autumn`, 2004–2060:
                                 lunar dates from PyPI lunardate 0.3.0, the Qingming solar term
                                 computed from the Sun's apparent longitude (15°) with PyPI ephem,
                                 as dates in China Standard Time (UTC+08:00).

How to regenerate (from the workspace root):

  python3 -m venv /tmp/cc-venv
  /tmp/cc-venv/bin/pip install chinese-calendar==1.11.0 lunardate==0.3.0 ephem==4.2.1
  /tmp/cc-venv/bin/python tools/extract-calendar-check.py

Usage: extract-calendar-check.py [output-dir]
"""

import datetime
import pathlib
import sys

import chinese_calendar
import ephem
import lunardate

FIRST = datetime.date(2004, 1, 1)
LAST = datetime.date(2026, 12, 31)
FESTIVAL_YEARS = range(2004, 2061)
CST = datetime.timedelta(hours=8)


def sun_longitude(when):
    """The Sun's apparent geocentric ecliptic longitude (radians, equinox of date) at `when`."""
    sun = ephem.Sun()
    sun.compute(when)
    equatorial = ephem.Equatorial(sun.g_ra, sun.g_dec, epoch=when)
    return float(ephem.Ecliptic(equatorial, epoch=when).lon)


def qingming(year):
    """The China Standard Time date on which the Sun's apparent longitude reaches 15°."""
    target = ephem.degrees("15")
    low = ephem.Date(datetime.datetime(year, 3, 30))
    high = ephem.Date(datetime.datetime(year, 4, 10))
    if not (sun_longitude(low) < target < sun_longitude(high)):
        raise SystemExit(f"{year}: Qingming not bracketed")
    while high - low > 1.0 / 86400:  # one second
        mid = ephem.Date((low + high) / 2)
        if sun_longitude(mid) < target:
            low = mid
        else:
            high = mid
    return (ephem.Date(high).datetime() + CST).date()


def lunar(year, month, day):
    return lunardate.LunarDate(year, month, day, False).to_solar_date()


def main():
    here = pathlib.Path(__file__).resolve().parent
    out_dir = (
        pathlib.Path(sys.argv[1])
        if len(sys.argv) > 1
        else here.parent / "crates" / "fengqiao-domain" / "tests" / "data"
    )
    out_dir.mkdir(parents=True, exist_ok=True)

    lines = ["date,is_workday"]
    day = FIRST
    while day <= LAST:
        lines.append(f"{day.isoformat()},{1 if chinese_calendar.is_workday(day) else 0}")
        day += datetime.timedelta(days=1)
    (out_dir / "chinese_calendar_workdays.csv").write_text("\n".join(lines) + "\n")

    festivals = ["year,lunar_new_year,qingming,dragon_boat,mid_autumn"]
    for year in FESTIVAL_YEARS:
        row = [lunar(year, 1, 1), qingming(year), lunar(year, 5, 5), lunar(year, 8, 15)]
        festivals.append(",".join([str(year)] + [d.isoformat() for d in row]))
    (out_dir / "festivals_check.csv").write_text("\n".join(festivals) + "\n")

    print(
        f"extract-calendar-check: {len(lines) - 1} days, {len(festivals) - 1} festival years "
        f"-> {out_dir}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
