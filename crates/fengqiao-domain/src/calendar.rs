//! China's official working calendar (holidays, make-up working days 调休) and deadline arithmetic.
//!
//! Local time is China Standard Time, a fixed UTC+08:00 (Asia/Shanghai has had no daylight saving
//! since 1991), so no time-zone database is needed. Instants are `DateTime<Utc>`; the calendar
//! works on local dates.
//!
//! [`WorkingCalendar::official`] holds the State Council's notices for 2004–2026, embedded at
//! compile time from `data/calendar-cn.csv` (see `data/README.md`). A year with a notice is
//! *published*: its weekdays are working days unless a `holiday` row says otherwise, its weekends
//! days off unless a `workday` row (a make-up working day) says otherwise. Any other year is
//! *provisional*: weekends and the statutory holidays by the 2025 rule are off, with no make-up
//! days, and every answer that consulted such a day says so, to be recomputed when that year's
//! notice is imported with [`WorkingCalendar::with_year_notice`].
//!
//! Nothing here reads the clock: every function takes the instant it works from.

mod parse;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

pub use parse::CalendarError;
pub use rules::{FestivalDates, festival_dates, festival_years, holiday_by_rule};

/// The official calendar as published, `date,kind,name` (see `data/README.md`).
const OFFICIAL_CSV: &str = include_str!("../data/calendar-cn.csv");

/// China Standard Time's offset east of UTC, in seconds: +08:00 all year.
pub const SHANGHAI_UTC_OFFSET_SECS: i32 = 8 * 3600;

const OFFSET: TimeDelta = match TimeDelta::try_seconds(SHANGHAI_UTC_OFFSET_SECS as i64) {
    Some(offset) => offset,
    None => TimeDelta::zero(),
};
const ONE_DAY: TimeDelta = match TimeDelta::try_days(1) {
    Some(day) => day,
    None => TimeDelta::zero(),
};

/// The local (Asia/Shanghai) date and time of an instant.
pub fn local_datetime(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
        .checked_add_signed(OFFSET)
        .unwrap_or(NaiveDateTime::MAX)
}

/// The local (Asia/Shanghai) date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    local_datetime(at).date()
}

/// The local (Asia/Shanghai) time of day of an instant.
pub fn local_time(at: DateTime<Utc>) -> NaiveTime {
    local_datetime(at).time()
}

/// The instant of a local (Asia/Shanghai) date and time.
pub fn from_local(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .checked_sub_signed(OFFSET)
        .unwrap_or(NaiveDateTime::MIN)
        .and_utc()
}

/// The instant a local date begins: its 00:00 Asia/Shanghai.
pub fn start_of_local_day(date: NaiveDate) -> DateTime<Utc> {
    from_local(date.and_time(NaiveTime::MIN))
}

/// The instant a local date ends: its 24:00 Asia/Shanghai, which is the next day's 00:00.
pub fn end_of_local_day(date: NaiveDate) -> DateTime<Utc> {
    start_of_local_day(date)
        .checked_add_signed(ONE_DAY)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a date is a Saturday or Sunday.
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A published exception to the Monday–Friday week.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayOverride {
    /// A day off inside an official holiday period. The embedded data lists the Monday–Friday
    /// ones only (a weekend day is off anyway); an imported notice may list the period's weekend
    /// days too, which only names them.
    Holiday {
        /// The holiday's Chinese name (`春节`, `国庆节` …).
        name: String,
    },
    /// A make-up working day (调休上班) on a Saturday or Sunday.
    Workday {
        /// The Chinese name of the holiday it makes up for.
        name: String,
    },
}

impl DayOverride {
    /// The holiday's Chinese name.
    pub fn name(&self) -> &str {
        match self {
            Self::Holiday { name } | Self::Workday { name } => name,
        }
    }
}

/// What the calendar says about one local date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DayInfo {
    /// Whether it is a working day.
    pub working: bool,
    /// Whether the answer is by rule because no notice covers the date's year.
    pub provisional: bool,
    /// The holiday the day belongs to: for a day off, the holiday; for a make-up working day, the
    /// holiday it makes up for; `None` for an ordinary weekday or weekend.
    pub name: Option<String>,
}

