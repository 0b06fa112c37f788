use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

/// A local (Asia/Shanghai) wall-clock instant.
fn cst(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    from_local(d(y, m, day).and_time(t(h, min)))
}

/// The local date a working-day deadline falls on (the day whose 24:00 it is).
fn deadline_day(deadline: Deadline) -> NaiveDate {
    local_date(deadline.at - TimeDelta::seconds(1))
}

// ---- local time ----

#[test]
fn local_time_is_utc_plus_eight() {
    assert_eq!(local_date(utc(2026, 1, 3, 16, 30)), d(2026, 1, 4));
    assert_eq!(local_date(utc(2026, 1, 3, 15, 59)), d(2026, 1, 3));
    assert_eq!(local_time(utc(2026, 1, 3, 16, 30)), t(0, 30));
    assert_eq!(cst(2026, 7, 1, 9, 0), utc(2026, 7, 1, 1, 0));
    assert_eq!(start_of_local_day(d(2026, 2, 14)), utc(2026, 2, 13, 16, 0));
    assert_eq!(end_of_local_day(d(2026, 2, 14)), utc(2026, 2, 14, 16, 0));
    // No DST: midsummer and midwinter are both +08:00.
    assert_eq!(local_time(utc(2026, 7, 1, 0, 0)), t(8, 0));
    assert_eq!(local_time(utc(2026, 12, 1, 0, 0)), t(8, 0));
}

#[test]
fn extreme_instants_do_not_panic() {
    let _ = local_date(DateTime::<Utc>::MAX_UTC);
    let _ = local_date(DateTime::<Utc>::MIN_UTC);
    let _ = end_of_local_day(NaiveDate::MAX);
    let _ = start_of_local_day(NaiveDate::MIN);
    let cal = WorkingCalendar::official();
    assert_eq!(
        cal.add_working_days(DateTime::<Utc>::MAX_UTC, 1).at,
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        cal.add_calendar_days(DateTime::<Utc>::MAX_UTC, 30).at,
        DateTime::<Utc>::MAX_UTC
    );
    let hours = WorkingHours::default();
    assert_eq!(
        cal.add_working_minutes(DateTime::<Utc>::MAX_UTC, 60, &hours)
            .at,
        DateTime::<Utc>::MAX_UTC
    );
}

// ---- the official data ----

#[test]
fn the_official_calendar_covers_2004_to_2026() {
    let cal = WorkingCalendar::official();
    assert!(WorkingCalendar::parse(WorkingCalendar::official_csv()).is_ok());
    assert_eq!(cal.version(), 1);
    assert_eq!(
        cal.published_years().collect::<Vec<_>>(),
        (2004..=2026).collect::<Vec<_>>()
    );
    assert_eq!(cal.last_published_year(), Some(2026));
    assert_eq!(cal.overrides().count(), 557);
    // Holiday rows are Monday–Friday, workday rows Saturday or Sunday.
    for (date, entry) in cal.overrides() {
        let holiday = matches!(entry, DayOverride::Holiday { .. });
        assert_eq!(holiday, !is_weekend(date), "{date}");
    }
    assert_eq!(WorkingCalendar::default(), cal);
}

#[test]
fn golden_days() {
    let cal = WorkingCalendar::official();
    // A case submitted 2026-01-03T16:30Z falls on Sunday 2026-01-04 local, a make-up working day.
    let info = cal.day(local_date(utc(2026, 1, 3, 16, 30)));
    assert_eq!(
        info,
        DayInfo {
            working: true,
            provisional: false,
            name: Some("元旦".into()),
        }
    );
    // 2026-01-03 (Saturday) is inside the New Year holiday, off as any Saturday.
    assert!(!cal.day(d(2026, 1, 3)).working);
    assert_eq!(cal.day(d(2026, 1, 2)).name.as_deref(), Some("元旦"));
    assert_eq!(cal.day(d(2026, 2, 17)).name.as_deref(), Some("春节"));
    assert_eq!(
        cal.day(d(2026, 3, 2)),
        DayInfo {
            working: true,
            provisional: false,
            name: None,
        }
    );
    assert_eq!(
        cal.day(d(2026, 3, 1)),
        DayInfo {
            working: false,
            provisional: false,
            name: None,
        }
    );
}

