//! The embedded official calendar against a second, independent source, and importing a notice.
//!
//! `tests/data/chinese_calendar_workdays.csv` and `tests/data/festivals_check.csv` are written by
//! `tools/extract-calendar-check.py` from PyPI `chinese-calendar` 1.11.0, `lunardate` and `ephem`;
//! the embedded data comes from npm `chinese-days` (`tools/extract-calendar.mjs`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use fengqiao_domain::calendar::{
    WorkingCalendar, end_of_local_day, festival_dates, from_local, holiday_by_rule, local_date,
};

const WORKDAYS: &str = include_str!("data/chinese_calendar_workdays.csv");
const FESTIVALS: &str = include_str!("data/festivals_check.csv");
const NOTICE_2027: &str = include_str!("data/notice-2027-hypothetical.csv");

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_else(|| panic!("no date {y}-{m}-{day}"))
}

/// A local (Asia/Shanghai) wall-clock instant.
fn cst(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(h, min, 0).unwrap_or_else(|| panic!("no time {h}:{min}"));
    from_local(d(y, m, day).and_time(time))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn every_day_2004_to_2026_agrees_with_chinese_calendar() {
    let cal = WorkingCalendar::official();
    let mut lines = WORKDAYS.lines();
    assert_eq!(lines.next(), Some("date,is_workday"));
    let mut expected_date = d(2004, 1, 1);
    let mut disagreements = Vec::new();
    let mut days = 0;
    for line in lines {
        let (day, workday) = line.split_once(',').unwrap();
        let day = date(day);
        assert_eq!(day, expected_date, "the second source skips no day");
        expected_date = day.succ_opt().unwrap();
        let workday = match workday {
            "1" => true,
            "0" => false,
            other => panic!("{line}: is_workday {other}"),
        };
        let info = cal.day(day);
        assert!(!info.provisional, "{day} is published");
        if info.working != workday {
            disagreements.push(format!(
                "{day}: official {info:?}, chinese-calendar {workday}"
            ));
        }
        days += 1;
    }
    assert_eq!(
        expected_date,
        d(2027, 1, 1),
        "the second source runs to 2026-12-31"
    );
    assert_eq!(days, 8401);
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn festival_table_agrees_with_the_independent_computation() {
    let mut lines = FESTIVALS.lines();
    assert_eq!(
        lines.next(),
        Some("year,lunar_new_year,qingming,dragon_boat,mid_autumn")
    );
    let mut years = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let year: i32 = fields[0].parse().unwrap();
        let facts = festival_dates(year).unwrap_or_else(|| panic!("{year} is in the table"));
        assert_eq!(
            facts.lunar_new_year,
            date(fields[1]),
            "{year} lunar New Year"
        );
        assert_eq!(facts.qingming, date(fields[2]), "{year} Qingming");
        assert_eq!(facts.dragon_boat, date(fields[3]), "{year} Dragon Boat");
        assert_eq!(facts.mid_autumn, date(fields[4]), "{year} Mid-Autumn");
        years += 1;
    }
    assert_eq!(years, 57);
}

/// Since 2008 the festival days themselves (lunar 1/1–1/3, Qingming, Dragon Boat, Mid-Autumn)
/// and New Year's Day, 1 May and 1–3 October have been days off every year, so the rule with the
/// festival table must find them all off in the published data.
#[test]
fn rule_holidays_are_days_off_in_every_published_year_since_2008() {
    let cal = WorkingCalendar::official();
    for year in 2008..=2026 {
        let facts = festival_dates(year).unwrap();
        let mut days = vec![
            d(year, 1, 1),
            facts.lunar_new_year,
            facts.lunar_new_year + TimeDelta::days(1),
            facts.lunar_new_year + TimeDelta::days(2),
            facts.qingming,
            facts.dragon_boat,
            facts.mid_autumn,
            d(year, 5, 1),
            d(year, 10, 1),
            d(year, 10, 2),
            d(year, 10, 3),
        ];
        // The eve was statutory in 2008–2013 and is again from 2025; 2 May is from 2025.
        if year <= 2013 || year >= 2025 {
            days.push(facts.lunar_new_year - TimeDelta::days(1));
        }
        if year >= 2025 {
            days.push(d(year, 5, 2));
        }
        for day in days {
            assert!(holiday_by_rule(day).is_some(), "{day} is a holiday by rule");
            let info = cal.day(day);
            assert!(!info.working, "{day} ({:?}) should be off", info.name);
        }
    }
}

/// In 2025 and 2026, the years of the 2025 rule, the rule's 13 statutory days are all off in the
/// published data, and an empty calendar finds them off too (provisionally).
#[test]
fn the_rule_reproduces_2025_and_2026_statutory_days() {
    let cal = WorkingCalendar::official();
    let empty = WorkingCalendar::empty();
    for year in [2025, 2026] {
        let rule_days: Vec<NaiveDate> = d(year, 1, 1)
            .iter_days()
            .take_while(|x| x.year() == year)
            .filter(|x| holiday_by_rule(*x).is_some())
            .collect();
        assert_eq!(rule_days.len(), 13, "{year}");
        for day in &rule_days {
            assert!(!cal.day(*day).working, "{day}");
            assert!(!empty.day(*day).working, "{day}");
            assert!(empty.day(*day).provisional, "{day}");
        }
    }
}

#[test]
fn a_2027_date_is_provisional() {
    let cal = WorkingCalendar::official();
    assert_eq!(cal.last_published_year(), Some(2026));
    let info = cal.day(d(2027, 3, 1));
    assert!(info.provisional);
    assert!(info.working);
    let sunday = cal.day(d(2027, 1, 31));
    assert!(sunday.provisional);
    assert!(!sunday.working);
}

#[test]
fn importing_the_2027_notice_settles_2027_deadlines() {
    let before = WorkingCalendar::official();
    let after = before.with_year_notice(2027, NOTICE_2027).unwrap();
    assert_eq!(after.version(), before.version() + 1);
    assert_eq!(after.last_published_year(), Some(2027));
    assert_eq!(
        after.published_years().collect::<Vec<_>>(),
        (2004..=2027).collect::<Vec<_>>()
    );

    // The make-up Sunday is now a working day, and no longer provisional.
    let sunday = after.day(d(2027, 1, 31));
    assert!(sunday.working);
    assert!(!sunday.provisional);
    assert_eq!(sunday.name.as_deref(), Some("春节"));
    for day in d(2027, 1, 1).iter_days().take_while(|x| x.year() == 2027) {
        assert!(!after.day(day).provisional, "{day}");
    }

    // Friday 2027-01-29 + 1 working day: by rule the weekend is off, so Monday 2027-02-01,
    // provisional; with the notice, the make-up Sunday 2027-01-31, settled.
    let start = cst(2027, 1, 29, 10, 0);
    let provisional = before.add_working_days(start, 1);
    assert_eq!(provisional.at, end_of_local_day(d(2027, 2, 1)));
    assert!(provisional.provisional);
    let settled = after.add_working_days(start, 1);
    assert_eq!(settled.at, end_of_local_day(d(2027, 1, 31)));
    assert!(!settled.provisional);

    // Thursday 2027-02-04 + 1: by rule the festival is the eve to lunar 1/3 (5–8 February), so
    // Tuesday the 9th; the notice's holiday runs to Saturday the 13th, so Monday the 15th.
    let start = cst(2027, 2, 4, 16, 0);
    let provisional = before.add_working_days(start, 1);
    assert_eq!(provisional.at, end_of_local_day(d(2027, 2, 9)));
    assert!(provisional.provisional);
    let settled = after.add_working_days(start, 1);
    assert_eq!(settled.at, end_of_local_day(d(2027, 2, 15)));
    assert!(!settled.provisional);

    // A deadline that starts in 2026 and runs into 2027: same day either way, but it loses its
    // provisional flag.
    let start = cst(2026, 12, 31, 9, 0);
    let provisional = before.add_working_days(start, 1);
    let settled = after.add_working_days(start, 1);
    assert_eq!(provisional.at, end_of_local_day(d(2027, 1, 4)));
    assert_eq!(settled.at, provisional.at);
    assert!(provisional.provisional);
    assert!(!settled.provisional);

    // A deadline past 2027 is still provisional.
    assert!(
        after
            .add_working_days(cst(2027, 12, 30, 9, 0), 3)
            .provisional
    );
}

#[test]
fn a_notice_for_the_wrong_year_names_the_row() {
    let cal = WorkingCalendar::official();
    let err = cal.with_year_notice(2028, NOTICE_2027).unwrap_err();
    assert_eq!(err.error.code, "outside_year");
    // The first data row, after two comment lines and the header.
    assert_eq!(err.line, Some(4));
    assert_eq!(err.row.as_deref(), Some("2027-01-01,holiday,元旦"));
    assert!(
        err.to_string()
            .contains("2027-01-01 is outside the notice's year 2028")
    );
}

#[test]
fn a_case_submitted_late_on_saturday_utc_falls_on_a_make_up_sunday() {
    let cal = WorkingCalendar::official();
    let submitted: DateTime<Utc> = "2026-01-03T16:30:00Z".parse().unwrap();
    let day = local_date(submitted);
    assert_eq!(day, d(2026, 1, 4));
    let info = cal.day(day);
    assert!(info.working);
    assert!(!info.provisional);
}
