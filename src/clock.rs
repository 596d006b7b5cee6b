//! The one clock: `CONFDRIFT_NOW` (RFC 3339, or a date meaning its midnight
//! UTC) when set — tests, replays —, else the system time, to the second.
//!
//! Everything that depends on the time (waiver expiry, history run stamps,
//! snapshot times and their age) reads it here, never the system clock
//! directly, so that a test fixes it once. How a duration is written is
//! here too, once for the command line, confdrift.yaml and policies
//! ([`duration`]).

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

/// Parses a Kubernetes timestamp (RFC 3339), as objects carry them
/// (`creationTimestamp`, `startedAt`, `lastTransitionTime`).
pub fn timestamp(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

/// How a duration is written, wherever confdrift reads one (`--max-age`,
/// `max_age:` and `timeout:` in confdrift.yaml, `CONFDRIFT_OBJECT_TIMEOUT`,
/// and values a policy reads as `type: duration`): one grammar, jiff's
/// [`jiff::Span`] formats.
///
/// - jiff's friendly format, written without spaces: `30s`, `90m`, `26h`,
///   `1h30m`, `1h2m3.5s`, `300ms`, `7d`, `2w`; units `ns`, `us`/`µs`,
///   `ms`, `s`/`sec`, `m`/`min`, `h`/`hr`, `d`, `w` and their long names
///   (`hours`); a fraction on the last unit (`1.5h`).
/// - ISO 8601, in either case: `PT30S`, `pt0.5m`, `P1DT2H`, `P1W`, a
///   fraction on any part (`P0.5D`).
/// - What Go's `time.ParseDuration` reads beyond that: units in any order
///   or repeated, a fraction on any of them (`1.5h30m`, `500ms1s`), `μs`.
///
/// A sign may lead (`-1s`). Days are 24 hours and weeks 7 days; years and
/// months have no fixed length, so they are refused. A bare number has no
/// unit: the caller decides what it means ([`parse_duration`]: seconds).
pub fn duration(text: &str) -> Result<jiff::SignedDuration, String> {
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return Err(NOT_A_DURATION.into());
    }
    // Go writes micro as U+00B5 or U+03BC; jiff reads the first.
    let text = text.replace('\u{3bc}', "\u{b5}");
    match text.parse::<jiff::Span>() {
        Ok(span) => span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| NO_FIXED_LENGTH.into()),
        Err(_) => go_duration(&text),
    }
}

const NOT_A_DURATION: &str = "it is not a duration like 30s, 1h30m or PT30S";
const NO_FIXED_LENGTH: &str =
    "years and months have no fixed length: write days (30d) or weeks (4w)";

/// What jiff refuses but the readers before it took: Go's sum of `NUMBER
/// UNIT` parts in any order, each unit as jiff names it (`1.5h30m`), and
/// ISO 8601 with a fraction on any part (`P0.5D`, `PT1.5H30M`).
fn go_duration(text: &str) -> Result<jiff::SignedDuration, String> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    let nanos = match rest.strip_prefix(['P', 'p']) {
        Some(iso) => iso_parts(iso).ok_or_else(|| NOT_A_DURATION.to_string())?,
        None if rest.is_empty() => return Err(NOT_A_DURATION.into()),
        None => sum_of_parts(rest)?,
    };
    jiff::SignedDuration::try_from_secs_f64(sign * nanos / 1e9)
        .map_err(|_| "it is too long a duration".to_string())
}

/// The part after `P`: `[nD][nW][T[nH][nM][nS]]`, in nanoseconds.
fn iso_parts(iso: &str) -> Option<f64> {
    let (date, time) = match iso.find(['T', 't']) {
        Some(i) => (&iso[..i], Some(&iso[i + 1..])),
        None => (iso, None),
    };
    let only = |part: &str, units: &str| {
        part.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || units.contains(c.to_ascii_uppercase()))
    };
    if (date.is_empty() && time.is_none())
        || !only(date, "DW")
        || time.is_some_and(|t| t.is_empty() || !only(t, "HMS"))
    {
        return None;
    }
    let date = sum_of_parts(&date.to_ascii_lowercase()).ok()?;
    let time = sum_of_parts(&time.unwrap_or("").to_ascii_lowercase()).ok()?;
    Some(date + time)
}