#[test]
fn golden_working_day_deadlines() {
    let cal = WorkingCalendar::official();
    // Friday 2026-02-13 + 1 = Saturday 2026-02-14, a make-up working day.
    let deadline = cal.add_working_days(cst(2026, 2, 13, 10, 0), 1);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 2, 14)));
    assert_eq!(deadline.at, utc(2026, 2, 14, 16, 0));
    assert!(!deadline.provisional);
    // 2026-02-14 + 1 = 2026-02-24, after the Spring Festival holiday (15th–23rd).
    let deadline = cal.add_working_days(cst(2026, 2, 14, 9, 0), 1);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 2, 24)));
    // 2026-09-30 + 1 = 2026-10-08, after National Day and Mid-Autumn.
    let deadline = cal.add_working_days(cst(2026, 9, 30, 23, 59), 1);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 10, 8)));
    assert!(!deadline.provisional);
    // n = 0: the end of the start's local day (here the local day is already the 14th).
    let deadline = cal.add_working_days(utc(2026, 2, 13, 16, 0), 0);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 2, 14)));
    assert!(!deadline.provisional);
}

#[test]
fn working_day_deadlines_into_an_unpublished_year_are_provisional() {
    let cal = WorkingCalendar::official();
    let deadline = cal.add_working_days(cst(2026, 12, 30, 10, 0), 1);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 12, 31)));
    assert!(!deadline.provisional);
    // 2027-01-01 is New Year's Day by rule, then a weekend: Monday the 4th.
    let deadline = cal.add_working_days(cst(2026, 12, 30, 10, 0), 2);
    assert_eq!(deadline.at, end_of_local_day(d(2027, 1, 4)));
    assert!(deadline.provisional);
}

#[test]
fn provisional_days_follow_the_rule() {
    let cal = WorkingCalendar::official();
    let eve = cal.day(d(2027, 2, 5));
    assert_eq!(
        eve,
        DayInfo {
            working: false,
            provisional: true,
            name: Some("春节".into()),
        }
    );
    assert!(cal.day(d(2027, 2, 9)).working);
    assert!(cal.day(d(2027, 2, 9)).provisional);
    // No make-up days by rule: a Saturday is always off.
    assert!(!cal.day(d(2027, 1, 30)).working);
    // Outside every table: weekends and fixed-date holidays only, still provisional.
    let info = cal.day(d(2070, 10, 2));
    assert!(!info.working && info.provisional);
    assert_eq!(info.name.as_deref(), Some("国庆节"));
    let before = cal.day(d(2003, 12, 31));
    assert!(before.working && before.provisional);
    // An empty calendar is provisional everywhere.
    let empty = WorkingCalendar::empty();
    assert_eq!(empty.version(), 0);
    assert_eq!(empty.last_published_year(), None);
    assert!(empty.day(d(2026, 2, 14)).provisional);
    assert!(!empty.day(d(2026, 2, 14)).working);
}

// ---- calendar days ----

#[test]
fn calendar_day_deadlines() {
    let cal = WorkingCalendar::official();
    let deadline = cal.add_calendar_days(cst(2026, 9, 30, 23, 0), 15);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 10, 15)));
    assert!(!deadline.provisional);
    // Into an unpublished year, still not provisional: the calendar is not consulted.
    let deadline = cal.add_calendar_days(cst(2026, 12, 1, 9, 0), 60);
    assert_eq!(deadline.at, end_of_local_day(d(2027, 1, 30)));
    assert!(!deadline.provisional);
    let deadline = cal.add_calendar_days(cst(2026, 12, 1, 9, 0), 0);
    assert_eq!(deadline.at, end_of_local_day(d(2026, 12, 1)));
}

// ---- working hours ----

#[test]
fn working_hours_default_and_checks() {
    let hours = WorkingHours::default();
    assert_eq!(hours.morning, (t(8, 30), t(12, 0)));
    assert_eq!(hours.afternoon, (t(14, 0), t(17, 30)));
    assert!(hours.contains(t(8, 30)));
    assert!(!hours.contains(t(12, 0)));
    assert!(!hours.contains(t(13, 0)));
    assert!(hours.contains(t(17, 29)));
    assert_eq!(
        WorkingHours::new((t(9, 0), t(12, 0)), (t(13, 0), t(17, 0))),
        Ok(WorkingHours {
            morning: (t(9, 0), t(12, 0)),
            afternoon: (t(13, 0), t(17, 0)),
        })
    );
    let err = WorkingHours::new((t(12, 0), t(9, 0)), (t(13, 0), t(17, 0))).unwrap_err();
    assert_eq!(err.error.field, "morning");
    assert_eq!(err.error.code, "order");
    let err = WorkingHours::new((t(9, 0), t(12, 0)), (t(11, 0), t(17, 0))).unwrap_err();
    assert_eq!(err.error.field, "afternoon");
}

