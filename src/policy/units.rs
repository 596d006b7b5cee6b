//! Reading configuration text as the type a rule asks for, so that `"30s"`,
//! `"30000"` and `"30000ms"` are the same duration under `unit: ms`, and
//! `"512Mi"` and `"536870912"` the same quantity.
//!
//! A value that cannot be read is an error with a reason, never a default:
//! the checks turn it into a `value-unreadable` finding.

use crate::normalize::canonical::parse_bool;

/// The `type:` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Int,
    Number,
    Bool,
    Duration,
    Quantity,
    Url,
}

impl ValueType {
    /// The names a policy may write.
    pub const NAMES: &'static [&'static str] =
        &["int", "number", "bool", "duration", "quantity", "url"];

    pub fn parse(s: &str) -> Option<ValueType> {
        Some(match s {
            "int" => ValueType::Int,
            "number" => ValueType::Number,
            "bool" => ValueType::Bool,
            "duration" => ValueType::Duration,
            "quantity" => ValueType::Quantity,
            "url" => ValueType::Url,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Int => "int",
            ValueType::Number => "number",
            ValueType::Bool => "bool",
            ValueType::Duration => "duration",
            ValueType::Quantity => "quantity",
            ValueType::Url => "url",
        }
    }

    /// For messages: "an integer", "a duration", …
    pub fn described(self) -> &'static str {
        match self {
            ValueType::Int => "an integer",
            ValueType::Number => "a number",
            ValueType::Bool => "a boolean",
            ValueType::Duration => "a duration",
            ValueType::Quantity => "a quantity",
            ValueType::Url => "a URL",
        }
    }

    /// Whether values of this type have an order (for `range`,
    /// `tolerance`, `relation`).
    pub fn ordered(self) -> bool {
        matches!(
            self,
            ValueType::Int | ValueType::Number | ValueType::Duration | ValueType::Quantity
        )
    }
}

/// The `unit:` of a rule: what a bare number means, and how values are shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub name: &'static str,
    /// `Duration` or `Quantity`.
    pub dimension: ValueType,
    /// Base units (nanoseconds, or plain quantity units such as bytes) per unit.
    pub factor: f64,
}

const NS: f64 = 1.0;
const US: f64 = 1e3;
const MS: f64 = 1e6;
const SEC: f64 = 1e9;
const MIN: f64 = 60.0 * SEC;
const HOUR: f64 = 60.0 * MIN;
const DAY: f64 = 24.0 * HOUR;
const KI: f64 = 1024.0;

/// Every unit a rule may name.
pub const UNITS: &[Unit] = &[
    Unit {
        name: "ns",
        dimension: ValueType::Duration,
        factor: NS,
    },
    Unit {
        name: "us",
        dimension: ValueType::Duration,
        factor: US,
    },
    Unit {
        name: "ms",
        dimension: ValueType::Duration,
        factor: MS,
    },
    Unit {
        name: "s",
        dimension: ValueType::Duration,
        factor: SEC,
    },
    Unit {
        name: "m",
        dimension: ValueType::Duration,
        factor: MIN,
    },
    Unit {
        name: "min",
        dimension: ValueType::Duration,
        factor: MIN,
    },
    Unit {
        name: "h",
        dimension: ValueType::Duration,
        factor: HOUR,
    },
    Unit {
        name: "d",
        dimension: ValueType::Duration,
        factor: DAY,
    },
    Unit {
        name: "bytes",
        dimension: ValueType::Quantity,
        factor: 1.0,
    },
    Unit {
        name: "B",
        dimension: ValueType::Quantity,
        factor: 1.0,
    },
    Unit {
        name: "KiB",
        dimension: ValueType::Quantity,
        factor: KI,
    },
    Unit {
        name: "MiB",
        dimension: ValueType::Quantity,
        factor: KI * KI,
    },
    Unit {
        name: "GiB",
        dimension: ValueType::Quantity,
        factor: KI * KI * KI,
    },
    Unit {
        name: "TiB",
        dimension: ValueType::Quantity,
        factor: KI * KI * KI * KI,
    },
    Unit {
        name: "Ki",
        dimension: ValueType::Quantity,
        factor: KI,
    },
    Unit {
        name: "Mi",
        dimension: ValueType::Quantity,
        factor: KI * KI,
    },
    Unit {
        name: "Gi",
        dimension: ValueType::Quantity,
        factor: KI * KI * KI,
    },
    Unit {
        name: "Ti",
        dimension: ValueType::Quantity,
        factor: KI * KI * KI * KI,
    },
    Unit {
        name: "kB",
        dimension: ValueType::Quantity,
        factor: 1e3,
    },
    Unit {
        name: "MB",
        dimension: ValueType::Quantity,
        factor: 1e6,
    },
    Unit {
        name: "GB",
        dimension: ValueType::Quantity,
        factor: 1e9,
    },
    Unit {
        name: "TB",
        dimension: ValueType::Quantity,
        factor: 1e12,
    },
];

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        UNITS.iter().find(|u| u.name == s).copied()
    }

    pub fn names() -> Vec<&'static str> {
        UNITS.iter().map(|u| u.name).collect()
    }
}

