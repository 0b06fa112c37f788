//! Personal data: resident ID numbers (GB 11643), phone numbers, and masking.
//!
//! The values here are personal data, so they do not leak by accident: `Debug` shows only the
//! masked form, and there is deliberately no `Display` or `Serialize`. A caller that needs the
//! full value (to encrypt it, to hash it for lookup, for a role allowed to unmask) asks for it
//! with `as_str()`, where the audit of unmasked reads can see it. Both types deserialize from a
//! string through their parser, so request bodies can carry them.
//!
//! [`mask_text`] masks the ID and mobile numbers typed inside free text.

use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::FieldError;

const ID_FIELD: &str = "id_number";
const PHONE_FIELD: &str = "phone";

/// Characters in a resident ID number.
const ID_LEN: usize = 18;
/// Characters in the old (first-generation, 1984–2004) 15-digit ID number.
const OLD_ID_LEN: usize = 15;
/// Digits in a mainland mobile number.
const MOBILE_LEN: usize = 11;

/// ISO 7064 MOD 11-2 weights of the first 17 digits: 2^(17-i) mod 11.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each weighted sum modulo 11.
const ID_CHECK_CHARACTERS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The earliest birth date an ID number may carry.
const EARLIEST_BIRTH: (i32, u32, u32) = (1900, 1, 1);
/// The latest birth date an ID number may carry.
const LATEST_BIRTH: (i32, u32, u32) = (2100, 12, 31);

/// A PRC resident identity number (公民身份号码) as GB 11643-1999 defines it.
///
/// Eighteen characters: a 6-digit address code (not starting with 0), the birth date as
/// `YYYYMMDD`, a 3-digit sequence number and an ISO 7064 MOD 11-2 check character (a digit or
/// `X`; a lowercase `x` is accepted and stored upper-case).
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ResidentIdNumber {
    text: String,
    birth_date: NaiveDate,
}

impl ResidentIdNumber {
    /// Parses an 18-character ID number, tolerating surrounding whitespace.
    ///
    /// Errors are reported under the field `id_number` with the code `required`, `length`
    /// (not 18 characters), `format` (not 17 digits and a digit or `X`, or an address code
    /// starting with 0), `birth_date` (not a calendar date between 1900-01-01 and
    /// 2100-12-31) or `checksum`. Messages never repeat the number.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                ID_FIELD,
                "required",
                "身份证号码不能为空",
                "the ID number is empty",
            ));
        }
        let char_count = text.chars().count();
        if char_count != ID_LEN {
            return Err(FieldError::new(
                ID_FIELD,
                "length",
                format!("身份证号码应为 18 位，实际为 {char_count} 位"),
                format!("an ID number has 18 characters, not {char_count}"),
            ));
        }
        let Some((first17, last)) = split_check_character(text) else {
            return Err(FieldError::new(
                ID_FIELD,
                "format",
                "身份证号码应为 17 位数字加 1 位数字或 X 校验码",
                "an ID number is 17 digits followed by a digit or X",
            ));
        };
        if first17.starts_with('0') {
            return Err(FieldError::new(
                ID_FIELD,
                "format",
                "身份证号码的前 6 位地址码不能以 0 开头",
                "an ID number's 6-digit address code does not start with 0",
            ));
        }
        let Some(birth_date) = birth_date_in(first17, 6, 4) else {
            return Err(FieldError::new(
                ID_FIELD,
                "birth_date",
                "身份证号码第 7–14 位的出生日期不是 1900-01-01 至 2100-12-31 之间的有效日期",
                "an ID number's digits 7-14 are not a real birth date between 1900-01-01 and \
                 2100-12-31",
            ));
        };
        if check_character(first17) != Some(last) {
            return Err(FieldError::new(
                ID_FIELD,
                "checksum",
                "身份证号码校验码不正确，请核对是否有输错的数字",
                "the ID number's check character does not match; a digit may be mistyped",
            ));
        }
        Ok(Self {
            text: format!("{first17}{last}"),
            birth_date,
        })
    }

    /// The full number, with the check character upper-case. Personal data: only for
    /// encryption, lookup hashing and audited unmasked reads.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The birth date encoded in digits 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The 6-digit address code (the county where the number was first issued).
    pub fn region_prefix(&self) -> &str {
        self.text.get(..6).unwrap_or_default()
    }

    /// The number with its birth date hidden: first 6, eight `*`, last 4
    /// (`370883********1234`).
    pub fn masked(&self) -> String {
        mask_middle(&self.text, 6, 4)
    }
}

/// The GB 11643 check character for the first 17 digits of an ID number, or `None` unless
/// `first17` is exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != ID_LEN - 1 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let index = usize::try_from(sum % 11).ok()?;
    ID_CHECK_CHARACTERS.get(index).copied()
}

