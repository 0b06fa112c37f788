//! The statutory holidays by rule, for years no notice has been published for.
//!
//! The rule is the one in force from 2025 (全国年节及纪念日放假办法, as amended in November 2024):
//! New Year's Day (1 January), Spring Festival (lunar New Year's Eve and lunar 1/1–1/3: four days),
//! Qingming (the day of the Qingming solar term), Labour Day (1–2 May), Dragon Boat (lunar 5/5),
//! Mid-Autumn (lunar 8/15) and National Day (1–3 October). The State Council's yearly notice then
//! moves days around with make-up working days; the rule knows nothing of that.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, TimeDelta};

/// The Gregorian dates of the lunar festivals and Qingming, 2004–2060, in China Standard Time.
///
/// Facts, not code: taken from the lunar-calendar and solar-term tables shipped in the npm package
/// `chinese-days` 1.5.7 by `tools/extract-calendar.mjs`, and checked against two independent
/// sources by `tools/extract-calendar-check.py` (PyPI `lunardate` 0.3.0 for the lunar dates, the
/// Sun's apparent longitude reaching 15° computed with PyPI `ephem` for Qingming); the
/// `calendar_sources` test compares them row by row.
const FESTIVALS_CSV: &str = include_str!("../../data/festivals-cn.csv");

/// Gregorian dates of the festivals with a lunar or solar-term date, for one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FestivalDates {
    /// Lunar New Year's Day (正月初一); the eve (除夕) is the day before.
    pub lunar_new_year: NaiveDate,
    /// The day of the Qingming solar term (清明).
    pub qingming: NaiveDate,
    /// The Dragon Boat Festival (端午, lunar 5/5).
    pub dragon_boat: NaiveDate,
    /// The Mid-Autumn Festival (中秋, lunar 8/15).
    pub mid_autumn: NaiveDate,
}

/// The festival dates for `year`, or `None` outside the embedded table (2004–2060).
pub fn festival_dates(year: i32) -> Option<FestivalDates> {
    festival_table().get(&year).copied()
}

/// The first and last year of the embedded festival table.
pub fn festival_years() -> Option<(i32, i32)> {
    let table = festival_table();
    Some((*table.keys().next()?, *table.keys().next_back()?))
}

fn festival_table() -> &'static BTreeMap<i32, FestivalDates> {
    static TABLE: OnceLock<BTreeMap<i32, FestivalDates>> = OnceLock::new();
    // A malformed table (a test guards against it) leaves only the fixed-date holidays.
    TABLE.get_or_init(|| parse_festivals(FESTIVALS_CSV).unwrap_or_default())
}

/// Reads `year,lunar_new_year,qingming,dragon_boat,mid_autumn` rows; `#` lines are comments.
/// `None` if any row is malformed or a date is not in its row's year.
fn parse_festivals(csv: &str) -> Option<BTreeMap<i32, FestivalDates>> {
    let mut table = BTreeMap::new();
    let mut lines = csv
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    if lines.next()? != "year,lunar_new_year,qingming,dragon_boat,mid_autumn" {
        return None;
    }
    for line in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [year, new_year, qingming, dragon_boat, mid_autumn] = fields.as_slice() else {
            return None;
        };
        let year: i32 = year.parse().ok()?;
        let date = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|d| d.year() == year)
        };
        let dates = FestivalDates {
            lunar_new_year: date(new_year)?,
            qingming: date(qingming)?,
            dragon_boat: date(dragon_boat)?,
            mid_autumn: date(mid_autumn)?,
        };
        if table.insert(year, dates).is_some() {
            return None;
        }
    }
    Some(table)
}

/// The statutory holiday(s) `date` is by the rule, named as the notices name them (several joined
/// with `、`, as when Mid-Autumn falls in National Day), or `None` for an ordinary day.
///
/// Outside the festival table only the fixed-date holidays (New Year's Day, Labour Day, National
/// Day) are known.
pub fn holiday_by_rule(date: NaiveDate) -> Option<String> {
    let (month, day) = (date.month(), date.day());
    let mut names: Vec<&str> = Vec::new();
    if (month, day) == (1, 1) {
        names.push("元旦");
    }
    if let Some(f) = festival_dates(date.year()) {
        let from_new_year = date.signed_duration_since(f.lunar_new_year);
        if from_new_year >= TimeDelta::days(-1) && from_new_year <= TimeDelta::days(2) {
            names.push("春节");
        }
        if date == f.qingming {
            names.push("清明");
        }
        if date == f.dragon_boat {
            names.push("端午");
        }
        if date == f.mid_autumn {
            names.push("中秋");
        }
    }
    if month == 5 && (1..=2).contains(&day) {
        names.push("劳动节");
    }
    if month == 10 && (1..=3).contains(&day) {
        names.push("国庆节");
    }
    (!names.is_empty()).then(|| names.join("、"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_embedded_table_parses_whole() {
        let table = parse_festivals(FESTIVALS_CSV).expect("the festival table parses");
        assert_eq!(table.len(), 57);
        assert_eq!(festival_years(), Some((2004, 2060)));
        assert_eq!(
            festival_dates(2027),
            Some(FestivalDates {
                lunar_new_year: d(2027, 2, 6),
                qingming: d(2027, 4, 5),
                dragon_boat: d(2027, 6, 9),
                mid_autumn: d(2027, 9, 15),
            })
        );
        assert_eq!(festival_dates(2003), None);
        assert_eq!(festival_dates(2061), None);
    }

    #[test]
    fn the_rule_has_thirteen_days_a_year() {
        for year in [2027, 2030, 2045, 2060] {
            let days = d(year, 1, 1)
                .iter_days()
                .take_while(|x| x.year() == year)
                .filter(|x| holiday_by_rule(*x).is_some())
                .count();
            assert_eq!(days, 13, "{year}");
        }
        // Outside the table: New Year's Day, Labour Day and National Day only.
        let days = d(2070, 1, 1)
            .iter_days()
            .take_while(|x| x.year() == 2070)
            .filter(|x| holiday_by_rule(*x).is_some())
            .count();
        assert_eq!(days, 6);
    }

    #[test]
    fn spring_festival_runs_from_the_eve_to_the_third_day() {
        // Lunar New Year 2027 is 6 February.
        assert_eq!(holiday_by_rule(d(2027, 2, 4)), None);
        for day in 5..=8 {
            assert_eq!(holiday_by_rule(d(2027, 2, day)).as_deref(), Some("春节"));
        }
        assert_eq!(holiday_by_rule(d(2027, 2, 9)), None);
    }

    #[test]
    fn overlapping_holidays_are_named_together() {
        // Some year in the table has Mid-Autumn on 1–3 October (2020 did: 1 October).
        let overlap = (2004..=2060)
            .filter_map(festival_dates)
            .find(|f| f.mid_autumn.month() == 10 && f.mid_autumn.day() <= 3)
            .expect("some Mid-Autumn falls on National Day");
        assert_eq!(
            holiday_by_rule(overlap.mid_autumn).as_deref(),
            Some("中秋、国庆节")
        );
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(parse_festivals("").is_none());
        assert!(
            parse_festivals(
                "year,lunar_new_year,qingming,dragon_boat,mid_autumn\n2027,2027-02-06\n"
            )
            .is_none()
        );
        assert!(
            parse_festivals(
                "year,lunar_new_year,qingming,dragon_boat,mid_autumn\n2027,2028-02-06,2027-04-05,2027-06-09,2027-09-15\n"
            )
            .is_none()
        );
    }
}
