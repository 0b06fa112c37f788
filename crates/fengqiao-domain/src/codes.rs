//! Statistical division codes, grid codes and data scopes.
//!
//! Region codes are the statistical division codes as published, in their short forms only:
//! 2 digits for a province, 4 for a city, 6 for a county, 9 for a town and 12 for a village or
//! community. The zero-padded long forms (`370800` for the city `3708`, `370883000000` for the
//! county `370883`) are refused, so every region has exactly one spelling. An in-between level
//! with no statistical code (片区, 办事处) is written as its parent's statistical code, `-` and
//! 1–8 ASCII letters or digits (`370883101-A1`); letters are stored upper-case.
//!
//! A grid's code is its village's 12-digit code followed by a 3-digit number. A data scope is
//! written `region:CODE` (a bare `CODE` means the same), `grid:CODE`, `dept:ID` or
//! `committee:ID`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

const REGION_FIELD: &str = "region_code";
const GRID_FIELD: &str = "grid_code";
const SCOPE_FIELD: &str = "scope";

/// The longest suffix an in-between (片区/办事处) code may carry after the `-`.
const AREA_SUFFIX_MAX_LEN: usize = 8;
/// Digits in a village code, the first part of a grid code.
const VILLAGE_CODE_LEN: usize = 12;
/// Digits in a grid code: the village code plus a 3-digit number.
const GRID_CODE_LEN: usize = 15;

/// A level of the administrative hierarchy, from the top down.
///
/// The derived order follows the hierarchy: `Province < City < … < Village`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省: a 2-digit code.
    Province,
    /// 市: a 4-digit code.
    City,
    /// 县: a 6-digit code.
    County,
    /// 乡镇/街道: a 9-digit code.
    Town,
    /// 片区/办事处: an in-between level with no statistical code (`370883101-A1`).
    Area,
    /// 村/社区: a 12-digit code.
    Village,
}

impl RegionLevel {
    /// The level's English identifier as the API and database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
            Self::Town => "town",
            Self::Area => "area",
            Self::Village => "village",
        }
    }

    /// The level's Chinese name as the UI shows it.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Province => "省",
            Self::City => "市",
            Self::County => "县",
            Self::Town => "乡镇/街道",
            Self::Area => "片区",
            Self::Village => "村/社区",
        }
    }

    /// The statistical level whose codes have `len` digits.
    fn from_statistical_len(len: usize) -> Option<Self> {
        match len {
            2 => Some(Self::Province),
            4 => Some(Self::City),
            6 => Some(Self::County),
            9 => Some(Self::Town),
            12 => Some(Self::Village),
            _ => None,
        }
    }
}

/// The digit count of the statistical level directly above a code of `len` digits.
fn statistical_parent_len(len: usize) -> Option<usize> {
    match len {
        12 => Some(9),
        9 => Some(6),
        6 => Some(4),
        4 => Some(2),
        _ => None,
    }
}

/// Whether the last segment of a statistical code (the part its own level adds) is all zeros,
/// which marks the zero-padded spelling of its parent rather than a code of its own.
fn last_segment_is_zero(code: &str) -> bool {
    let start = statistical_parent_len(code.len()).unwrap_or(0);
    code.as_bytes()
        .get(start..)
        .is_some_and(|segment| segment.iter().all(|&b| b == b'0'))
}