/// Splits an 18-character candidate into its 17 digits and its check character (upper-case),
/// or `None` when it is not 17 ASCII digits followed by a digit, `X` or `x`.
fn split_check_character(text: &str) -> Option<(&str, char)> {
    let bytes = text.as_bytes();
    if bytes.len() != ID_LEN {
        return None;
    }
    let (first17, last) = text.split_at(ID_LEN - 1);
    if !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match last.as_bytes() {
        [b] if b.is_ascii_digit() => Some((first17, char::from(*b))),
        [b'X' | b'x'] => Some((first17, 'X')),
        _ => None,
    }
}

/// The date written as `YYYYMMDD` (or `YYMMDD` meaning 19YY, when `year_digits` is 2) starting
/// at byte `start` of an all-digit string, if it is a real date in the accepted range.
fn birth_date_in(digits: &str, start: usize, year_digits: usize) -> Option<NaiveDate> {
    let number = |from: usize, len: usize| -> Option<u32> {
        digits.get(from..from + len)?.parse::<u32>().ok()
    };
    let year = number(start, year_digits)?;
    let year = if year_digits == 2 { 1900 + year } else { year };
    let month = number(start + year_digits, 2)?;
    let day = number(start + year_digits + 2, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let (ey, em, ed) = EARLIEST_BIRTH;
    let (ly, lm, ld) = LATEST_BIRTH;
    let in_range = NaiveDate::from_ymd_opt(ey, em, ed).is_some_and(|earliest| date >= earliest)
        && NaiveDate::from_ymd_opt(ly, lm, ld).is_some_and(|latest| date <= latest);
    in_range.then_some(date)
}

/// `text` (ASCII) with all but the first `keep_front` and last `keep_back` characters
/// replaced by `*`.
fn mask_middle(text: &str, keep_front: usize, keep_back: usize) -> String {
    let len = text.len();
    let back_start = len.saturating_sub(keep_back).max(keep_front);
    let front = text.get(..keep_front.min(len)).unwrap_or_default();
    let back = text.get(back_start..).unwrap_or_default();
    format!(
        "{front}{}{back}",
        "*".repeat(back_start.saturating_sub(keep_front))
    )
}

impl fmt::Debug for ResidentIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentIdNumber")
            .field(&self.masked())
            .finish()
    }
}

impl TryFrom<String> for ResidentIdNumber {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

/// Whether a phone number is a mobile or a landline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// A mainland mobile number, stored as its 11 digits (`13812345678`).
    Mobile,
    /// A mainland landline, stored as area code, `-` and subscriber number (`0531-88888888`).
    Landline,
}

/// A mainland China phone number: a mobile or a landline.
///
/// Mobiles are `1[3-9]` and 9 more digits, optionally written with a `+86`, `86` or `0086`
/// prefix, spaces or dashes; they are stored as the bare 11 digits. Landlines are `0`, the
/// rest of the area code (`010` and `02x` are 3 digits with the `0`, all others 4) and a 7–8
/// digit subscriber number not starting with 0 or 1; they are stored with one dash after the
/// area code.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct PhoneNumber {
    text: String,
    kind: PhoneKind,
}

impl PhoneNumber {
    /// Parses a phone number, tolerating surrounding whitespace.
    ///
    /// Errors are reported under the field `phone` with the code `required`, `format` (stray
    /// characters, an unknown prefix or area code, a dash in the wrong place) or `length`.
    /// Messages never repeat the number.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                PHONE_FIELD,
                "required",
                "电话号码不能为空",
                "the phone number is empty",
            ));
        }
        let (has_plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let written = WrittenDigits::scan(rest).ok_or_else(|| {
            FieldError::new(
                PHONE_FIELD,
                "format",
                "电话号码只能包含数字，可用空格或“-”分隔，国家代码写作 +86",
                "a phone number contains digits, optionally separated by single spaces or \
                 dashes, with +86 as the only country code",
            )
        })?;
        let digits = written.digits.as_str();
        let national = if has_plus {
            let Some(national) = digits.strip_prefix("86") else {
                return Err(FieldError::new(
                    PHONE_FIELD,
                    "format",
                    "只接受中国大陆号码，国家代码应为 +86",
                    "only mainland numbers are accepted; the country code is +86",
                ));
            };
            Some(national)
        } else if digits.len() == MOBILE_LEN + 4 && digits.starts_with("0086") {
            digits.get(4..)
        } else if digits.len() == MOBILE_LEN + 2 && digits.starts_with("86") {
            digits.get(2..)
        } else {
            None
        };
        if let Some(national) = national {
            return parse_mobile(national).map_err(|_| {
                FieldError::new(
                    PHONE_FIELD,
                    "format",
                    "国家代码 86 之后应为 11 位手机号码（座机请写区号，如 0531-88888888）",
                    "the country code 86 is followed by an 11-digit mobile number (write a \
                     landline with its area code, e.g. 0531-88888888)",
                )
            });
        }
        match digits.as_bytes().first() {
            Some(b'1') => parse_mobile(digits),
            Some(b'0') => parse_landline(digits, written.first_separator_at),
            _ => Err(FieldError::new(
                PHONE_FIELD,
                "format",
                "电话号码应为以 1 开头的手机号码或以 0 开头带区号的座机号码",
                "a phone number is a mobile starting with 1 or a landline starting with its \
                 area code's 0",
            )),
        }
    }

    /// The normalised number (`13812345678` or `0531-88888888`). Personal data: only for
    /// encryption, lookup hashing, dialling and audited unmasked reads.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is a mobile or a landline.
    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// The masked number: a mobile keeps its first 3 and last 4 digits (`138****5678`), a
    /// landline its area code and last 2 digits (`0531-******88`).
    pub fn masked(&self) -> String {
        match self.kind {
            PhoneKind::Mobile => mask_middle(&self.text, 3, 4),
            PhoneKind::Landline => {
                let area_len = self.text.find('-').map_or(0, |dash| dash + 1);
                mask_middle(&self.text, area_len, 2)
            }
        }
    }
}