#[test]
fn working_hour_deadlines() {
    let cal = WorkingCalendar::official();
    let hours = WorkingHours::default();
    // Inside the morning: straight on.
    let deadline = cal.add_working_hours(cst(2026, 3, 2, 9, 0), 2, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 11, 0));
    assert!(!deadline.provisional);
    // Using up the morning exactly falls due at 12:00.
    let deadline = cal.add_working_minutes(cst(2026, 3, 2, 11, 0), 60, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 12, 0));
    // Across lunch.
    let deadline = cal.add_working_hours(cst(2026, 3, 2, 11, 0), 2, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 15, 0));
    // Starting at lunch starts counting at 14:00.
    let deadline = cal.add_working_hours(cst(2026, 3, 2, 12, 30), 1, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 15, 0));
    // Starting after hours on Friday: Monday morning.
    let deadline = cal.add_working_hours(cst(2026, 3, 6, 18, 0), 2, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 9, 10, 30));
    // 24 working hours is a little over three working days (7 h a day).
    let deadline = cal.add_working_hours(cst(2026, 3, 2, 8, 30), 24, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 5, 11, 30));
    // Friday 2026-02-13 16:30 + 2 h: one hour Friday, one hour on the make-up Saturday.
    let deadline = cal.add_working_hours(cst(2026, 2, 13, 16, 30), 2, &hours);
    assert_eq!(deadline.at, cst(2026, 2, 14, 9, 30));
    // Saturday 2026-02-14 17:00 + 1 h: past the Spring Festival holiday.
    let deadline = cal.add_working_hours(cst(2026, 2, 14, 17, 0), 1, &hours);
    assert_eq!(deadline.at, cst(2026, 2, 24, 9, 0));
    // Seconds in the start carry through.
    let start = cst(2026, 3, 2, 9, 0) + TimeDelta::seconds(17);
    let deadline = cal.add_working_minutes(start, 30, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 9, 30) + TimeDelta::seconds(17));
    // Zero: the start itself.
    let start = cst(2026, 3, 1, 3, 0);
    assert_eq!(cal.add_working_minutes(start, 0, &hours).at, start);
    // Into an unpublished year.
    let deadline = cal.add_working_hours(cst(2026, 12, 31, 17, 0), 1, &hours);
    assert_eq!(deadline.at, cst(2027, 1, 4, 9, 0));
    assert!(deadline.provisional);
}

#[test]
fn configured_working_hours() {
    let cal = WorkingCalendar::official();
    let hours = WorkingHours::new((t(9, 0), t(12, 0)), (t(13, 30), t(18, 0))).unwrap();
    let deadline = cal.add_working_hours(cst(2026, 3, 2, 11, 0), 2, &hours);
    assert_eq!(deadline.at, cst(2026, 3, 2, 14, 30));
    // Unchecked hours with no working time never fall due, rather than loop.
    let none = WorkingHours {
        morning: (t(9, 0), t(9, 0)),
        afternoon: (t(14, 0), t(13, 0)),
    };
    assert_eq!(
        cal.add_working_minutes(cst(2026, 3, 2, 9, 0), 1, &none).at,
        DateTime::<Utc>::MAX_UTC
    );
    // Unchecked overlapping or swapped periods count each minute once.
    let swapped = WorkingHours {
        morning: (t(14, 0), t(17, 30)),
        afternoon: (t(8, 30), t(12, 0)),
    };
    assert_eq!(
        cal.add_working_hours(cst(2026, 3, 2, 11, 0), 2, &swapped)
            .at,
        cst(2026, 3, 2, 15, 0)
    );
    let overlapping = WorkingHours {
        morning: (t(8, 0), t(12, 0)),
        afternoon: (t(10, 0), t(14, 0)),
    };
    // The union is 08:00–14:00, six hours a day.
    assert_eq!(
        cal.add_working_hours(cst(2026, 3, 2, 8, 0), 6, &overlapping)
            .at,
        cst(2026, 3, 2, 14, 0)
    );
    assert_eq!(
        cal.add_working_hours(cst(2026, 3, 2, 8, 0), 7, &overlapping)
            .at,
        cst(2026, 3, 3, 9, 0)
    );
}

// ---- counting working days ----