/// Checks a statistical code (digits only, already trimmed) and returns its level.
fn parse_statistical(code: &str) -> Result<RegionLevel, FieldError> {
    if code.is_empty() {
        return Err(FieldError::new(
            REGION_FIELD,
            "required",
            "区划代码不能为空",
            "the region code is empty",
        ));
    }
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            REGION_FIELD,
            "format",
            "区划代码只能由数字组成（片区/办事处写作上级代码加“-”和 1–8 位字母或数字）",
            "a region code consists of digits only (an in-between area is written as its parent's \
             code, '-' and 1-8 letters or digits)",
        ));
    }
    let Some(level) = RegionLevel::from_statistical_len(code.len()) else {
        return Err(FieldError::new(
            REGION_FIELD,
            "length",
            format!(
                "区划代码应为 2（省）、4（市）、6（县）、9（乡镇）或 12（村/社区）位数字，实际为 {} 位",
                code.len()
            ),
            format!(
                "a region code has 2 (province), 4 (city), 6 (county), 9 (town) or 12 (village) \
                 digits, not {}",
                code.len()
            ),
        ));
    };
    if code.len() > 2 && code.starts_with("00") {
        return Err(FieldError::new(
            REGION_FIELD,
            "format",
            "区划代码的前 2 位（省级代码）不能为 00",
            "a region code's first 2 digits (the province) are not 00",
        ));
    }
    // A county-level code ending in 00 is published for cities without counties (东莞 441900,
    // 中山 442000, 儋州 460400): its towns sit under it, so it is a code of its own.
    if code.len() != 6 && last_segment_is_zero(code) {
        return Err(FieldError::new(
            REGION_FIELD,
            "padded",
            "区划代码的最后一级全为 0，这是上级代码补零的写法；请使用上级代码的短形式",
            "the region code's last segment is all zeros, which is its parent's code padded with \
             zeros; use the parent's short form",
        ));
    }
    Ok(level)
}