/// A deadline: the instant it falls due, and whether any day consulted to reach it was provisional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The instant the time limit runs out (the case is late from this instant on).
    pub at: DateTime<Utc>,
    /// True if a day consulted lies in a year without a published notice: the deadline must be
    /// recomputed once that year's notice is imported.
    pub provisional: bool,
}

/// The daily working periods for limits counted in hours, in local (Asia/Shanghai) time.
///
/// Each period is `[start, end)`. [`Default`] is 08:30–12:00 and 14:00–17:30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkingHours {
    /// The morning period (start, end).
    pub morning: (NaiveTime, NaiveTime),
    /// The afternoon period (start, end).
    pub afternoon: (NaiveTime, NaiveTime),
}

const fn hm(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => NaiveTime::MIN,
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            morning: (hm(8, 30), hm(12, 0)),
            afternoon: (hm(14, 0), hm(17, 30)),
        }
    }
}

impl WorkingHours {
    /// Working hours, checked: each period must start before it ends and the morning must end no
    /// later than the afternoon starts (errors under `morning` or `afternoon`, code `order`).
    pub fn new(
        morning: (NaiveTime, NaiveTime),
        afternoon: (NaiveTime, NaiveTime),
    ) -> Result<Self, CalendarError> {
        if morning.0 >= morning.1 {
            return Err(CalendarError::whole(
                "morning",
                "order",
                "上午的开始时间应早于结束时间",
                "the morning must start before it ends",
            ));
        }
        if afternoon.0 >= afternoon.1 || afternoon.0 < morning.1 {
            return Err(CalendarError::whole(
                "afternoon",
                "order",
                "下午应在上午结束之后开始，且开始时间早于结束时间",
                "the afternoon must start after the morning ends and before it ends itself",
            ));
        }
        Ok(Self { morning, afternoon })
    }

    /// Whether a local time of day lies inside a working period (`[start, end)`).
    pub fn contains(&self, time: NaiveTime) -> bool {
        [self.morning, self.afternoon]
            .iter()
            .any(|(start, end)| *start <= time && time < *end)
    }

    /// The periods in order of their start, so that even unchecked hours count each minute once.
    fn periods(&self) -> [(NaiveTime, NaiveTime); 2] {
        if self.afternoon.0 < self.morning.0 {
            [self.afternoon, self.morning]
        } else {
            [self.morning, self.afternoon]
        }
    }
}

/// China's working calendar: the published notices, and the rule for the years without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    overrides: BTreeMap<NaiveDate, DayOverride>,
    published: BTreeSet<i32>,
    version: u32,
}

impl Default for WorkingCalendar {
    /// The same as [`WorkingCalendar::official`].
    fn default() -> Self {
        Self::official()
    }
}

impl WorkingCalendar {
    /// The official calendar embedded at compile time: the notices for 2004–2026, version 1.
    ///
    /// The embedded data is checked by the tests; were it ever unreadable, this returns the
    /// [`empty`](Self::empty) calendar (everything provisional) rather than panic. Use
    /// [`parse`](Self::parse) to see such an error.
    pub fn official() -> Self {
        Self::parse(OFFICIAL_CSV).unwrap_or_else(|_| Self::empty())
    }