/// A value read as a rule's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// Ints, numbers, durations (in nanoseconds), quantities (in base units).
    Num(f64),
    Bool(bool),
    /// A URL in canonical form (lowercase scheme and host, no default port).
    Url(String),
}

impl Typed {
    pub fn num(&self) -> Option<f64> {
        match self {
            Typed::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// Same value, allowing for floating-point noise in unit conversion.
    pub fn same(&self, other: &Typed) -> bool {
        match (self, other) {
            (Typed::Num(a), Typed::Num(b)) => approx_eq(*a, *b),
            (a, b) => a == b,
        }
    }

    /// For messages: in the rule's unit when there is one.
    pub fn show(&self, ty: ValueType, unit: Option<Unit>) -> String {
        match self {
            Typed::Num(n) => match (ty, unit) {
                (_, Some(u)) => format!("{}{}", fmt_num(n / u.factor), unit_suffix(u)),
                (ValueType::Duration, None) => show_duration(*n),
                _ => fmt_num(*n),
            },
            Typed::Bool(b) => b.to_string(),
            Typed::Url(u) => u.clone(),
        }
    }
}

fn unit_suffix(u: Unit) -> String {
    if u.name == "bytes" {
        " bytes".to_string()
    } else {
        u.name.to_string()
    }
}

pub fn approx_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-9)
}

/// A number without noise: `800`, `0.25`, `1.333333`.
pub fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The largest unit that shows a duration whole: `15m`, `1500ms`.
fn show_duration(ns: f64) -> String {
    for (name, f) in [
        ("d", DAY),
        ("h", HOUR),
        ("m", MIN),
        ("s", SEC),
        ("ms", MS),
        ("us", US),
    ] {
        if ns != 0.0 && (ns / f).fract() == 0.0 {
            return format!("{}{name}", fmt_num(ns / f));
        }
    }
    format!("{}ns", fmt_num(ns))
}

/// Reads `text` as `ty`; `unit` says what a bare number means.
///
/// Surrounding whitespace makes a value unreadable, as it does for the
/// programs that read it: Go's `strconv.Atoi("20\n")` and Java's
/// `Integer.parseInt("20 ")` fail, so `POOL: |` (which gives `"20\n"`) is
/// not an int.
pub fn read(ty: ValueType, unit: Option<Unit>, text: &str) -> Result<Typed, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("it is empty".into());
    }
    if t.len() != text.len() {
        return Err(format!(
            "it has {} whitespace ({:?}), which programs reject when they parse it",
            if text.starts_with(char::is_whitespace) {
                "leading"
            } else {
                "trailing"
            },
            text
        ));
    }
    match ty {
        ValueType::Int => {
            if is_int(t) {
                t.parse::<i64>()
                    .map(|i| Typed::Num(i as f64))
                    .map_err(|_| "it is too large".to_string())
            } else {
                Err("it is not a whole number".into())
            }
        }
        ValueType::Number => decimal(t)
            .map(|n| Typed::Num(n * unit.map_or(1.0, |u| u.factor)))
            .ok_or_else(|| "it is not a number".into()),
        ValueType::Bool => parse_bool(t)
            .map(Typed::Bool)
            .ok_or_else(|| "it is not true/false, 1/0, yes/no or on/off".into()),
        ValueType::Duration => duration(t, unit).map(Typed::Num),
        ValueType::Quantity => quantity(t, unit).map(Typed::Num),
        ValueType::Url => url(t).map(Typed::Url),
    }
}