/// A statistical division code, or an in-between area code below one.
///
/// Once held it is valid: only [`RegionCode::parse`] (and the serde and `FromStr` paths that
/// call it) builds one. It serializes as its canonical string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses a region code in its short form, tolerating surrounding whitespace.
    ///
    /// Errors are reported under the field `region_code` with the code `required`, `format`,
    /// `length` or `padded` (a zero-padded long form such as `370800`).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_trimmed(input.trim())
    }

    /// Parses a code that must not carry surrounding whitespace.
    fn parse_trimmed(code: &str) -> Result<Self, FieldError> {
        let Some((parent, suffix)) = code.split_once('-') else {
            parse_statistical(code)?;
            return Ok(Self(code.to_owned()));
        };
        let parent_level = parse_statistical(parent)?;
        if parent_level == RegionLevel::Village {
            return Err(FieldError::new(
                REGION_FIELD,
                "format",
                "片区/办事处只能设在省、市、县或乡镇之下，不能设在村/社区之下",
                "an in-between area sits below a province, city, county or town, not below a \
                 village",
            ));
        }
        let suffix_ok = (1..=AREA_SUFFIX_MAX_LEN).contains(&suffix.len())
            && suffix.bytes().all(|b| b.is_ascii_alphanumeric());
        if !suffix_ok {
            return Err(FieldError::new(
                REGION_FIELD,
                "format",
                "片区/办事处代码在“-”之后应为 1–8 位英文字母或数字",
                "an in-between area code has 1-8 ASCII letters or digits after the '-'",
            ));
        }
        Ok(Self(format!("{parent}-{}", suffix.to_ascii_uppercase())))
    }

    /// The canonical code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code's level in the hierarchy.
    pub fn level(&self) -> RegionLevel {
        if self.is_area() {
            return RegionLevel::Area;
        }
        RegionLevel::from_statistical_len(self.0.len()).unwrap_or(RegionLevel::Village)
    }

    /// The nearest region above this one that has a statistical code; `None` for a province.
    ///
    /// For a statistical code this is truncation (12→9, 9→6, 6→4, 4→2); a level whose
    /// truncated code is all zeros does not exist there and is skipped (the towns of 东莞,
    /// `441900003`, sit directly below the city `4419`). For an in-between area it is the
    /// code before the `-`.
    pub fn parent_statistical(&self) -> Option<RegionCode> {
        if let Some((parent, _)) = self.0.split_once('-') {
            return Some(Self(parent.to_owned()));
        }
        let mut len = statistical_parent_len(self.0.len())?;
        loop {
            let candidate = self.0.get(..len)?;
            if candidate.len() == 6 || !last_segment_is_zero(candidate) {
                return Some(Self(candidate.to_owned()));
            }
            len = statistical_parent_len(len)?;
        }
    }

    /// Whether `other` is this region or lies below it.
    ///
    /// Decided by the statistical prefix: `3708` is an ancestor of `370883`, `370883101` and
    /// `370883101-A1`. An in-between area's members cannot be read from their codes, so an
    /// area code is an ancestor of itself only.
    pub fn is_ancestor_of(&self, other: &RegionCode) -> bool {
        if self.is_area() {
            return self == other;
        }
        other.statistical_part().starts_with(self.0.as_str())
    }

    /// Whether this is an in-between (片区/办事处) code.
    fn is_area(&self) -> bool {
        self.0.contains('-')
    }

    /// The statistical code: the whole code, or an area code's part before the `-`.
    fn statistical_part(&self) -> &str {
        self.0.split_once('-').map_or(self.0.as_str(), |(p, _)| p)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RegionCode {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

/// A grid's code: its village's 12-digit code followed by a 3-digit number (15 digits).
///
/// It serializes as its canonical string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GridCode(String);

impl GridCode {
    /// Parses a grid code, tolerating surrounding whitespace.
    ///
    /// Errors are reported under the field `grid_code` with the code `required`, `format`
    /// (not digits, the first 12 digits are no village code, or the number is `000`) or
    /// `length`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_trimmed(input.trim())
    }

    /// Parses a code that must not carry surrounding whitespace.
    fn parse_trimmed(code: &str) -> Result<Self, FieldError> {
        if code.is_empty() {
            return Err(FieldError::new(
                GRID_FIELD,
                "required",
                "网格代码不能为空",
                "the grid code is empty",
            ));
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                GRID_FIELD,
                "format",
                "网格代码只能由数字组成",
                "a grid code consists of digits only",
            ));
        }
        if code.len() != GRID_CODE_LEN {
            return Err(FieldError::new(
                GRID_FIELD,
                "length",
                format!(
                    "网格代码应为 15 位数字（12 位村/社区代码加 3 位网格序号），实际为 {} 位",
                    code.len()
                ),
                format!(
                    "a grid code has 15 digits (a 12-digit village code and a 3-digit number), \
                     not {}",
                    code.len()
                ),
            ));
        }
        let (village, number) = code.split_at(VILLAGE_CODE_LEN);
        if parse_statistical(village).is_err() {
            return Err(FieldError::new(
                GRID_FIELD,
                "format",
                "网格代码的前 12 位必须是村/社区代码（前 2 位不为 00，第 10–12 位不全为 0）",
                "a grid code's first 12 digits are a village code (not starting 00, digits 10-12 \
                 not all zeros)",
            ));
        }
        if number == "000" {
            return Err(FieldError::new(
                GRID_FIELD,
                "format",
                "网格代码的最后 3 位网格序号不能为 000",
                "a grid code's last 3 digits (the grid's number) are not 000",
            ));
        }
        Ok(Self(code.to_owned()))
    }

    /// The canonical code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The village (村/社区) the grid lies in.
    pub fn village(&self) -> RegionCode {
        RegionCode(
            self.0
                .get(..VILLAGE_CODE_LEN)
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for GridCode {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for GridCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<GridCode> for String {
    fn from(code: GridCode) -> Self {
        code.0
    }
}

/// The data a role assignment covers.
///
/// Written `region:CODE` (that region and everything below it; a bare `CODE` means the same),
/// `grid:CODE`, `dept:ID` or `committee:ID`. It serializes as its canonical string, which
/// [`fmt::Display`] also writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// A region and everything below it.
    Region(RegionCode),
    /// One grid.
    Grid(GridCode),
    /// The cases sent to one department, by its id.
    Department(i64),
    /// The mediations of one mediation committee, by its id.
    Committee(i64),
}

impl Scope {
    /// Parses a scope, tolerating whitespace around the whole (not around the `:`).
    ///
    /// Errors are reported under the field `scope`: `required`, `format` (unknown kind,
    /// malformed code or id), `length` and `padded` (from the region or grid code) or `range`
    /// (an id that is zero or too large).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                SCOPE_FIELD,
                "required",
                "数据范围不能为空",
                "the scope is empty",
            ));
        }
        let Some((kind, value)) = text.split_once(':') else {
            return RegionCode::parse_trimmed(text)
                .map(Self::Region)
                .map_err(|e| e.for_field(SCOPE_FIELD));
        };
        match kind {
            "region" => RegionCode::parse_trimmed(value)
                .map(Self::Region)
                .map_err(|e| e.for_field(SCOPE_FIELD)),
            "grid" => GridCode::parse_trimmed(value)
                .map(Self::Grid)
                .map_err(|e| e.for_field(SCOPE_FIELD)),
            "dept" => parse_positive_id(value, "部门", "department").map(Self::Department),
            "committee" => {
                parse_positive_id(value, "调委会", "mediation committee").map(Self::Committee)
            }
            _ => Err(FieldError::new(
                SCOPE_FIELD,
                "format",
                "数据范围应写作 region:代码、grid:代码、dept:编号 或 committee:编号",
                "a scope is written region:CODE, grid:CODE, dept:ID or committee:ID",
            )),
        }
    }
}