/// `NUMBER UNIT` parts, summed in nanoseconds.
fn sum_of_parts(mut rest: &str) -> Result<f64, String> {
    let mut nanos = 0.0;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = match rest[..n].parse() {
            Ok(v) if rest[..n].bytes().any(|b| b.is_ascii_digit()) => v,
            _ => return Err(NOT_A_DURATION.into()),
        };
        rest = &rest[n..];
        let u = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..u];
        if unit.is_empty() {
            return Err("a number inside a duration has no unit".into());
        }
        let one = format!("1{unit}")
            .parse::<jiff::Span>()
            .map_err(|_| format!("`{unit}` is not a duration unit (ns, us, ms, s, m, h, d, w)"))?;
        let unit_nanos = one
            .total((
                jiff::Unit::Nanosecond,
                jiff::SpanRelativeTo::days_are_24_hours(),
            ))
            .map_err(|_| NO_FIXED_LENGTH.to_string())?;
        nanos += value * unit_nanos;
        rest = &rest[u..];
    }
    Ok(nanos)
}

/// A duration in confdrift.yaml or on the command line: [`duration`], or
/// a bare whole number of seconds (`90`); never negative.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(std::time::Duration::from_secs);
    }
    duration(s)
        .ok()
        .and_then(|d| std::time::Duration::try_from(d).ok())
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
        // Weeks, as ISO 8601's `P2W` always were in policies: one grammar.
        assert_eq!(parse_duration("2w").map(|d| d.as_secs()), Some(1_209_600));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("-5m"), None, "a negative age or timeout");
    }

    /// Every form the three grammars before this one read (confdrift.yaml's
    /// s/m/h, `--max-age`'s s/m/h/d, policies' Go and ISO 8601) means
    /// what it meant.
    #[test]
    fn every_form_read_before_means_the_same() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs_f64());
        for (text, want) in [
            ("26h", 93_600.0),
            ("90m", 5_400.0),
            ("1h30m", 5_400.0),
            ("30s", 30.0),
            ("2m", 120.0),
            ("1h", 3_600.0),
            ("2d", 172_800.0),
            ("90", 90.0),
            (" 45m ", 2_700.0),
            ("0", 0.0),
        ] {
            assert_eq!(secs(text), Some(want), "{text}");
        }
        let nanos = |s: &str| duration(s).map(|d| d.as_nanos());
        const S: i128 = 1_000_000_000;
        for (text, want) in [
            // Go's time.ParseDuration.
            ("1h2m3.5s", 3_723 * S + S / 2),
            ("300ms", 300_000_000),
            ("5us", 5_000),
            ("5µs", 5_000),
            ("5μs", 5_000),
            ("7ns", 7),
            ("0.5m", 30 * S),
            ("1.5h", 5_400 * S),
            ("29s1000ms", 30 * S),
            ("1000ms29s", 30 * S),
            ("1.5h30m", 7_200 * S),
            ("1s1s", 2 * S),
            ("-1s", -S),
            ("+5s", 5 * S),
            // What the policy grammar added to Go's.
            ("2d", 172_800 * S),
            ("1.5d", 129_600 * S),
            ("10sec", 10 * S),
            ("10min", 600 * S),
            // ISO 8601 (Spring, Java's Duration).
            ("PT5M", 300 * S),
            ("PT30S", 30 * S),
            ("pt0.5m", 30 * S),
            ("PT1H30M", 5_400 * S),
            ("P2D", 172_800 * S),
            ("P1DT2H", 93_600 * S),
            ("P1W", 604_800 * S),
            ("P0.5D", 43_200 * S),
            ("PT1.5H30M", 7_200 * S),
        ] {
            assert_eq!(nanos(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn what_is_not_a_duration_says_why() {
        for bad in [
            "", "abc", "s", "30 s", "1 hour", "1h-5m", "1..5s", "P", "PT", "-", "forever", "P5",
            "PT5", "P1H", "Pfoo",
        ] {
            assert_eq!(duration(bad), Err(NOT_A_DURATION.to_string()), "{bad:?}");
        }
        assert_eq!(
            duration("30x"),
            Err("`x` is not a duration unit (ns, us, ms, s, m, h, d, w)".to_string())
        );
        assert_eq!(
            duration("1h30"),
            Err("a number inside a duration has no unit".to_string())
        );
        for calendar in ["1y", "P1M", "P1Y2D", "3mo"] {
            assert_eq!(
                duration(calendar),
                Err(NO_FIXED_LENGTH.to_string()),
                "{calendar}"
            );
        }
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(human(40), "40s");
        assert_eq!(human(3 * 3600), "3h");
        assert_eq!(human(3 * 3600 + 120), "3h 2m");
        assert_eq!(human(2 * 86_400 + 5 * 3600 + 7), "2d 5h");
    }
}