/// The digits of a written phone number and where its first separator stood.
struct WrittenDigits {
    digits: String,
    /// How many digits precede the first space or dash, if there is one.
    first_separator_at: Option<usize>,
}

impl WrittenDigits {
    /// Collects the digits, allowing single spaces or dashes between digits only.
    fn scan(text: &str) -> Option<Self> {
        let mut digits = String::with_capacity(text.len());
        let mut first_separator_at = None;
        let mut previous_was_digit = false;
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                previous_was_digit = true;
            } else if (c == ' ' || c == '-') && previous_was_digit {
                first_separator_at.get_or_insert(digits.len());
                previous_was_digit = false;
            } else {
                return None;
            }
        }
        previous_was_digit.then_some(Self {
            digits,
            first_separator_at,
        })
    }
}

/// Whether `digits` (ASCII digits) is a mainland mobile number: `1[3-9]` and 9 more digits.
fn is_mobile(digits: &[u8]) -> bool {
    matches!(digits, [b'1', b'3'..=b'9', rest @ ..] if rest.len() == MOBILE_LEN - 2)
}

fn parse_mobile(digits: &str) -> Result<PhoneNumber, FieldError> {
    if digits.len() != MOBILE_LEN {
        return Err(FieldError::new(
            PHONE_FIELD,
            "length",
            format!("手机号码应为 11 位数字，实际为 {} 位", digits.len()),
            format!("a mobile number has 11 digits, not {}", digits.len()),
        ));
    }
    if !is_mobile(digits.as_bytes()) {
        return Err(FieldError::new(
            PHONE_FIELD,
            "format",
            "手机号码的第 2 位应为 3–9",
            "a mobile number's second digit is 3 to 9",
        ));
    }
    Ok(PhoneNumber {
        text: digits.to_owned(),
        kind: PhoneKind::Mobile,
    })
}