/// Parses a positive id written in decimal digits without sign or leading zeros.
fn parse_positive_id(value: &str, what_zh: &str, what_en: &str) -> Result<i64, FieldError> {
    let digits_only = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if !digits_only {
        return Err(FieldError::new(
            SCOPE_FIELD,
            "format",
            format!("数据范围中的{what_zh}编号应为正整数"),
            format!("the {what_en} id in a scope is a positive integer"),
        ));
    }
    if value.bytes().all(|b| b == b'0') {
        return Err(FieldError::new(
            SCOPE_FIELD,
            "range",
            format!("数据范围中的{what_zh}编号必须大于 0"),
            format!("the {what_en} id in a scope is greater than 0"),
        ));
    }
    if value.starts_with('0') {
        return Err(FieldError::new(
            SCOPE_FIELD,
            "format",
            format!("数据范围中的{what_zh}编号不能以 0 开头"),
            format!("the {what_en} id in a scope has no leading zeros"),
        ));
    }
    value.parse::<i64>().map_err(|_| {
        FieldError::new(
            SCOPE_FIELD,
            "range",
            format!("数据范围中的{what_zh}编号过大"),
            format!("the {what_en} id in a scope is too large"),
        )
    })
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Region(code) => write!(f, "region:{code}"),
            Self::Grid(code) => write!(f, "grid:{code}"),
            Self::Department(id) => write!(f, "dept:{id}"),
            Self::Committee(id) => write!(f, "committee:{id}"),
        }
    }
}

impl FromStr for Scope {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Scope {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn region(code: &str) -> RegionCode {
        match RegionCode::parse(code) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{code:?} should parse: {e}"),
        }
    }

    #[test]
    fn region_codes_parse_with_their_level() {
        let cases = [
            ("37", RegionLevel::Province, "37"),
            ("3708", RegionLevel::City, "3708"),
            ("370883", RegionLevel::County, "370883"),
            ("370883101", RegionLevel::Town, "370883101"),
            ("370883101203", RegionLevel::Village, "370883101203"),
            ("370883101-A1", RegionLevel::Area, "370883101-A1"),
            ("370883101-a1", RegionLevel::Area, "370883101-A1"),
            ("370883-BSC", RegionLevel::Area, "370883-BSC"),
            ("37-X", RegionLevel::Area, "37-X"),
            (
                "370883101-12345678",
                RegionLevel::Area,
                "370883101-12345678",
            ),
            ("  370883 \n", RegionLevel::County, "370883"),
            // 东莞's towns sit directly below the city: the county segment is 00.
            ("441900003", RegionLevel::Town, "441900003"),
            ("441900003001", RegionLevel::Village, "441900003001"),
        ];
        for (input, level, canonical) in cases {
            let code = region(input);
            assert_eq!(code.level(), level, "{input:?}");
            assert_eq!(code.as_str(), canonical, "{input:?}");
            assert_eq!(code.to_string(), canonical, "{input:?}");
        }
    }