#[test]
fn working_days_between_counts_after_the_first_day() {
    let cal = WorkingCalendar::official();
    assert_eq!(
        cal.working_days_between_dates(d(2026, 2, 13), d(2026, 2, 13)),
        0
    );
    assert_eq!(
        cal.working_days_between_dates(d(2026, 2, 13), d(2026, 2, 14)),
        1
    );
    assert_eq!(
        cal.working_days_between_dates(d(2026, 2, 13), d(2026, 2, 24)),
        2
    );
    assert_eq!(
        cal.working_days_between_dates(d(2026, 2, 24), d(2026, 2, 13)),
        -2
    );
    assert_eq!(
        cal.working_days_between_dates(d(2026, 9, 30), d(2026, 10, 7)),
        0
    );
    // Instants are taken at their local dates: Friday 23:00 local to Monday 00:30 local.
    assert_eq!(
        cal.working_days_between(cst(2026, 3, 6, 23, 0), cst(2026, 3, 9, 0, 30)),
        1
    );
    // "Feedback within 2 working days of a visit": the deadline is the end of the 2nd working day.
    let visit = cst(2026, 2, 12, 15, 0);
    let due = cal.add_working_days(visit, 2);
    assert_eq!(due.at, end_of_local_day(d(2026, 2, 14)));
    assert_eq!(
        cal.working_days_between(visit, due.at - TimeDelta::seconds(1)),
        2
    );
}

// ---- reading CSV and importing notices ----

const NOTICE_2027: &str = "\
# A hypothetical notice, for tests only.
date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-01-31,workday,春节
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
";

#[test]
fn importing_a_notice_publishes_its_year() {
    let cal = WorkingCalendar::official();
    let next = cal.with_year_notice(2027, NOTICE_2027).unwrap();
    assert_eq!(next.version(), 2);
    assert_eq!(next.last_published_year(), Some(2027));
    assert!(next.is_published(2027));
    assert_eq!(
        next.day(d(2027, 1, 31)),
        DayInfo {
            working: true,
            provisional: false,
            name: Some("春节".into()),
        }
    );
    assert!(!next.day(d(2027, 2, 10)).working);
    // A year with a notice has no holidays by rule beyond the notice: Qingming 2027 is absent
    // from this notice, so 2027-04-05 (a Monday) is a working day.
    assert!(next.day(d(2027, 4, 5)).working);
    assert!(!cal.day(d(2027, 4, 5)).working);
    // The original is untouched.
    assert!(cal.day(d(2027, 1, 31)).provisional);
    assert_eq!(cal.version(), 1);
    // Re-importing replaces the year whole and bumps the version again.
    let corrected = next
        .with_year_notice(2027, "date,kind,name\n2027-01-01,holiday,元旦\n")
        .unwrap();
    assert_eq!(corrected.version(), 3);
    assert!(!corrected.day(d(2027, 1, 31)).working);
    assert!(corrected.day(d(2027, 2, 10)).working);
    // Importing a published year's correction works the same way.
    let replaced = cal
        .with_year_notice(2026, "date,kind,name\n2026-03-02,holiday,测试\n")
        .unwrap();
    assert!(!replaced.day(d(2026, 3, 2)).working);
    assert!(
        !replaced.day(d(2026, 2, 14)).working,
        "the old make-up day is gone"
    );
}

#[test]
fn a_notice_row_outside_its_year_is_refused_by_line() {
    let cal = WorkingCalendar::official();
    let csv = "date,kind,name\n2027-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n";
    let err = cal.with_year_notice(2027, csv).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert_eq!(err.row.as_deref(), Some("2028-01-01,holiday,元旦"));
    assert_eq!(err.error.field, "date");
    assert_eq!(err.error.code, "outside_year");
    assert_eq!(
        err.to_string(),
        "date: line 3 \"2028-01-01,holiday,元旦\": 2028-01-01 is outside the notice's year 2027"
    );
    assert!(err.error.message_zh.contains("第3行"));
    assert!(err.error.message_zh.contains("2027年"));
    let err = cal.with_year_notice(300_000, csv).unwrap_err();
    assert_eq!(err.error.field, "year");
}

