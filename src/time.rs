//! Timestamps in Go's `time.RFC3339Nano` spelling.
//!
//! Entire writes `created_at` in UTC and session-state times in the local zone, both with the
//! fraction's trailing zeros removed (`2026-04-15T16:20:31.5Z`, `…T09:20:31.0412345-07:00`). This
//! module formats such instants without a date-time dependency; the local offset is supplied by
//! the caller (git2 knows it).

use std::time::{SystemTime, UNIX_EPOCH};

/// An instant with the UTC offset it should be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Offset east of UTC in minutes; 0 is written as `Z`.
    pub offset_minutes: i32,
}

impl Timestamp {
    /// The current instant, in UTC.
    pub fn now_utc() -> Timestamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_nanos(),
            offset_minutes: 0,
        }
    }

    /// The same instant written with another offset.
    pub fn with_offset(self, offset_minutes: i32) -> Timestamp {
        Timestamp {
            offset_minutes,
            ..self
        }
    }

    /// From milliseconds since the epoch, in UTC (OpenCode's `time.created`).
    pub fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp {
            secs: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) as u32) * 1_000_000,
            offset_minutes: 0,
        }
    }

    /// RFC 3339 with nanoseconds, trailing zeros of the fraction removed, `Z` for UTC.
    pub fn rfc3339_nano(&self) -> String {
        let local = self.secs + i64::from(self.offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        if self.offset_minutes == 0 {
            s.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let off = self.offset_minutes.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", off / 60, off % 60));
        }
        s
    }
}

/// Seconds since the epoch of an RFC 3339 timestamp (`2026-04-15T09:20:31.04-07:00`); `None`
/// when it does not parse. The fraction is ignored.
pub fn parse_rfc3339_secs(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        // 2026-04-15T16:20:31Z
        let t = Timestamp {
            secs: 1_776_270_031,
            nanos: 123_456_789,
            offset_minutes: 0,
        };
        assert_eq!(t.rfc3339_nano(), "2026-04-15T16:20:31.123456789Z");
        let t = Timestamp {
            nanos: 500_000_000,
            ..t
        };
        assert_eq!(t.rfc3339_nano(), "2026-04-15T16:20:31.5Z");
        let t = Timestamp { nanos: 0, ..t };
        assert_eq!(t.rfc3339_nano(), "2026-04-15T16:20:31Z");
        let t = Timestamp {
            nanos: 41_234_500,
            offset_minutes: -420,
            ..t
        };
        assert_eq!(t.rfc3339_nano(), "2026-04-15T09:20:31.0412345-07:00");
        assert_eq!(
            Timestamp::from_unix_millis(1_773_867_525_015).rfc3339_nano(),
            "2026-03-18T20:58:45.015Z"
        );
        let t = Timestamp {
            secs: 0,
            nanos: 0,
            offset_minutes: 330,
        };
        assert_eq!(t.rfc3339_nano(), "1970-01-01T05:30:00+05:30");
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(
            parse_rfc3339_secs("2026-04-15T16:20:31.123Z"),
            Some(1_776_270_031)
        );
        assert_eq!(
            parse_rfc3339_secs("2026-04-15T09:20:31.0412345-07:00"),
            Some(1_776_270_031)
        );
        assert_eq!(parse_rfc3339_secs("1970-01-01T05:30:00+05:30"), Some(0));
        assert_eq!(parse_rfc3339_secs("yesterday"), None);
    }
}