fn parse_landline(
    digits: &str,
    first_separator_at: Option<usize>,
) -> Result<PhoneNumber, FieldError> {
    let area_len = match digits.as_bytes() {
        [b'0', b'1', b'0', ..] | [b'0', b'2', _, ..] => 3,
        [b'0', b'3'..=b'9', _, _, ..] => 4,
        _ => {
            return Err(FieldError::new(
                PHONE_FIELD,
                "format",
                "座机区号无效：应为 010、02X 或以 03–09 开头的 4 位区号",
                "the landline's area code is not valid: it is 010, 02X or 4 digits starting \
                 03 to 09",
            ));
        }
    };
    if first_separator_at.is_some_and(|at| at != area_len) {
        return Err(FieldError::new(
            PHONE_FIELD,
            "format",
            "座机号码的第一个分隔符应紧跟在区号之后",
            "a landline's first space or dash comes right after the area code",
        ));
    }
    let (area, subscriber) = digits.split_at(area_len);
    if !(7..=8).contains(&subscriber.len()) {
        return Err(FieldError::new(
            PHONE_FIELD,
            "length",
            format!(
                "座机号码在区号后应为 7–8 位，实际为 {} 位",
                subscriber.len()
            ),
            format!(
                "a landline has 7 or 8 digits after the area code, not {}",
                subscriber.len()
            ),
        ));
    }
    if subscriber.starts_with(['0', '1']) {
        return Err(FieldError::new(
            PHONE_FIELD,
            "format",
            "座机号码在区号后的第一位不能是 0 或 1",
            "a landline's number after the area code does not start with 0 or 1",
        ));
    }
    Ok(PhoneNumber {
        text: format!("{area}-{subscriber}"),
        kind: PhoneKind::Landline,
    })
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

/// Masks the ID and mobile numbers typed inside free text, leaving everything else as it was.
///
/// A number counts only as a whole run of ASCII digits (a longer run, such as a 20-digit
/// account number, is left alone):
/// - 18 characters (17 digits and a digit or `X`/`x`) that are a valid ID number: first 6,
///   eight `*`, last 4;
/// - 15 digits that are a valid old-style ID number (address code not starting with 0, then a
///   real date `YYMMDD` of the 1900s): first 6, six `*`, last 3;
/// - 11 digits `1[3-9]…` (a mobile), also after a glued `86` or `0086`: first 3, four `*`,
///   last 4;
/// - a mobile written 3-4-4 with single spaces or dashes (`138 1234 5678`): the middle group.
///
/// Amounts, dates, case numbers and other digit runs stay. Each masked character is an ASCII
/// digit replaced by `*`, so the text keeps its length in characters.
///
/// A 15-digit grid code whose digits 7–12 happen to read as a 1900s date looks like an
/// old-style ID number and is masked too: in displayed text a false mask is the safer error.
pub fn mask_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut masked = String::with_capacity(text.len());
    // `copied` and `at` only ever stop on ASCII bytes or the end, which are char boundaries.
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let run_end = digit_run_end(bytes, at);
        match number_in_text(bytes, at, run_end) {
            Some(found) => {
                masked.push_str(text.get(copied..at).unwrap_or_default());
                for (offset, &byte) in bytes
                    .get(at..found.end)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let hidden = (found.hide_from..found.hide_to).contains(&(at + offset));
                    masked.push(if hidden && byte.is_ascii_digit() {
                        '*'
                    } else {
                        char::from(byte)
                    });
                }
                copied = found.end;
                at = found.end;
            }
            None => at = run_end,
        }
    }
    masked.push_str(text.get(copied..).unwrap_or_default());
    masked
}

/// A number found in free text: its end and the byte range to hide, all as byte offsets.
struct FoundNumber {
    end: usize,
    hide_from: usize,
    hide_to: usize,
}

/// The end of the run of ASCII digits starting at `start`.
fn digit_run_end(bytes: &[u8], start: usize) -> usize {
    bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(bytes.len(), |len| start + len)
}

/// The number to mask that starts with the whole digit run `bytes[start..end]`, if any.
fn number_in_text(bytes: &[u8], start: usize, end: usize) -> Option<FoundNumber> {
    let run = bytes.get(start..end)?;
    let hide = |from: usize, keep_back: usize, token_end: usize| FoundNumber {
        end: token_end,
        hide_from: start + from,
        hide_to: token_end - keep_back,
    };
    let is_valid_id =
        |token: &[u8]| std::str::from_utf8(token).is_ok_and(|t| ResidentIdNumber::parse(t).is_ok());
    match run.len() {
        17 if matches!(bytes.get(end), Some(b'X' | b'x')) => {
            let token = bytes.get(start..=end)?;
            is_valid_id(token).then(|| hide(6, 4, end + 1))
        }
        ID_LEN if is_valid_id(run) => Some(hide(6, 4, end)),
        OLD_ID_LEN if is_old_id(run) => Some(hide(6, 3, end)),
        OLD_ID_LEN if run.starts_with(b"0086") && is_mobile(&run[4..]) => Some(hide(7, 4, end)),
        MOBILE_LEN if is_mobile(run) => Some(hide(3, 4, end)),
        13 if run.starts_with(b"86") && is_mobile(&run[2..]) => Some(hide(5, 4, end)),
        3 => grouped_mobile(bytes, start),
        _ => None,
    }
}

/// Whether a 15-digit run is a valid old-style (first-generation) ID number.
fn is_old_id(run: &[u8]) -> bool {
    run.first().is_some_and(|&b| b != b'0')
        && std::str::from_utf8(run).is_ok_and(|digits| birth_date_in(digits, 6, 2).is_some())
}