#[test]
fn malformed_csv_is_refused_with_the_line_and_column() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "date,name,kind\n2027-01-01,holiday,元旦\n",
            1,
            "header",
            "header",
        ),
        ("date,kind,name\n2027-01-01,holiday\n", 2, "csv", "columns"),
        (
            "date,kind,name\n2027-1-1,holiday,元旦\n",
            2,
            "date",
            "format",
        ),
        (
            "date,kind,name\n2027-02-30,holiday,元旦\n",
            2,
            "date",
            "format",
        ),
        ("date,kind,name\n2027-01-01,off,元旦\n", 2, "kind", "kind"),
        (
            "date,kind,name\n2027-01-01,holiday,\n",
            2,
            "name",
            "required",
        ),
        (
            "date,kind,name\n2027-01-01,holiday,\"元旦\"\n",
            2,
            "name",
            "quoted",
        ),
        // 2027-01-04 is a Monday.
        (
            "date,kind,name\n2027-01-04,workday,元旦\n",
            2,
            "date",
            "workday_not_weekend",
        ),
        (
            "date,kind,name\n\n2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦\n",
            4,
            "date",
            "duplicate",
        ),
    ];
    for (csv, line, field, code) in cases {
        let err = WorkingCalendar::parse(csv).unwrap_err();
        assert_eq!(err.line, Some(*line), "{csv}");
        assert_eq!(err.error.field, *field, "{csv}");
        assert_eq!(err.error.code, *code, "{csv}");
        assert!(!err.error.message_zh.is_empty() && !err.error.message_en.is_empty());
    }
    for csv in ["", "# nothing\n", "date,kind,name\n"] {
        let err = WorkingCalendar::parse(csv).unwrap_err();
        assert_eq!(err.line, None);
        assert_eq!(err.error.code, "empty");
    }
}

#[test]
fn csv_niceties_are_accepted() {
    let csv =
        "\u{feff}# comment\r\ndate , kind , name\r\n\r\n 2027-01-01 , holiday , 元旦, 新年 \r\n";
    let cal = WorkingCalendar::parse(csv).unwrap();
    assert_eq!(
        cal.override_on(d(2027, 1, 1)),
        Some(&DayOverride::Holiday {
            name: "元旦, 新年".into()
        })
    );
    assert_eq!(
        cal.override_on(d(2027, 1, 1)).map(DayOverride::name),
        Some("元旦, 新年")
    );
}

#[test]
fn serialized_forms() {
    let entry = DayOverride::Workday {
        name: "春节".into(),
    };
    assert_eq!(
        serde_json::to_value(&entry).unwrap(),
        serde_json::json!({"kind": "workday", "name": "春节"})
    );
    let deadline = WorkingCalendar::official().add_working_days(cst(2026, 2, 13, 10, 0), 1);
    assert_eq!(
        serde_json::to_value(deadline).unwrap(),
        serde_json::json!({"at": "2026-02-14T16:00:00Z", "provisional": false})
    );
    let hours: WorkingHours =
        serde_json::from_value(serde_json::to_value(WorkingHours::default()).unwrap()).unwrap();
    assert_eq!(hours, WorkingHours::default());
}

// ---- properties ----

/// Instants from 2003 to 2061: published years, provisional years on both sides, and years
/// outside the festival table.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let low = utc(2003, 6, 1, 0, 0).timestamp();
    let high = utc(2061, 6, 1, 0, 0).timestamp();
    (low..high).prop_map(|secs| DateTime::<Utc>::from_timestamp(secs, 0).unwrap())
}

fn calendars() -> impl Strategy<Value = WorkingCalendar> {
    prop_oneof![
        Just(WorkingCalendar::official()),
        Just(
            WorkingCalendar::official()
                .with_year_notice(2027, NOTICE_2027)
                .unwrap()
        ),
        Just(WorkingCalendar::empty()),
    ]
}

fn working_hours() -> impl Strategy<Value = WorkingHours> {
    prop_oneof![
        Just(WorkingHours::default()),
        (0u32..11 * 60, 1u32..4 * 60, 0u32..3 * 60, 1u32..6 * 60).prop_map(
            |(start, morning, lunch, afternoon)| {
                let at = |minutes: u32| NaiveTime::MIN + TimeDelta::minutes(i64::from(minutes));
                let morning_end = start + morning;
                let afternoon_start = morning_end + lunch;
                WorkingHours::new(
                    (at(start), at(morning_end)),
                    (at(afternoon_start), at(afternoon_start + afternoon)),
                )
                .unwrap()
            }
        ),
    ]
}

