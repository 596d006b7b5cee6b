//! Kubernetes resource quantities (`500m`, `128Mi`, `1.5G`, `1e3`), held
//! exactly as k8s.io/apimachinery's `resource.Quantity` holds them, so that
//! the values the kubelet computes from them (the downward API's
//! `resourceFieldRef`) come out to the same integer. A leaf helper: the
//! policy's unit reading and normalize's resolution both use it; it knows
//! nothing of either.

/// A non-negative quantity: `digits × 10^exp10 × 1024^pow1024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    digits: u128,
    exp10: i32,
    pow1024: u32,
}

impl Quantity {
    /// Reads the quantity grammar of k8s.io/apimachinery
    /// `pkg/api/resource/quantity.go`: `[+]digits[.digits][suffix]`, the
    /// suffix one of `Ki Mi Gi Ti Pi Ei`, `n u m k M G T P E`, or a decimal
    /// exponent `e`/`E` with a signed integer. Negative quantities and
    /// anything else are `None` (no resource limit is negative).
    pub fn parse(text: &str) -> Option<Quantity> {
        let t = text.trim();
        let body = t.strip_prefix('+').unwrap_or(t);
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(end);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
            return None;
        }
        let all: String = format!("{int}{frac}");
        let all = all.trim_start_matches('0');
        // 38 digits fit a u128; no real quantity has more.
        if all.len() > 38 {
            return None;
        }
        let digits = if all.is_empty() { 0 } else { all.parse().ok()? };
        let mut exp10 = -(frac.len() as i32);
        let mut pow1024 = 0;
        match suffix {
            "" => {}
            "Ki" => pow1024 = 1,
            "Mi" => pow1024 = 2,
            "Gi" => pow1024 = 3,
            "Ti" => pow1024 = 4,
            "Pi" => pow1024 = 5,
            "Ei" => pow1024 = 6,
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            s => {
                let exp = s.strip_prefix(['e', 'E'])?;
                let magnitude = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if magnitude.is_empty() || !magnitude.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                exp10 = exp10.checked_add(exp.parse::<i32>().ok()?)?;
            }
        }
        Some(Quantity {
            digits,
            exp10,
            pow1024,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.digits == 0
    }

    /// `ceil(self × 10^scale)`: what `Quantity.ScaledValue(-scale)` gives,
    /// so `Value()` is `ceil_scaled(0)` and `MilliValue()` is
    /// `ceil_scaled(3)` (both round up). `None` past `u128`.
    pub fn ceil_scaled(&self, scale: i32) -> Option<u128> {
        let mut n = self.digits;
        for _ in 0..self.pow1024 {
            n = n.checked_mul(1024)?;
        }
        let e = self.exp10.checked_add(scale)?;
        if e >= 0 {
            return n.checked_mul(10u128.checked_pow(e as u32)?);
        }
        match 10u128.checked_pow(e.unsigned_abs()) {
            Some(d) => Some(n.div_ceil(d)),
            // Dividing by more than 10^38 leaves a fraction of one.
            None => Some(u128::from(n > 0)),
        }
    }

    /// The nearest `f64`: exact for every value a person writes.
    pub fn to_f64(&self) -> f64 {
        let n = self.digits as f64 * 1024f64.powi(self.pow1024 as i32);
        if self.exp10 >= 0 {
            n * 10f64.powi(self.exp10)
        } else {
            n / 10f64.powi(-self.exp10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|| panic!("{s} is a quantity"))
    }

    #[test]
    fn value_and_milli_value_round_up_like_apimachinery() {
        assert_eq!(q("500m").ceil_scaled(3), Some(500));
        assert_eq!(q("500m").ceil_scaled(0), Some(1));
        assert_eq!(q("128Mi").ceil_scaled(0), Some(134_217_728));
        assert_eq!(q("1.5").ceil_scaled(0), Some(2));
        assert_eq!(q("0.0001").ceil_scaled(3), Some(1));
        assert_eq!(q("1e3").ceil_scaled(0), Some(1000));
        assert_eq!(q("1E").ceil_scaled(0), Some(10u128.pow(18)));
        assert_eq!(q("2E3").ceil_scaled(0), Some(2000));
        assert_eq!(q("1G").ceil_scaled(0), Some(1_000_000_000));
        assert_eq!(q("+250m").ceil_scaled(3), Some(250));
        assert_eq!(q("0").ceil_scaled(0), Some(0));
        assert_eq!(q("1n").ceil_scaled(0), Some(1));
    }

    #[test]
    fn what_is_not_a_kubernetes_quantity_is_refused() {
        for bad in [
            "", "-1", "Mi", "12 Mi", "1.2.3", "1MiB", "1e", "1e+", "ten", "1x",
        ] {
            assert!(Quantity::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn to_f64_is_exact_for_written_values() {
        assert_eq!(q("100m").to_f64(), 0.1);
        assert_eq!(q("512Mi").to_f64(), 536_870_912.0);
        assert_eq!(q("1.5G").to_f64(), 1.5e9);
    }
}