    #[test]
    fn bad_region_codes_are_refused_with_a_reason() {
        let cases = [
            ("", "required"),
            ("   ", "required"),
            ("3", "length"),
            ("370", "length"),
            ("37088", "length"),
            ("3708831", "length"),
            ("3708831012", "length"),
            ("3708831012031", "length"),
            ("37a8", "format"),
            ("３７", "format"),
            ("370 883", "format"),
            ("+37", "format"),
            ("00", "padded"),
            ("000883", "format"),
            ("00088310120", "length"),
            ("3700", "padded"),
            ("370883000", "padded"),
            ("370883000000", "padded"),
            ("370883101-", "format"),
            ("370883101-123456789", "format"),
            ("370883101-A_1", "format"),
            ("370883101-片区", "format"),
            ("370883101-A1-B2", "format"),
            ("370883101203-A1", "format"),
            ("-A1", "required"),
            ("37088-A1", "length"),
        ];
        for (input, code) in cases {
            match RegionCode::parse(input) {
                Ok(parsed) => panic!("{input:?} should be refused, got {parsed:?}"),
                Err(e) => {
                    assert_eq!(e.code, code, "{input:?}: {e}");
                    assert_eq!(e.field, "region_code");
                    assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
                }
            }
        }
    }

    #[test]
    fn level_names() {
        let names = [
            (RegionLevel::Province, "province", "省"),
            (RegionLevel::City, "city", "市"),
            (RegionLevel::County, "county", "县"),
            (RegionLevel::Town, "town", "乡镇/街道"),
            (RegionLevel::Area, "area", "片区"),
            (RegionLevel::Village, "village", "村/社区"),
        ];
        for (level, en, zh) in names {
            assert_eq!(level.as_str(), en);
            assert_eq!(level.zh(), zh);
        }
        assert!(RegionLevel::Town < RegionLevel::Area && RegionLevel::Area < RegionLevel::Village);
    }

    #[test]
    fn statistical_parents() {
        let cases = [
            ("370883101203", Some("370883101")),
            ("370883101", Some("370883")),
            ("370883", Some("3708")),
            ("3708", Some("37")),
            ("37", None),
            ("370883101-A1", Some("370883101")),
            ("370883-B", Some("370883")),
            ("441900003", Some("441900")),
            ("441900003001", Some("441900003")),
        ];
        for (child, parent) in cases {
            assert_eq!(
                region(child)
                    .parent_statistical()
                    .map(String::from)
                    .as_deref(),
                parent,
                "{child}"
            );
        }
    }

    #[test]
    fn ancestry_by_statistical_prefix() {
        let cases = [
            ("37", "370883101203", true),
            ("3708", "370883", true),
            ("370883", "370883", true),
            ("370883", "370883101-A1", true),
            ("370883101", "370883101-A1", true),
            ("370883101", "370883101203", true),
            ("370883101", "370883102203", false),
            ("370883", "3708", false),
            ("3708", "37", false),
            ("37", "3801", false),
            ("370883101-A1", "370883101-A1", true),
            ("370883101-A1", "370883101203", false),
            ("370883101-A1", "370883101-A12", false),
            ("370883101-A1", "370883101", false),
        ];
        for (ancestor, other, expected) in cases {
            assert_eq!(
                region(ancestor).is_ancestor_of(&region(other)),
                expected,
                "{ancestor} over {other}"
            );
        }
    }