proptest! {
    #[test]
    fn working_day_deadlines_are_after_the_start(cal in calendars(), start in instant(), n in 0u32..80) {
        let deadline = cal.add_working_days(start, n);
        prop_assert!(deadline.at > start);
        prop_assert_eq!(deadline.at, end_of_local_day(deadline_day(deadline)));
    }

    #[test]
    fn calendar_day_deadlines_are_after_the_start(cal in calendars(), start in instant(), n in 0u32..400) {
        let deadline = cal.add_calendar_days(start, n);
        prop_assert!(deadline.at > start);
        prop_assert!(!deadline.provisional);
        prop_assert_eq!(
            deadline_day(deadline).signed_duration_since(local_date(start)).num_days(),
            i64::from(n)
        );
    }

    #[test]
    fn working_day_deadlines_grow_with_n(cal in calendars(), start in instant(), a in 0u32..60, b in 0u32..60) {
        let (low, high) = (a.min(b), a.max(b));
        let (first, second) = (cal.add_working_days(start, low), cal.add_working_days(start, high));
        prop_assert!(first.at <= second.at);
        if low < high {
            prop_assert!(first.at < second.at);
        }
        // Going further only consults more days.
        prop_assert!(!first.provisional || second.provisional);
    }

    #[test]
    fn the_deadline_day_is_a_working_day(cal in calendars(), start in instant(), n in 1u32..60) {
        let deadline = cal.add_working_days(start, n);
        let day = deadline_day(deadline);
        prop_assert!(cal.day(day).working);
        prop_assert_eq!(cal.working_days_between_dates(local_date(start), day), i64::from(n));
        prop_assert_eq!(cal.working_days_between(deadline.at - TimeDelta::seconds(1), start), -i64::from(n));
        // Provisional exactly when a day after the start, up to the deadline day, is.
        let any_provisional = local_date(start)
            .iter_days()
            .skip(1)
            .take_while(|x| *x <= day)
            .any(|x| cal.day(x).provisional);
        prop_assert_eq!(deadline.provisional, any_provisional);
    }

    /// The chain: step k starts at the last instant of step k-1's deadline day (its deadline minus
    /// one second, 23:59:59 local), so each step counts from the previous deadline day. After n
    /// steps of one working day, the deadline is the same as n working days at once.
    #[test]
    fn one_day_n_times_is_n_days(cal in calendars(), start in instant(), n in 1u32..40) {
        let mut at = start;
        let mut provisional = false;
        let mut last = cal.add_working_days(start, 0);
        for _ in 0..n {
            last = cal.add_working_days(at, 1);
            provisional |= last.provisional;
            at = last.at - TimeDelta::seconds(1);
        }
        let direct = cal.add_working_days(start, n);
        prop_assert_eq!(last.at, direct.at);
        prop_assert_eq!(provisional, direct.provisional);
    }

    #[test]
    fn working_hour_deadlines_land_inside_working_hours(
        cal in calendars(),
        start in instant(),
        minutes in 1u32..6000,
        hours in working_hours(),
    ) {
        let deadline = cal.add_working_minutes(start, minutes, &hours);
        prop_assert!(deadline.at > start);
        let local = local_datetime(deadline.at);
        prop_assert!(cal.day(local.date()).working);
        let time = local.time();
        // Inside a period (after its start, since at least a minute was counted) or exactly at
        // its end.
        prop_assert!(
            [hours.morning, hours.afternoon]
                .iter()
                .any(|(open, close)| *open < time && time <= *close),
            "{} outside {:?}", time, hours
        );
    }

    #[test]
    fn working_hour_deadlines_grow_with_the_limit(
        cal in calendars(),
        start in instant(),
        a in 0u32..3000,
        b in 0u32..3000,
    ) {
        let hours = WorkingHours::default();
        let (low, high) = (a.min(b), a.max(b));
        prop_assert!(
            cal.add_working_minutes(start, low, &hours).at
                <= cal.add_working_minutes(start, high, &hours).at
        );
        // Splitting a limit in two at the first deadline gives the same result.
        let first = cal.add_working_minutes(start, low, &hours);
        let rest = cal.add_working_minutes(first.at, high - low, &hours);
        let whole = cal.add_working_minutes(start, high, &hours);
        if low > 0 {
            prop_assert_eq!(rest.at, whole.at);
        }
    }

    #[test]
    fn outside_published_years_days_are_provisional(cal in calendars(), start in instant()) {
        let date = local_date(start);
        let info = cal.day(date);
        prop_assert_eq!(info.provisional, !cal.is_published(date.year()));
        if is_weekend(date) && cal.override_on(date).is_none() {
            prop_assert!(!info.working);
        }
    }
}
