//! Calendar dates for waiver expiry: [`jiff::civil::Date`], read from the
//! one spelling a policy takes (`YYYY-MM-DD`). The run's "today" is passed
//! in from the one clock the CLI reads (`CONFDRIFT_TODAY`,
//! `CONFDRIFT_NOW` or the system date), so tests can fix it; nothing here
//! reads the time by itself except [`system_today`].

pub use jiff::civil::Date;

/// Reads `YYYY-MM-DD`, rejecting dates that do not exist (`2027-02-30`)
/// and every other spelling jiff would also take (`20270131`, a time of
/// day, a signed or six-digit year): a waiver's expiry reads one way.
pub fn parse(s: &str) -> Option<Date> {
    let s = s.trim();
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape {
        return None;
    }
    s.parse::<Date>().ok()
}

/// Today's date in UTC, from the system clock.
pub fn system_today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_dates_only() {
        assert_eq!(parse("2027-01-31"), Some(jiff::civil::date(2027, 1, 31)));
        assert_eq!(parse(" 2027-01-31\n"), Some(jiff::civil::date(2027, 1, 31)));
        assert_eq!(parse("2028-02-29").map(|d| d.day()), Some(29));
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-01-00",
            "2027-1-31",
            "27-01-31",
            "2027/01/31",
            "20270131",
            "2027-01-31T00:00",
            "+002027-01-31",
            "",
            "2027-01-31x",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_show_as_written_and_order_chronologically() {
        assert_eq!(
            parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            parse("0099-01-01").map(|d| d.to_string()).as_deref(),
            Some("0099-01-01")
        );
        assert!(parse("2026-12-31") < parse("2027-01-01"));
    }
}