fn is_int(t: &str) -> bool {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A plain decimal number (`12`, `-0.5`, `1e3`); no `inf`, `nan`, hex.
fn decimal(t: &str) -> Option<f64> {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The length of the leading `[+-]digits[.digits]` of `s`.
fn number_prefix(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    i
}

/// A duration as [`crate::clock::duration`] reads it (`1h30m`, `300ms`,
/// `PT30S`), or a bare number in `unit`. Nanoseconds.
fn duration(t: &str, unit: Option<Unit>) -> Result<f64, String> {
    if let Some(n) = decimal(t) {
        return match unit {
            Some(u) => Ok(n * u.factor),
            None => Err(format!(
                "a bare number has no unit (write {t}s or {t}ms, or give the rule a `unit:`)"
            )),
        };
    }
    crate::clock::duration(t).map(|d| d.as_nanos() as f64)
}

/// A Kubernetes quantity (`512Mi`, `1.5G`, `100m`, `1e3`), or with a byte
/// suffix as applications write it (`512MiB`, `64MB`). Base units.
fn quantity(t: &str, unit: Option<Unit>) -> Result<f64, String> {
    if let Some(n) = decimal(t) {
        return Ok(n * unit.map_or(1.0, |u| u.factor));
    }
    // Kubernetes' own spelling (`512Mi`, `100m`, `1e3`), read as the API
    // server reads it; then the byte suffixes applications write.
    if let Some(q) = crate::quantity::Quantity::parse(t) {
        return Ok(q.to_f64());
    }
    let n = number_prefix(t);
    let Some(value) = decimal(&t[..n]).filter(|_| n > 0) else {
        return Err("it is not a quantity like 512Mi, 1G or 1048576".into());
    };
    let suffix = &t[n..];
    let factor = match suffix {
        "KiB" => KI,
        "MiB" => KI * KI,
        "GiB" => KI * KI * KI,
        "TiB" => KI.powi(4),
        "PiB" => KI.powi(5),
        "EiB" => KI.powi(6),
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        "EB" => 1e18,
        "B" => 1.0,
        other => match other.to_ascii_lowercase().as_str() {
            "kib" => KI,
            "mib" => KI * KI,
            "gib" => KI * KI * KI,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            _ => {
                return Err(format!(
                    "`{other}` is not a quantity suffix (Ki, Mi, Gi, k, M, G, …)"
                ));
            }
        },
    };
    Ok(value * factor)
}

/// An absolute URL with a host (`https://api.example.com/v2`), or a `file:`
/// URL, or a JDBC URL wrapping one. Returns the canonical form.
fn url(t: &str) -> Result<String, String> {
    const WHY: &str = "it is not an absolute URL like https://host/path";
    if t.chars().any(char::is_whitespace) {
        return Err(WHY.into());
    }
    let inner = t.strip_prefix("jdbc:").unwrap_or(t);
    let (scheme, rest) = inner.split_once(':').ok_or(WHY)?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(WHY.into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "file" {
        return Ok(format!("file:{rest}"));
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Err(WHY.into());
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, path) = after.split_at(end);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if hostport.starts_with('[') {
        // An IPv6 literal: `[::1]:8080`.
        match hostport.find(']') {
            Some(i) => {
                let (h, rest) = hostport.split_at(i + 1);
                match rest.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None if rest.is_empty() => (h, None),
                    None => return Err(WHY.into()),
                }
            }
            None => return Err(WHY.into()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("`{p}` is not a port number"));
    }
    let default_port = matches!(
        (scheme.as_str(), port),
        ("http", Some("80")) | ("https", Some("443"))
    );
    let userinfo = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    let port = match port {
        Some(p) if !default_port => format!(":{p}"),
        _ => String::new(),
    };
    let path = if path == "/" { "" } else { path };
    Ok(format!(
        "{}{scheme}://{userinfo}{}{port}{path}",
        if t.starts_with("jdbc:") { "jdbc:" } else { "" },
        host.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(s: &str, unit: Option<&str>) -> Result<f64, String> {
        duration(s, unit.and_then(Unit::parse))
    }

    #[test]
    fn durations_in_any_spelling_compare_as_the_same_time() {
        let ms = Some("ms");
        let thirty = dur("30000", ms).unwrap();
        for s in [
            "30s",
            "30000ms",
            "0.5m",
            "PT30S",
            "30000",
            "29s1000ms",
            "pt0.5m",
        ] {
            assert!(approx_eq(dur(s, ms).unwrap(), thirty), "{s}");
        }
        assert!(approx_eq(dur("1h30m", None).unwrap(), 90.0 * MIN));
        assert!(approx_eq(dur("2d", None).unwrap(), 2.0 * DAY));
        assert!(approx_eq(dur("-1s", None).unwrap(), -SEC));
        assert!(approx_eq(dur("30", Some("s")).unwrap(), 30.0 * SEC));
    }

    #[test]
    fn a_bare_number_without_a_unit_is_not_a_duration() {
        let e = dur("30", None).unwrap_err();
        assert!(e.contains("no unit"), "{e}");
        for bad in ["abc", "30 s", "30x", "s", "1h-5m", "P", "PT", "", "1..5s"] {
            assert!(dur(bad, Some("ms")).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities_follow_kubernetes_suffixes() {
        let q = |s: &str| quantity(s, None).unwrap();
        assert_eq!(q("512Mi"), 536_870_912.0);
        assert_eq!(q("536870912"), 536_870_912.0);
        assert_eq!(q("512MiB"), q("512Mi"));
        assert_eq!(q("1G"), 1e9);
        assert_eq!(q("1e3"), 1000.0);
        assert_eq!(q("1E"), 1e18);
        assert_eq!(q("100m"), 0.1);
        assert_eq!(quantity("512", Unit::parse("Mi")).unwrap(), q("512Mi"));
        assert!(quantity("12 apples", None).is_err());
        assert!(quantity("Mi", None).is_err());
    }

    #[test]
    fn ints_numbers_and_bools() {
        assert_eq!(read(ValueType::Int, None, "20"), Ok(Typed::Num(20.0)));
        // strconv.Atoi("20\n") fails, and so does parseInt(" 20 "): a value
        // from `POOL: |` is not an int.
        for spaced in ["20\n", " 20 ", "20 "] {
            let err = read(ValueType::Int, None, spaced).unwrap_err();
            assert!(err.contains("whitespace"), "{spaced:?}: {err}");
        }
        assert!(read(ValueType::Int, None, "2.5").is_err());
        assert!(read(ValueType::Int, None, "twenty").is_err());
        assert_eq!(read(ValueType::Number, None, "0.1"), Ok(Typed::Num(0.1)));
        for bad in ["inf", "NaN", "0x10", "1,5", ""] {
            assert!(read(ValueType::Number, None, bad).is_err(), "{bad}");
        }
        for t in ["true", "ON", "1", "yes", "enabled"] {
            assert_eq!(read(ValueType::Bool, None, t), Ok(Typed::Bool(true)), "{t}");
        }
        assert_eq!(read(ValueType::Bool, None, "off"), Ok(Typed::Bool(false)));
        assert!(read(ValueType::Bool, None, "maybe").is_err());
    }

    #[test]
    fn urls_are_checked_and_canonicalized() {
        let u = |s: &str| url(s);
        assert_eq!(
            u("HTTPS://API.example.com:443/v2").unwrap(),
            "https://api.example.com/v2"
        );
        assert_eq!(
            u("http://cart.shop.svc:8080").unwrap(),
            "http://cart.shop.svc:8080"
        );
        assert_eq!(
            u("https://x.example/").unwrap(),
            u("https://x.example").unwrap()
        );
        assert!(u("postgres://app@db.shop.svc:5432/shop").is_ok());
        assert!(u("jdbc:postgresql://db.shop.svc:5432/shop").is_ok());
        assert!(u("file:/etc/checkout/application.yaml").is_ok());
        for bad in [
            "localhost:8080",
            "not a url",
            "http://",
            "https://host:port/",
            "/just/a/path",
        ] {
            assert!(u(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_shown_in_the_rules_unit() {
        let ms = Unit::parse("ms");
        let v = read(ValueType::Duration, ms, "45s").unwrap();
        assert_eq!(v.show(ValueType::Duration, ms), "45000ms");
        assert_eq!(v.show(ValueType::Duration, None), "45s");
        let q = read(ValueType::Quantity, Unit::parse("MiB"), "1Gi").unwrap();
        assert_eq!(q.show(ValueType::Quantity, Unit::parse("MiB")), "1024MiB");
        assert_eq!(fmt_num(0.25), "0.25");
    }
}
