//! Timestamps as Helm writes them: Go's `time.Time` JSON form, RFC 3339 with
//! nanoseconds, trailing fractional zeros trimmed, `Z` for a zero offset
//! (`2026-11-26T21:04:58.012967267Z`). No clock here: callers pass the time.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const SECONDS_PER_DAY: i64 = 86_400;

/// An instant plus the UTC offset it is written with (Helm writes the
/// process's local zone; the fixtures were captured in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HelmTime {
    unix_seconds: i64,
    nanos: u32,
    offset_minutes: i16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time {text:?} is not RFC 3339 as Helm writes it: {reason}")]
pub struct TimeError {
    text: String,
    reason: &'static str,
}

impl HelmTime {
    /// A UTC instant. `nanos` must be below one second.
    pub fn from_unix(unix_seconds: i64, nanos: u32) -> Self {
        assert!(nanos < 1_000_000_000, "nanos {nanos} is a second or more");
        HelmTime {
            unix_seconds,
            nanos,
            offset_minutes: 0,
        }
    }

    /// The same instant written with another UTC offset (east positive).
    pub fn with_offset_minutes(self, offset_minutes: i16) -> Self {
        assert!(
            offset_minutes.abs() < 24 * 60,
            "offset {offset_minutes} min is a day or more"
        );
        HelmTime {
            offset_minutes,
            ..self
        }
    }

    pub fn unix_seconds(self) -> i64 {
        self.unix_seconds
    }

    pub fn nanos(self) -> u32 {
        self.nanos
    }

    pub fn offset_minutes(self) -> i16 {
        self.offset_minutes
    }

    /// Go's `time.RFC3339Nano` layout, as `json.Marshal` writes a `time.Time`.
    pub fn to_rfc3339_nano(self) -> String {
        let local = self.unix_seconds + i64::from(self.offset_minutes) * 60;
        let (days, second_of_day) = (
            local.div_euclid(SECONDS_PER_DAY),
            local.rem_euclid(SECONDS_PER_DAY),
        );
        let (year, month, day) = civil_from_days(days);
        let mut out = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        );
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        if self.offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let minutes = self.offset_minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
        }
        out
    }

    /// Parses RFC 3339 as Go's `time.Time` JSON decoding accepts it.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let fail = |reason| TimeError {
            text: text.to_string(),
            reason,
        };
        let bytes = text.as_bytes();
        if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b'T' {
            return Err(fail("expected YYYY-MM-DDTHH:MM:SS"));
        }
        if bytes[13] != b':' || bytes[16] != b':' {
            return Err(fail("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let number = |range: std::ops::Range<usize>| -> Result<i64, TimeError> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                Ok(part.parse().expect("ascii digits parse"))
            } else {
                Err(fail("expected digits"))
            }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(fail("date out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("time of day out of range"));
        }
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(fail("empty fraction of a second"));
            }
            // Go keeps nanosecond precision and drops any further digits.
            let kept = &fraction[..digits.min(9)];
            nanos = format!("{kept:0<9}").parse().expect("nine ascii digits");
            rest = &fraction[digits..];
        }
        let offset_minutes = match rest {
            "Z" => 0,
            _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
                if rest.as_bytes()[3] != b':' {
                    return Err(fail("expected a zone like +01:00"));
                }
                let start = text.len() - rest.len();
                let hours = number(start + 1..start + 3)?;
                let minutes = number(start + 4..start + 6)?;
                if hours > 23 || minutes > 59 {
                    return Err(fail("zone offset out of range"));
                }
                let magnitude = (hours * 60 + minutes) as i16;
                if rest.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                }
            }
            _ => return Err(fail("expected Z or a zone like +01:00 at the end")),
        };
        let local = days_from_civil(year, month, day) * SECONDS_PER_DAY
            + hour * 3600
            + minute * 60
            + second;
        Ok(HelmTime {
            unix_seconds: local - i64::from(offset_minutes) * 60,
            nanos,
            offset_minutes,
        })
    }
}

impl fmt::Display for HelmTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_nano())
    }
}

