//! Kubernetes resource quantities, parsed so they can be validated and compared.
//!
//! k8s-openapi's `Quantity` is an unparsed string, and no maintained crate parses the
//! apimachinery grammar into an exact value, so this is a small faithful parser: the value is
//! kept exactly as a multiple of 10^-9 (nano-units) in an `i128`, which holds every quantity the
//! API server accepts (at most 2^63-1, at most 9 fractional digits after scaling).

use std::cmp::Ordering;
use std::fmt;

/// A parsed, non-negative quantity. Keeps the user's spelling for output.
#[derive(Debug, Clone, Eq)]
pub struct Quantity {
    text: String,
    nanos: i128,
}

/// Why a string is not a valid quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not in the Kubernetes quantity grammar.
    #[error("{0:?} is not a Kubernetes quantity (e.g. 500m, 1Gi, 10G)")]
    Syntax(String),
    /// Negative values are not meaningful here.
    #[error("{0:?} is negative")]
    Negative(String),
    /// Larger than Kubernetes allows (2^63-1).
    #[error("{0:?} is too large")]
    TooLarge(String),
}

const NANO: i128 = 1_000_000_000;
const MAX_NANOS: i128 = (i64::MAX as i128) * NANO;

impl Quantity {
    /// Parses a quantity such as `500m`, `1.5Gi`, `10G` or `1e3`.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let syntax = || QuantityError::Syntax(text.to_owned());
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let mantissa_len = body.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        let (mantissa, suffix) = body.split_at(mantissa_len);
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
            return Err(syntax());
        }
        // (multiplier numerator, power of ten) for the suffix.
        let (binary_multiplier, decimal_exponent): (i128, i32) = match suffix {
            "" => (1, 0),
            "Ki" => (1 << 10, 0),
            "Mi" => (1 << 20, 0),
            "Gi" => (1 << 30, 0),
            "Ti" => (1 << 40, 0),
            "Pi" => (1 << 50, 0),
            "Ei" => (1 << 60, 0),
            "n" => (1, -9),
            "u" => (1, -6),
            "m" => (1, -3),
            "k" => (1, 3),
            "M" => (1, 6),
            "G" => (1, 9),
            "T" => (1, 12),
            "P" => (1, 15),
            "E" => (1, 18),
            exponent if exponent.starts_with(['e', 'E']) => {
                let digits = &exponent[1..];
                let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
                if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) || unsigned.len() > 3 {
                    return Err(syntax());
                }
                (1, digits.parse::<i32>().map_err(|_| syntax())?)
            }
            _ => return Err(syntax()),
        };
        let too_large = || QuantityError::TooLarge(text.to_owned());
        // value = int.frac * binary * 10^exp, in nanos = digits * binary * 10^(exp + 9 - frac_len)
        let digits: String = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(too_large());
        }
        let mut value: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| syntax())? };
        value = value.checked_mul(binary_multiplier).ok_or_else(too_large)?;
        let scale = decimal_exponent + 9 - frac_part.len() as i32;
        if scale >= 0 {
            for _ in 0..scale {
                value = value.checked_mul(10).ok_or_else(too_large)?;
                if value > MAX_NANOS {
                    return Err(too_large());
                }
            }
        } else {
            // Kubernetes rounds up sub-nano precision; so do we.
            let divisor = 10_i128.checked_pow((-scale) as u32).unwrap_or(i128::MAX);
            value = (value + divisor - 1) / divisor;
        }
        if value > MAX_NANOS {
            return Err(too_large());
        }
        if negative && value != 0 {
            return Err(QuantityError::Negative(text.to_owned()));
        }
        Ok(Quantity { text: text.to_owned(), nanos: value })
    }

    /// The user's spelling.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn binary_and_decimal_suffixes_compare_by_value() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1G"), q("1000M"));
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert!(q("100Mi") < q("1Gi"));
        assert_eq!(q("1n"), q("0.000000001"));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for bad in ["", "Gi", "1.2.3", "1GB", "1gi", "ten", "1 Gi", "1e", "1e+", ".", "--1"] {
            assert!(matches!(Quantity::parse(bad), Err(QuantityError::Syntax(_))), "{bad:?} accepted");
        }
        assert!(matches!(Quantity::parse("-1Gi"), Err(QuantityError::Negative(_))));
        assert!(matches!(Quantity::parse("99999999Ei"), Err(QuantityError::TooLarge(_))));
    }

    #[test]
    fn zero_is_parsed_and_recognised() {
        assert!(q("0").is_zero());
        assert!(q("0Gi").is_zero());
        assert!(!q("1m").is_zero());
        assert_eq!(q("10Gi").as_str(), "10Gi");
    }
}