/// A mobile written `1[3-9]X-XXXX-XXXX` or `1[3-9]X XXXX XXXX` (one kind of separator, each
/// group a whole digit run) starting at `start`.
fn grouped_mobile(bytes: &[u8], start: usize) -> Option<FoundNumber> {
    let token = bytes.get(start..start + 13)?;
    let separator = *token.get(3)?;
    if (separator != b' ' && separator != b'-') || token.get(8) != Some(&separator) {
        return None;
    }
    let digits: Vec<u8> = token.iter().copied().filter(u8::is_ascii_digit).collect();
    let groups_whole = digit_run_end(bytes, start + 4) == start + 8
        && digit_run_end(bytes, start + 9) == start + 13;
    (groups_whole && is_mobile(&digits)).then_some(FoundNumber {
        end: start + 13,
        hide_from: start + 4,
        hide_to: start + 8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(text: &str) -> ResidentIdNumber {
        ResidentIdNumber::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn phone(text: &str) -> PhoneNumber {
        PhoneNumber::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("{y}-{m}-{d}"))
    }

    /// Appends the check character to 17 digits.
    fn with_check(first17: &str) -> String {
        let check = check_character(first17).unwrap_or_else(|| panic!("{first17:?}"));
        format!("{first17}{check}")
    }

    #[test]
    fn known_valid_id_numbers() {
        let cases = [
            (
                "11010519491231002X",
                "11010519491231002X",
                date(1949, 12, 31),
            ),
            (
                "11010519491231002x",
                "11010519491231002X",
                date(1949, 12, 31),
            ),
            (
                " 11010519491231002X\t",
                "11010519491231002X",
                date(1949, 12, 31),
            ),
        ];
        // GB 11643-1999's second example: its checksum is right, but 1880 is before the
        // accepted range (see `invalid_id_numbers_say_why`).
        assert_eq!(check_character("44052418800101001"), Some('4'));
        for (input, canonical, birth) in cases {
            let parsed = id(input);
            assert_eq!(parsed.as_str(), canonical);
            assert_eq!(parsed.birth_date(), birth);
            assert_eq!(parsed.region_prefix(), "110105");
            assert_eq!(parsed.masked(), "110105********002X");
        }
        let built = with_check("37088319900101123");
        let parsed = id(&built);
        assert_eq!(parsed.birth_date(), date(1990, 1, 1));
        assert_eq!(parsed.region_prefix(), "370883");
        assert_eq!(parsed.masked(), format!("370883********{}", &built[14..]));
        assert_eq!(
            id(&with_check("11010519000101001")).birth_date(),
            date(1900, 1, 1)
        );
        assert_eq!(
            id(&with_check("11010521001231001")).birth_date(),
            date(2100, 12, 31)
        );
        assert_eq!(
            id(&with_check("11010520000229001")).birth_date(),
            date(2000, 2, 29)
        );
    }

    #[test]
    fn invalid_id_numbers_say_why() {
        let cases = [
            (String::new(), "required"),
            ("1101051949123100".to_owned(), "length"),
            ("11010519491231002X1".to_owned(), "length"),
            ("11010519491231002Ｘ".to_owned(), "format"),
            ("１１010519491231002X".to_owned(), "format"),
            ("11010519491231002Y".to_owned(), "format"),
            ("1101051949123100X2".to_owned(), "format"),
            ("110105 9491231002X".to_owned(), "format"),
            ("-11010519491231002".to_owned(), "format"),
            ("01010519491231002X".to_owned(), "format"),
            ("11010519491232002X".to_owned(), "birth_date"),
            ("11010519490229002X".to_owned(), "birth_date"),
            ("11010519491300002X".to_owned(), "birth_date"),
            ("11010519490000002X".to_owned(), "birth_date"),
            ("440524188001010014".to_owned(), "birth_date"),
            (with_check("11010518991231001"), "birth_date"),
            (with_check("11010521010101001"), "birth_date"),
            ("110105194912310021".to_owned(), "checksum"),
            ("110105194912310020".to_owned(), "checksum"),
            ("11010519491231003X".to_owned(), "checksum"),
        ];
        for (input, code) in cases {
            match ResidentIdNumber::parse(&input) {
                Ok(parsed) => panic!("{input:?} should be refused, got {parsed:?}"),
                Err(e) => {
                    assert_eq!(e.code, code, "{input:?}: {e}");
                    assert_eq!(e.field, "id_number");
                    assert!(!e.message_zh.contains(input.trim()) || input.trim().is_empty());
                    assert!(!e.message_en.contains(input.trim()) || input.trim().is_empty());
                }
            }
        }
    }

    #[test]
    fn check_character_wants_17_digits() {
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("110105194912310021"), None);
        assert_eq!(check_character("1101051949123100a"), None);
        assert_eq!(check_character("１1010519491231002"), None);
        assert_eq!(check_character(""), None);
    }

    #[test]
    fn debug_never_shows_the_number() {
        let parsed = id("11010519491231002X");
        let shown = format!("{parsed:?}");
        assert!(!shown.contains("19491231"), "{shown}");
        assert!(shown.contains("110105********002X"), "{shown}");
        let shown = format!("{:?}", phone("13812345678"));
        assert!(!shown.contains("13812345678"), "{shown}");
        assert!(shown.contains("138****5678"), "{shown}");
    }

    #[test]
    fn personal_values_deserialize_through_their_parsers() -> Result<(), serde_json::Error> {
        let parsed: ResidentIdNumber = serde_json::from_str(r#""11010519491231002x""#)?;
        assert_eq!(parsed.as_str(), "11010519491231002X");
        assert!(serde_json::from_str::<ResidentIdNumber>(r#""110105194912310021""#).is_err());
        let parsed: PhoneNumber = serde_json::from_str(r#""+86 138-1234-5678""#)?;
        assert_eq!(parsed.as_str(), "13812345678");
        assert!(serde_json::from_str::<PhoneNumber>(r#""12345""#).is_err());
        Ok(())
    }

    #[test]
    fn phone_numbers_normalise() {
        let cases = [
            (
                "13812345678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                " 138 1234 5678 ",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "138-1234-5678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "+8613812345678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "+86 138 1234 5678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "+86-19912345678",
                "19912345678",
                PhoneKind::Mobile,
                "199****5678",
            ),
            (
                "8613812345678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "86 13812345678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "008613812345678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "0086 138 1234 5678",
                "13812345678",
                PhoneKind::Mobile,
                "138****5678",
            ),
            (
                "010-82345678",
                "010-82345678",
                PhoneKind::Landline,
                "010-******78",
            ),
            (
                "01082345678",
                "010-82345678",
                PhoneKind::Landline,
                "010-******78",
            ),
            (
                "021 62345678",
                "021-62345678",
                PhoneKind::Landline,
                "021-******78",
            ),
            (
                "0531-88888888",
                "0531-88888888",
                PhoneKind::Landline,
                "0531-******88",
            ),
            (
                "05378765432",
                "0537-8765432",
                PhoneKind::Landline,
                "0537-*****32",
            ),
            (
                "0537-876 5432",
                "0537-8765432",
                PhoneKind::Landline,
                "0537-*****32",
            ),
        ];
        for (input, canonical, kind, masked) in cases {
            let parsed = phone(input);
            assert_eq!(parsed.as_str(), canonical, "{input:?}");
            assert_eq!(parsed.kind(), kind, "{input:?}");
            assert_eq!(parsed.masked(), masked, "{input:?}");
        }
    }

    #[test]
    fn bad_phone_numbers_say_why() {
        let cases = [
            ("", "required"),
            ("  ", "required"),
            ("1381234567", "length"),
            ("138123456789", "length"),
            ("12812345678", "format"),
            ("10012345678", "format"),
            ("138 1234 567a", "format"),
            ("138  1234 5678", "format"),
            ("138-1234-5678-", "format"),
            ("-13812345678", "format"),
            ("(0531)88888888", "format"),
            ("+1 415 555 0100", "format"),
            ("++8613812345678", "format"),
            ("+86 0531 88888888", "format"),
            ("+86 12812345678", "format"),
            ("0086 1381234567", "format"),
            ("010-12345678", "format"),
            ("001-2345678", "format"),
            ("011-82345678", "format"),
            ("00531-8888888", "format"),
            ("053-18888888", "format"),
            ("0531-888888", "length"),
            ("0531-888888888", "length"),
            ("0531-08888888", "format"),
            ("010-82345678-123", "length"),
            ("27-87654321", "format"),
            ("１３812345678", "format"),
            ("12345", "length"),
            ("23456789", "format"),
        ];
        for (input, code) in cases {
            match PhoneNumber::parse(input) {
                Ok(parsed) => panic!("{input:?} should be refused, got {parsed:?}"),
                Err(e) => {
                    assert_eq!(e.code, code, "{input:?}: {e}");
                    assert_eq!(e.field, "phone");
                }
            }
        }
    }

    #[test]
    fn mask_text_examples() {
        let id18 = "11010519491231002X";
        let cases = [
            (
                format!("当事人张三，身份证号{id18}，电话13812345678。"),
                "当事人张三，身份证号110105********002X，电话138****5678。".to_owned(),
            ),
            (
                "身份证11010519491231002x联系".to_owned(),
                "身份证110105********002x联系".to_owned(),
            ),
            (
                "旧身份证370883690101123，已换领".to_owned(),
                "旧身份证370883******123，已换领".to_owned(),
            ),
            (
                "电话：138 1234 5678或138-1234-5678".to_owned(),
                "电话：138 **** 5678或138-****-5678".to_owned(),
            ),
            (
                "+8613812345678，008613812345678".to_owned(),
                "+86138****5678，0086138****5678".to_owned(),
            ),
            ("tel:13812345678".to_owned(), "tel:138****5678".to_owned()),
            // Not numbers to mask: amounts, dates, case numbers, bank cards, bad checksums,
            // runs that only contain a number, the wrong prefix or grouping.
            ("欠款 13500 元，2024-01-15 立案".to_owned(), String::new()),
            ("案件编号 370883-20240115-0001".to_owned(), String::new()),
            ("银行卡 6222021234567890123".to_owned(), String::new()),
            ("号码110105194912310021无效".to_owned(), String::new()),
            ("13812345678901".to_owned(), String::new()),
            ("913812345678".to_owned(), String::new()),
            ("12812345678".to_owned(), String::new()),
            ("138 12345 678".to_owned(), String::new()),
            ("138-1234 5678".to_owned(), String::new()),
            ("1138 1234 5678".to_owned(), String::new()),
            ("138 1234 56789".to_owned(), String::new()),
            ("01010519491231002X".to_owned(), String::new()),
            ("1101051949123100XX".to_owned(), String::new()),
            ("000883690101123".to_owned(), String::new()),
            ("370883691301123".to_owned(), String::new()),
            ("座机0531-88888888".to_owned(), String::new()),
            (String::new(), String::new()),
        ];
        for (input, expected) in cases {
            let expected = if expected.is_empty() {
                input.clone()
            } else {
                expected
            };
            assert_eq!(mask_text(&input), expected, "{input:?}");
        }
    }

    /// 17 digits of a valid ID number: an address code not starting with 0, a birth date in
    /// range and a sequence number.
    fn valid_first17() -> impl Strategy<Value = String> {
        let earliest = date(1900, 1, 1);
        let days = (date(2100, 12, 31) - earliest).num_days();
        (100_000u32..1_000_000, 0..=days, 0u32..1000).prop_map(move |(region, day, seq)| {
            let birth = earliest + chrono::Duration::days(day);
            format!("{region}{}{seq:03}", birth.format("%Y%m%d"))
        })
    }

    fn valid_id_text() -> impl Strategy<Value = String> {
        valid_first17().prop_map(|first17| with_check(&first17))
    }

    fn mobile_text() -> impl Strategy<Value = String> {
        "1[3-9][0-9]{9}"
    }

    fn old_id_text() -> impl Strategy<Value = String> {
        let earliest = date(1900, 1, 1);
        let days = (date(1999, 12, 31) - earliest).num_days();
        (100_000u32..1_000_000, 0..=days, 0u32..1000).prop_map(move |(region, day, seq)| {
            let birth = earliest + chrono::Duration::days(day);
            format!("{region}{}{seq:03}", birth.format("%y%m%d"))
        })
    }

    /// Text with no digits and no `X`/`x`: Chinese, letters and punctuation.
    fn filler() -> impl Strategy<Value = String> {
        "[\u{4e00}-\u{9fa5}a-wA-W，。：；！？、（） ]{1,8}"
    }

    /// Digit runs that can be no number to mask, whatever surrounds them.
    fn harmless_digits() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,2}",
            "[0-9]{5,10}",
            "[0-9]{12}",
            "[0-9]{14}",
            "[0-9]{16}",
            "[0-9]{19,24}",
        ]
    }

    proptest! {
        #[test]
        fn generated_ids_parse(text in valid_id_text()) {
            let parsed = ResidentIdNumber::parse(&text);
            prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
            let parsed = parsed.unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(parsed.as_str(), text.as_str());
            prop_assert_eq!(parsed.birth_date().format("%Y%m%d").to_string(), &text[6..14]);
            prop_assert_eq!(parsed.region_prefix(), &text[..6]);
            let lower = text.to_ascii_lowercase();
            prop_assert_eq!(ResidentIdNumber::parse(&lower), Ok(parsed));
        }

        #[test]
        fn one_changed_digit_never_parses(
            text in valid_id_text(),
            position in 0usize..17,
            bump in 1u8..10,
        ) {
            let mut bytes = text.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + bump) % 10;
            let changed = String::from_utf8(bytes).unwrap_or_else(|_| unreachable!());
            match ResidentIdNumber::parse(&changed) {
                Ok(parsed) => prop_assert!(false, "{changed} parsed as {parsed:?}"),
                Err(e) => prop_assert!(
                    ["checksum", "birth_date", "format"].contains(&e.code),
                    "{changed}: {e}"
                ),
            }
        }

        #[test]
        fn a_changed_check_character_fails_the_checksum(
            text in valid_id_text(),
            replacement in proptest::sample::select(ID_CHECK_CHARACTERS.to_vec()),
        ) {
            let (first17, check) = text.split_at(17);
            prop_assume!(check != replacement.to_string());
            let changed = format!("{first17}{replacement}");
            let code = ResidentIdNumber::parse(&changed).map_err(|e| e.code);
            prop_assert_eq!(code, Err("checksum"));
        }

        #[test]
        fn masked_ids_hide_the_birth_date(text in valid_id_text()) {
            let masked = ResidentIdNumber::parse(&text)
                .unwrap_or_else(|e| unreachable!("{e}"))
                .masked();
            prop_assert_eq!(masked.len(), 18);
            prop_assert_eq!(&masked[..6], &text[..6]);
            prop_assert_eq!(&masked[6..14], "********");
            prop_assert_eq!(&masked[14..], &text[14..]);
        }

        #[test]
        fn masked_mobiles_hide_the_middle(text in mobile_text()) {
            let parsed = PhoneNumber::parse(&text).unwrap_or_else(|e| unreachable!("{e}"));
            prop_assert_eq!(parsed.kind(), PhoneKind::Mobile);
            let masked = parsed.masked();
            prop_assert_eq!(&masked[..3], &text[..3]);
            prop_assert_eq!(&masked[3..7], "****");
            prop_assert_eq!(&masked[7..], &text[7..]);
        }

        #[test]
        fn written_mobiles_normalise(
            text in mobile_text(),
            prefix in proptest::sample::select(vec!["", "+86", "+86 ", "86", "0086", "0086-"]),
            grouped in any::<bool>(),
        ) {
            let body = if grouped {
                format!("{} {} {}", &text[..3], &text[3..7], &text[7..])
            } else {
                text.clone()
            };
            let parsed = PhoneNumber::parse(&format!("{prefix}{body}"));
            prop_assert_eq!(parsed.map(|p| p.as_str().to_owned()), Ok(text));
        }

        #[test]
        fn landlines_keep_area_code_and_last_two(
            area in "0(10|2[0-9]|[3-9][0-9]{2})",
            subscriber in "[2-9][0-9]{6,7}",
            dash in any::<bool>(),
        ) {
            let written = if dash { format!("{area}-{subscriber}") } else { format!("{area}{subscriber}") };
            let parsed = PhoneNumber::parse(&written).unwrap_or_else(|e| unreachable!("{written}: {e}"));
            prop_assert_eq!(parsed.kind(), PhoneKind::Landline);
            prop_assert_eq!(parsed.as_str(), format!("{area}-{subscriber}"));
            let masked = parsed.masked();
            let hidden = subscriber.len() - 2;
            prop_assert_eq!(
                masked,
                format!("{area}-{}{}", "*".repeat(hidden), &subscriber[hidden..])
            );
        }

        #[test]
        fn phone_junk_is_refused_without_panicking(text in "[0-9 +()\\-]{0,20}|\\PC{0,20}") {
            if let Ok(parsed) = PhoneNumber::parse(&text) {
                prop_assert_eq!(PhoneNumber::parse(parsed.as_str()), Ok(parsed.clone()));
            }
            if let Ok(parsed) = ResidentIdNumber::parse(&text) {
                prop_assert_eq!(ResidentIdNumber::parse(parsed.as_str()), Ok(parsed.clone()));
            }
        }

        #[test]
        fn mask_text_hides_every_number_it_was_given(
            parts in proptest::collection::vec(
                prop_oneof![
                    valid_id_text(),
                    valid_id_text().prop_map(|t| t.to_ascii_lowercase()),
                    old_id_text(),
                    mobile_text(),
                    filler(),
                    harmless_digits(),
                ],
                0..8,
            ),
        ) {
            let text = parts.join("，");
            let masked = mask_text(&text);
            for part in &parts {
                let secret = part.bytes().next().is_some_and(|b| b.is_ascii_digit())
                    && (ResidentIdNumber::parse(part).is_ok()
                        || (part.len() == OLD_ID_LEN && is_old_id(part.as_bytes()))
                        || (part.len() == MOBILE_LEN && is_mobile(part.as_bytes())));
                if secret {
                    prop_assert!(!masked.contains(part.as_str()), "{part} left in {masked}");
                }
            }
            prop_assert_eq!(mask_text(&masked), masked);
        }

        #[test]
        fn mask_text_leaves_text_without_numbers_alone(
            parts in proptest::collection::vec((filler(), harmless_digits()), 0..8),
            tail in "[\u{4e00}-\u{9fa5}，。]{0,4}",
        ) {
            // Filler between the runs keeps them apart.
            let text: String = parts.iter().map(|(f, d)| format!("{f}{d}")).collect::<String>() + &tail;
            prop_assert_eq!(mask_text(&text), text);
        }

        #[test]
        fn mask_text_only_turns_digits_into_stars(text in "\\PC{0,40}|[0-9Xx 一\\-]{0,40}") {
            let masked = mask_text(&text);
            prop_assert_eq!(masked.chars().count(), text.chars().count());
            for (before, after) in text.chars().zip(masked.chars()) {
                prop_assert!(before == after || (before.is_ascii_digit() && after == '*'));
            }
        }
    }
}