    /// The embedded official calendar's CSV text (`date,kind,name`).
    pub fn official_csv() -> &'static str {
        OFFICIAL_CSV
    }

    /// A calendar with no published year: every day is provisional. Version 0.
    pub fn empty() -> Self {
        Self {
            overrides: BTreeMap::new(),
            published: BTreeSet::new(),
            version: 0,
        }
    }

    /// A calendar from a `date,kind,name` CSV holding complete years: every year that has a row is
    /// taken as published. Version 1.
    ///
    /// The CSV starts with the header `date,kind,name`; blank lines and `#` lines are skipped.
    /// `kind` is `holiday` (a day off inside a holiday period) or `workday` (a make-up working day,
    /// which must be a Saturday or Sunday); `name` is the rest of the line, unquoted. Each date
    /// appears once; there is at least one row.
    pub fn parse(csv: &str) -> Result<Self, CalendarError> {
        let rows = parse::read_rows(csv)?;
        let published = rows.iter().map(|row| row.date.year()).collect();
        let overrides = rows.into_iter().map(|row| (row.date, row.entry)).collect();
        Ok(Self {
            overrides,
            published,
            version: 1,
        })
    }

    /// This calendar with one year's State Council notice imported: the notice's rows replace any
    /// the year had, the year becomes published, and the version goes up by one.
    ///
    /// `notice_csv` is a `date,kind,name` CSV as for [`parse`](Self::parse), listing every
    /// holiday-period day and make-up working day of `year`; every row must be dated in `year`
    /// (error code `outside_year`, naming the line and row). Re-importing a year replaces it, so a
    /// corrected notice is imported whole.
    pub fn with_year_notice(
        &self,
        year: i32,
        notice_csv: &str,
    ) -> Result<WorkingCalendar, CalendarError> {
        if NaiveDate::from_ymd_opt(year, 1, 1).is_none() {
            return Err(CalendarError::whole(
                "year",
                "format",
                format!("年份 {year} 超出范围"),
                format!("the year {year} is out of range"),
            ));
        }
        let rows = parse::read_rows(notice_csv)?;
        if let Some(row) = rows.iter().find(|row| !parse::in_year(row, year)) {
            return Err(parse::outside_year(row, year));
        }
        let mut next = self.clone();
        next.overrides.retain(|date, _| date.year() != year);
        next.overrides
            .extend(rows.into_iter().map(|row| (row.date, row.entry)));
        next.published.insert(year);
        next.version = self.version.saturating_add(1);
        Ok(next)
    }

    /// The calendar's version: 0 for [`empty`](Self::empty), 1 as parsed, one more per import.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The years with a published notice, in order.
    pub fn published_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.published.iter().copied()
    }

    /// The last year with a published notice, if any.
    pub fn last_published_year(&self) -> Option<i32> {
        self.published.last().copied()
    }

    /// Whether `year` has a published notice.
    pub fn is_published(&self, year: i32) -> bool {
        self.published.contains(&year)
    }

    /// The published exception for a date, if any.
    pub fn override_on(&self, date: NaiveDate) -> Option<&DayOverride> {
        self.overrides.get(&date)
    }

    /// Every published exception, in date order.
    pub fn overrides(&self) -> impl Iterator<Item = (NaiveDate, &DayOverride)> + '_ {
        self.overrides.iter().map(|(date, entry)| (*date, entry))
    }

    /// What the calendar says about a local date.
    ///
    /// In a published year, weekends are off unless a `workday` row says otherwise and weekdays
    /// are working days unless a `holiday` row says otherwise. In any other year the day is
    /// provisional: off on weekends and on the statutory holidays by the 2025 rule
    /// ([`holiday_by_rule`]), with no make-up days.
    pub fn day(&self, date: NaiveDate) -> DayInfo {
        if self.published.contains(&date.year()) {
            return match self.overrides.get(&date) {
                Some(DayOverride::Holiday { name }) => DayInfo {
                    working: false,
                    provisional: false,
                    name: Some(name.clone()),
                },
                Some(DayOverride::Workday { name }) => DayInfo {
                    working: true,
                    provisional: false,
                    name: Some(name.clone()),
                },
                None => DayInfo {
                    working: !is_weekend(date),
                    provisional: false,
                    name: None,
                },
            };
        }
        let name = holiday_by_rule(date);
        DayInfo {
            working: name.is_none() && !is_weekend(date),
            provisional: true,
            name,
        }
    }

    /// Whether a local date is a working day (see [`day`](Self::day)).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day(date).working
    }

    /// The deadline `n` working days after `start`: the end (24:00 Asia/Shanghai) of the `n`-th
    /// working day after `start`'s local date. The start's own day never counts, even if it is a
    /// working day; `n = 0` gives the end of the start's local day (and consults no day, so is
    /// not provisional).
    ///
    /// For a deadline past the end of time, `at` is [`DateTime::<Utc>::MAX_UTC`].
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let mut date = local_date(start);
        let mut provisional = false;
        let mut counted = 0;
        while counted < n {
            let Some(next) = date.succ_opt() else {
                return Deadline {
                    at: DateTime::<Utc>::MAX_UTC,
                    provisional: true,
                };
            };
            date = next;
            let info = self.day(date);
            provisional |= info.provisional;
            if info.working {
                counted += 1;
            }
        }
        Deadline {
            at: end_of_local_day(date),
            provisional,
        }
    }

    /// The deadline `hours` working hours after `start`; see
    /// [`add_working_minutes`](Self::add_working_minutes).
    pub fn add_working_hours(
        &self,
        start: DateTime<Utc>,
        hours: u32,
        working_hours: &WorkingHours,
    ) -> Deadline {
        self.add_working_minutes(start, hours.saturating_mul(60), working_hours)
    }

    /// The deadline `minutes` working minutes after `start`, counting only time inside the working
    /// periods of working days (limits in hours are whole minutes, so the count is exact).
    ///
    /// Counting starts at `start` if it lies inside a working period, otherwise at the next
    /// period's start. The deadline lies inside a period or exactly at a period's end (a limit
    /// that uses up the morning falls due at 12:00, not at 14:00). `minutes = 0` gives `start`
    /// itself. Working hours with no working time at all never reach a deadline:
    /// `at` is [`DateTime::<Utc>::MAX_UTC`].
    pub fn add_working_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: u32,
        working_hours: &WorkingHours,
    ) -> Deadline {
        let never = |provisional| Deadline {
            at: DateTime::<Utc>::MAX_UTC,
            provisional,
        };
        if minutes == 0 {
            return Deadline {
                at: start,
                provisional: false,
            };
        }
        let periods = working_hours.periods();
        if periods.iter().all(|(open, close)| open >= close) {
            return never(false);
        }
        let local = local_datetime(start);
        let mut date = local.date();
        let mut cursor = local.time();
        let mut remaining = TimeDelta::minutes(i64::from(minutes));
        let mut provisional = false;
        loop {
            let info = self.day(date);
            provisional |= info.provisional;
            if info.working {
                for (open, close) in periods {
                    let from = cursor.max(open);
                    if from >= close {
                        continue;
                    }
                    let available = close.signed_duration_since(from);
                    if remaining <= available {
                        let Some(due) = date.and_time(from).checked_add_signed(remaining) else {
                            return never(true);
                        };
                        return Deadline {
                            at: from_local(due),
                            provisional,
                        };
                    }
                    remaining -= available;
                    cursor = close;
                }
            }
            let Some(next) = date.succ_opt() else {
                return never(true);
            };
            date = next;
            cursor = NaiveTime::MIN;
        }
    }

    /// The deadline `n` calendar days after `start` (petition limits): the end (24:00
    /// Asia/Shanghai) of the `n`-th day after `start`'s local date. Never provisional.
    pub fn add_calendar_days(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let at = local_date(start)
            .checked_add_days(Days::new(u64::from(n)))
            .map_or(DateTime::<Utc>::MAX_UTC, end_of_local_day);
        Deadline {
            at,
            provisional: false,
        }
    }

    /// The working days after `from`'s local date up to and including `to`'s local date; negative
    /// (counted the same way from `to`) if `to` is the earlier, 0 on the same local date.
    ///
    /// It counts working days, so for "late or not" compare with the deadline instead: with
    /// `d = add_working_days(s, n)`, every instant `t` before `d.at` (and not before `s`) has
    /// `working_days_between(s, t) <= n`, but a day off right after the deadline day has `n` too.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.working_days_between_dates(local_date(from), local_date(to))
    }

    /// [`working_days_between`](Self::working_days_between) for local dates.
    pub fn working_days_between_dates(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (low, high, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let count = low
            .iter_days()
            .skip(1)
            .take_while(|date| *date <= high)
            .filter(|date| self.day(*date).working)
            .count();
        sign * i64::try_from(count).unwrap_or(i64::MAX)
    }
}
