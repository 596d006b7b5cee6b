//! The one clock: `CONFDRIFT_NOW` (RFC 3339, or a date meaning its midnight
//! UTC) when set — tests, replays —, else the system time, to the second.
//!
//! Everything that depends on the time (waiver expiry, history run stamps,
//! snapshot times and their age) reads it here, never the system clock
//! directly, so that a test fixes it once.

pub const NOW_ENV: &str = "CONFDRIFT_NOW";

/// Now, from `CONFDRIFT_NOW` or the system clock, to the second. The
/// error says what is wrong with `CONFDRIFT_NOW`.
pub fn now() -> Result<jiff::Timestamp, String> {
    let t = match std::env::var(NOW_ENV) {
        Ok(s) if !s.is_empty() => s
            .parse::<jiff::Timestamp>()
            .or_else(|_| {
                s.parse::<jiff::civil::Date>()
                    .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                    .map(|z| z.timestamp())
            })
            .map_err(|_| {
                format!(
                    "{NOW_ENV}={s}: expected a time like 2026-11-23T02:00:00Z or a date like 2026-11-23"
                )
            })?,
        _ => jiff::Timestamp::now(),
    };
    jiff::Timestamp::from_second(t.as_second()).map_err(|e| e.to_string())
}

/// A duration as people write it: `90s`, `45m`, `26h`, `7d`, or seconds.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(secs))
}

/// `3h`, `2d 4h`, `25m`, `40s`: a duration for people, to the largest two units.
pub fn human(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("26h").map(|d| d.as_secs()), Some(93_600));
        assert_eq!(parse_duration("90").map(|d| d.as_secs()), Some(90));
        assert_eq!(parse_duration("7d").map(|d| d.as_secs()), Some(604_800));
        assert_eq!(parse_duration("2w"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("h"), None);
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(human(40), "40s");
        assert_eq!(human(3 * 3600), "3h");
        assert_eq!(human(3 * 3600 + 120), "3h 2m");
        assert_eq!(human(2 * 86_400 + 5 * 3600 + 7), "2d 5h");
    }
}
