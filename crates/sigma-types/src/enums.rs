use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a wire enumeration: lower-case kebab strings, `as_str`,
/// `FromStr` and the list of all values (used in error messages and SQL).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // The wire names are the kebab-case variant names (`VpnExit` is
        // `vpn-exit`); a test checks they equal the texts given here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The accepted values, for error messages.
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("must be one of: {}", Self::expected())),
                }
            }
        }
    };
}

wire_enum! {
    /// Where a VPS is in its life.
    VpsStatus {
        Provisioning = "provisioning",
        Active = "active",
        Retiring = "retiring",
        Suspended = "suspended",
        Retired = "retired",
    }
}

wire_enum! {
    /// What a VPS is for.
    Purpose {
        VpnExit = "vpn-exit",
        VpnRelay = "vpn-relay",
        VpnEntry = "vpn-entry",
        Monitor = "monitor",
        Management = "management",
    }
}

wire_enum! {
    /// The network an address belongs to, as seen from China.
    IpLabel {
        ChinaTelecom = "china-telecom",
        ChinaUnicom = "china-unicom",
        ChinaMobile = "china-mobile",
        ChinaCernet = "china-cernet",
        Overseas = "overseas",
        Internal = "internal",
        Anycast = "anycast",
    }
}

wire_enum! {
    /// How often a VPS is paid for.
    BillingCycle {
        Monthly = "monthly",
        Quarterly = "quarterly",
        Semiannual = "semiannual",
        Annual = "annual",
        Biennial = "biennial",
        Triennial = "triennial",
        OneTime = "one-time",
    }
}

wire_enum! {
    /// How a VPS record came to be.
    Source {
        Manual = "manual",
        Import = "import",
        Agent = "agent",
        Cloud = "cloud",
    }
}

wire_enum! {
    /// What a user or key may do: `readonly` reads, `operator` also changes
    /// fleet data, `admin` also manages users, keys and settings.
    Role {
        Readonly = "readonly",
        Operator = "operator",
        Admin = "admin",
    }
}

// The enums come from `wire_enum!`, which cannot carry `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for VpsStatus {
    fn default() -> Self {
        VpsStatus::Provisioning
    }
}

#[allow(clippy::derivable_impls)]
impl Default for BillingCycle {
    fn default() -> Self {
        BillingCycle::Monthly
    }
}

impl BillingCycle {
    /// Months one payment covers; `None` for a one-time payment.
    pub fn months(self) -> Option<u32> {
        match self {
            BillingCycle::Monthly => Some(1),
            BillingCycle::Quarterly => Some(3),
            BillingCycle::Semiannual => Some(6),
            BillingCycle::Annual => Some(12),
            BillingCycle::Biennial => Some(24),
            BillingCycle::Triennial => Some(36),
            BillingCycle::OneTime => None,
        }
    }

    /// The price spread over the months of the cycle, to four decimal
    /// places. A one-time payment has no recurring cost.
    pub fn monthly_cost(self, price: Option<Decimal>) -> Decimal {
        match (price, self.months()) {
            (Some(price), Some(months)) => (price / Decimal::from(months)).round_dp(4).normalize(),
            _ => Decimal::ZERO,
        }
    }
}

impl VpsStatus {
    /// Statuses whose VPS appear in Prometheus targets.
    pub const MONITORED: &'static [VpsStatus] = &[VpsStatus::Provisioning, VpsStatus::Active, VpsStatus::Retiring];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn monthly_cost_spreads_the_price() {
        let p = |s| Some(Decimal::from_str(s).unwrap());
        assert_eq!(BillingCycle::Monthly.monthly_cost(p("4.99")).to_string(), "4.99");
        assert_eq!(BillingCycle::Annual.monthly_cost(p("120")).to_string(), "10");
        assert_eq!(BillingCycle::Quarterly.monthly_cost(p("10")).to_string(), "3.3333");
        assert_eq!(BillingCycle::OneTime.monthly_cost(p("50")), Decimal::ZERO);
        assert_eq!(BillingCycle::Monthly.monthly_cost(None), Decimal::ZERO);
    }

    #[test]
    fn wire_names_match_the_declared_texts() {
        fn check<T: serde::Serialize + std::fmt::Display + Copy>(all: &[T]) {
            for v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(v.to_string()));
            }
        }
        check(VpsStatus::ALL);
        check(Purpose::ALL);
        check(IpLabel::ALL);
        check(BillingCycle::ALL);
        check(Source::ALL);
        check(Role::ALL);
    }

    #[test]
    fn enums_round_trip_as_kebab_strings() {
        assert_eq!(serde_json::to_string(&Purpose::VpnExit).unwrap(), "\"vpn-exit\"");
        assert_eq!(BillingCycle::from_str("one-time"), Ok(BillingCycle::OneTime));
        assert!(VpsStatus::from_str("Active").is_err());
    }
}
