use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// Totals for the dashboard. Counts are of live VPS (neither retired nor in
/// the trash) unless named otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// Live VPS.
    pub total_vps: i64,
    /// Retired VPS (not in the trash).
    pub retired_vps: i64,
    pub total_providers: i64,
    /// Every status, retired included, with zero counts present.
    pub by_status: BTreeMap<String, i64>,
    pub by_country: BTreeMap<String, i64>,
    pub by_purpose: BTreeMap<String, i64>,
    /// Providers with at least one live VPS, most VPS first.
    pub by_provider: Vec<CountBy>,
    /// Live VPS expiring within 7 days, overdue ones included.
    pub expiring_7d: i64,
    /// Live VPS expiring within 30 days, overdue ones included.
    pub expiring_30d: i64,
    /// Sum of `monthly_cost` of live VPS, per currency.
    pub monthly_cost: Vec<CurrencyAmount>,
    pub agents: AgentCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CountBy {
    pub provider_id: Uuid,
    pub provider_name: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CurrencyAmount {
    pub currency: String,
    #[schema(value_type = String, example = "123.45")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentCounts {
    pub online: i64,
    pub offline: i64,
    pub pending: i64,
}