    #[test]
    fn grid_codes() {
        let grid = match GridCode::parse(" 370883101203001 ") {
            Ok(grid) => grid,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(grid.as_str(), "370883101203001");
        assert_eq!(grid.village(), region("370883101203"));
        assert_eq!(grid.village().level(), RegionLevel::Village);

        let refused = [
            ("", "required"),
            ("37088310120300", "length"),
            ("3708831012030011", "length"),
            ("37088310120300a", "format"),
            ("370883101000001", "format"),
            ("000883101203001", "format"),
            ("370883101203000", "format"),
            ("370883101203-001", "format"),
        ];
        for (input, code) in refused {
            match GridCode::parse(input) {
                Ok(parsed) => panic!("{input:?} should be refused, got {parsed:?}"),
                Err(e) => {
                    assert_eq!(e.code, code, "{input:?}: {e}");
                    assert_eq!(e.field, "grid_code");
                }
            }
        }
    }

    #[test]
    fn scopes_parse_to_their_canonical_form() {
        let cases = [
            ("region:370883101", "region:370883101"),
            ("370883101", "region:370883101"),
            (" 370883101-a1 ", "region:370883101-A1"),
            ("region:37", "region:37"),
            ("grid:370883101203001", "grid:370883101203001"),
            ("dept:12", "dept:12"),
            ("committee:3", "committee:3"),
            ("dept:9223372036854775807", "dept:9223372036854775807"),
        ];
        for (input, canonical) in cases {
            match Scope::parse(input) {
                Ok(scope) => assert_eq!(scope.to_string(), canonical, "{input:?}"),
                Err(e) => panic!("{input:?} should parse: {e}"),
            }
        }
        assert_eq!(Scope::parse("dept:12"), Ok(Scope::Department(12)));
        assert_eq!(Scope::parse("committee:3"), Ok(Scope::Committee(3)));
    }

    #[test]
    fn bad_scopes_are_refused_under_the_scope_field() {
        let cases = [
            ("", "required"),
            ("region:", "required"),
            ("region: 37", "format"),
            ("region:3700", "padded"),
            ("370", "length"),
            ("grid:370883101203", "length"),
            ("grid:", "required"),
            ("dept:", "format"),
            ("dept:0", "range"),
            ("dept:000", "range"),
            ("dept:-1", "format"),
            ("dept:+1", "format"),
            ("dept:012", "format"),
            ("dept:1.5", "format"),
            ("dept:9223372036854775808", "range"),
            ("committee:x", "format"),
            ("Region:37", "format"),
            ("department:12", "format"),
            ("user:1", "format"),
            (":37", "format"),
        ];
        for (input, code) in cases {
            match Scope::parse(input) {
                Ok(parsed) => panic!("{input:?} should be refused, got {parsed:?}"),
                Err(e) => {
                    assert_eq!(e.code, code, "{input:?}: {e}");
                    assert_eq!(e.field, "scope", "{input:?}");
                }
            }
        }
    }

    #[test]
    fn serde_uses_the_canonical_string() -> Result<(), serde_json::Error> {
        let scope = Scope::Region(region("370883101-A1"));
        assert_eq!(serde_json::to_string(&scope)?, r#""region:370883101-A1""#);
        assert_eq!(serde_json::from_str::<Scope>(r#""370883101-a1""#)?, scope);
        assert_eq!(serde_json::to_string(&region("3708"))?, r#""3708""#);
        assert_eq!(
            serde_json::from_str::<RegionCode>(r#""3708""#)?,
            region("3708")
        );
        let grid: GridCode = serde_json::from_str(r#""370883101203001""#)?;
        assert_eq!(serde_json::to_string(&grid)?, r#""370883101203001""#);
        assert_eq!(serde_json::to_string(&RegionLevel::Area)?, r#""area""#);

        assert!(serde_json::from_str::<RegionCode>(r#""3700""#).is_err());
        assert!(serde_json::from_str::<GridCode>(r#""37""#).is_err());
        assert!(serde_json::from_str::<Scope>(r#""dept:0""#).is_err());
        assert!(serde_json::from_str::<Scope>("12").is_err());
        Ok(())
    }

    /// A statistical code's own segment of `width` digits that is not all zeros.
    fn segment(width: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, width)
            .prop_filter("a segment is not all zeros", |d| d.iter().any(|&x| x != 0))
            .prop_map(|d| d.iter().map(|x| char::from(b'0' + x)).collect())
    }

    /// Any digits (a segment above the code's own, which may be all zeros).
    fn digits(width: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, width)
            .prop_map(|d| d.iter().map(|x| char::from(b'0' + x)).collect())
    }

    /// A province segment, then any digits down to the code's own segment.
    fn statistical_code() -> impl Strategy<Value = String> {
        prop_oneof![
            segment(2),
            (segment(2), segment(2)).prop_map(|(a, b)| a + &b),
            (segment(2), digits(2), segment(2)).prop_map(|(a, b, c)| a + &b + &c),
            (segment(2), digits(4), segment(3)).prop_map(|(a, b, c)| a + &b + &c),
            (segment(2), digits(7), segment(3)).prop_map(|(a, b, c)| a + &b + &c),
        ]
    }

    fn region_code_text() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => statistical_code(),
            1 => (statistical_code(), "[A-Z0-9]{1,8}")
                .prop_filter("areas sit above villages", |(p, _)| p.len() < VILLAGE_CODE_LEN)
                .prop_map(|(p, s)| format!("{p}-{s}")),
        ]
    }

    fn grid_code_text() -> impl Strategy<Value = String> {
        (segment(2), digits(7), segment(3), segment(3)).prop_map(|(a, b, c, d)| a + &b + &c + &d)
    }

    fn scope_text() -> impl Strategy<Value = String> {
        prop_oneof![
            region_code_text().prop_map(|c| format!("region:{c}")),
            grid_code_text().prop_map(|c| format!("grid:{c}")),
            (1i64..=i64::MAX).prop_map(|id| format!("dept:{id}")),
            (1i64..=i64::MAX).prop_map(|id| format!("committee:{id}")),
        ]
    }

    proptest! {
        #[test]
        fn region_codes_round_trip(text in region_code_text()) {
            let code = RegionCode::parse(&text);
            prop_assert!(code.is_ok(), "{text:?}: {code:?}");
            let code = code.unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(code.to_string(), text.clone());
            prop_assert_eq!(RegionCode::parse(&code.to_string()), Ok(code));
        }

        #[test]
        fn parents_are_ancestors_one_level_up(text in region_code_text()) {
            let code = RegionCode::parse(&text).unwrap_or_else(|e| unreachable!("{e}"));
            prop_assert!(code.is_ancestor_of(&code));
            let mut child = code;
            while let Some(parent) = child.parent_statistical() {
                prop_assert!(parent.level() < child.level());
                prop_assert!(parent.level() != RegionLevel::Area);
                prop_assert!(parent.is_ancestor_of(&child));
                prop_assert!(!child.is_ancestor_of(&parent));
                prop_assert_eq!(RegionCode::parse(parent.as_str()), Ok(parent.clone()));
                child = parent;
            }
            prop_assert_eq!(child.level(), RegionLevel::Province);
        }

        #[test]
        fn grid_codes_round_trip(text in grid_code_text()) {
            let grid = GridCode::parse(&text).unwrap_or_else(|e| unreachable!("{e}"));
            prop_assert_eq!(grid.as_str(), text.as_str());
            prop_assert_eq!(grid.village().level(), RegionLevel::Village);
            prop_assert!(text.starts_with(grid.village().as_str()));
        }

        #[test]
        fn scopes_round_trip(text in scope_text()) {
            let scope = Scope::parse(&text).unwrap_or_else(|e| unreachable!("{e}"));
            prop_assert_eq!(scope.to_string(), text);
            prop_assert_eq!(Scope::parse(&scope.to_string()), Ok(scope));
        }

        #[test]
        fn junk_is_refused_without_panicking(text in "\\PC{0,24}") {
            if let Ok(code) = RegionCode::parse(&text) {
                prop_assert_eq!(RegionCode::parse(code.as_str()), Ok(code.clone()));
            }
            if let Ok(grid) = GridCode::parse(&text) {
                prop_assert_eq!(grid.as_str(), text.trim());
            }
            if let Ok(scope) = Scope::parse(&text) {
                prop_assert_eq!(Scope::parse(&scope.to_string()), Ok(scope));
            }
        }

        #[test]
        fn near_misses_are_refused_without_panicking(
            text in "(region:|grid:|dept:|committee:)?[0-9a-zA-Z:+-]{0,20}",
        ) {
            for result in [
                RegionCode::parse(&text).map(|c| c.to_string()),
                GridCode::parse(&text).map(|c| c.to_string()),
                Scope::parse(&text).map(|c| c.to_string()),
            ] {
                if let Err(e) = result {
                    prop_assert!(!e.code.is_empty());
                    prop_assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
                }
            }
        }
    }
}