/// A time field of the release JSON. v3 writes an unset time as `""`
/// (its `helm.sh/helm/v3/pkg/time` wrapper), v4 leaves the key out; both
/// read either. Keeping the distinction lets a record written by one
/// version be re-written unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordTime {
    /// The key is absent (v4's `omitzero`).
    #[default]
    Absent,
    /// Written as `""` (v3's zero time).
    Zero,
    At(HelmTime),
}

impl RecordTime {
    pub fn is_absent(&self) -> bool {
        matches!(self, RecordTime::Absent)
    }

    pub fn time(&self) -> Option<HelmTime> {
        match self {
            RecordTime::At(t) => Some(*t),
            RecordTime::Absent | RecordTime::Zero => None,
        }
    }
}

impl From<HelmTime> for RecordTime {
    fn from(time: HelmTime) -> Self {
        RecordTime::At(time)
    }
}

impl Serialize for RecordTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached when a field is not skipped; Go would write "".
            RecordTime::Absent | RecordTime::Zero => serializer.serialize_str(""),
            RecordTime::At(t) => serializer.serialize_str(&t.to_rfc3339_nano()),
        }
    }
}

impl<'de> Deserialize<'de> for RecordTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Go's time wrappers treat `null` as "no time", like an absent key.
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(RecordTime::Absent),
            Some(text) if text.is_empty() => Ok(RecordTime::Zero),
            Some(text) => HelmTime::parse_rfc3339(&text)
                .map(RecordTime::At)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339_nano() {
        // 2026-11-26T21:10:53.064605114Z, from the v3 install fixture.
        let t = HelmTime::from_unix(1_795_727_453, 64_605_114);
        assert_eq!(t.to_rfc3339_nano(), "2026-11-26T21:10:53.064605114Z");
        // Trailing zeros trimmed, none at all for whole seconds.
        assert_eq!(
            HelmTime::from_unix(1_795_727_453, 778_241_970).to_rfc3339_nano(),
            "2026-11-26T21:10:53.77824197Z"
        );
        assert_eq!(
            HelmTime::from_unix(0, 0).to_rfc3339_nano(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            HelmTime::from_unix(0, 500_000_000)
                .with_offset_minutes(-330)
                .to_rfc3339_nano(),
            "1969-12-31T18:30:00.5-05:30"
        );
    }

    #[test]
    fn parses_what_it_formats_including_go_zero_time() {
        for text in [
            "2026-11-26T21:10:53.064605114Z",
            "2026-08-20T17:34:03Z",
            "0001-01-01T00:00:00Z",
            "2024-02-29T23:59:59.1+01:00",
            "1969-12-31T18:30:00.5-05:30",
        ] {
            let t = HelmTime::parse_rfc3339(text).unwrap();
            assert_eq!(t.to_rfc3339_nano(), text);
        }
        let t = HelmTime::parse_rfc3339("2024-02-29T23:59:59.1+01:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_709_251_199 - 3600);
        assert_eq!(t.nanos(), 100_000_000);
    }

    #[test]
    fn refuses_malformed_times_with_the_text_in_the_error() {
        for text in [
            "",
            "2026-11-26",
            "2026-11-26 21:10:53Z",
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-11-26T21:10:53",
            "2026-11-26T21:10:53.Z",
            "2026-11-26T21:10:53+0100",
        ] {
            let err = HelmTime::parse_rfc3339(text).unwrap_err();
            assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
        }
    }

    #[test]
    fn record_time_keeps_v3_empty_string_apart_from_v4_absence() {
        let zero: RecordTime = serde_json::from_str("\"\"").unwrap();
        assert_eq!(zero, RecordTime::Zero);
        assert_eq!(serde_json::to_string(&zero).unwrap(), "\"\"");
        let null: RecordTime = serde_json::from_str("null").unwrap();
        assert_eq!(null, RecordTime::Absent);
        let at: RecordTime = serde_json::from_str("\"2026-08-20T17:34:03Z\"").unwrap();
        assert_eq!(at.time().unwrap().unix_seconds(), 1_787_247_243);
    }
}
