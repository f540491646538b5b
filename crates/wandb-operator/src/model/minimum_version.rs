//! The oldest server W&B supports for a component, and the check of a version a server reports
//! against it. Each component names its minimum in its identity (`ComponentInfo`); the table
//! is in `docs/operations.md`, "Supported versions".

/// The oldest server version W&B supports for a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumVersion {
    /// The version, e.g. `8.4`.
    pub version: &'static str,
    /// The product the server must be, e.g. `MySQL`.
    pub product: &'static str,
    /// Servers that speak the protocol but are another product (a version string containing
    /// one of these is below the minimum whatever its number), e.g. `MariaDB`.
    pub not: &'static [&'static str],
}

/// The leading numbers of a version string: `8.4.3-3.1` → `[8, 4, 3]`.
fn numbers(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()
        .unwrap_or_default()
        .split('.')
        .map_while(|part| part.parse().ok())
        .collect()
}

impl MinimumVersion {
    /// Why `reported` is below this minimum, or `None` when it is supported.
    pub fn shortfall(&self, reported: &str) -> Option<String> {
        let lower = reported.to_lowercase();
        if let Some(other) = self.not.iter().find(|other| lower.contains(&other.to_lowercase())) {
            return Some(format!(
                "the server reports {reported:?}: {other}, not {}; W&B needs {} {} or newer (docs/operations.md, \"Supported versions\")",
                self.product, self.product, self.version
            ));
        }
        let (have, need) = (numbers(reported), numbers(self.version));
        if have.is_empty() || have >= need {
            return None;
        }
        Some(format!(
            "the server reports {} {reported}, below W&B's minimum {} (docs/operations.md, \"Supported versions\")",
            self.product, self.version
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MYSQL: MinimumVersion = MinimumVersion { version: "8.4", product: "MySQL", not: &["MariaDB"] };

    #[test]
    fn versions_compare_by_their_numbers_and_another_product_is_never_enough() {
        assert_eq!(MYSQL.shortfall("8.4.0"), None);
        assert_eq!(MYSQL.shortfall("8.4.6-6.1"), None);
        assert_eq!(MYSQL.shortfall("9.1.0"), None);
        assert!(MYSQL.shortfall("8.0.44-35").unwrap().contains("below W&B's minimum 8.4"));
        let mariadb = MYSQL.shortfall("5.5.5-10.11.14-MariaDB-0+deb12u2").unwrap();
        assert!(mariadb.contains("MariaDB, not MySQL"), "{mariadb}");
        assert!(MYSQL.shortfall("11.8.3-MariaDB").is_some());
        // A version without numbers cannot be judged.
        assert_eq!(MYSQL.shortfall("unknown"), None);
    }
}
