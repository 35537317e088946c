use crate::{FieldErrors, Purpose, VpsStatus, validate};
use chrono::{Days, NaiveDate};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Items matching the query across all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Which page of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u32 = 500;
    pub const DEFAULT_PER_PAGE: u32 = 50;

    pub(crate) fn parse(page: Option<u32>, per_page: Option<u32>, e: &mut FieldErrors) -> PageRequest {
        let page = page.unwrap_or(1);
        if page == 0 {
            e.add("page", "must be at least 1");
        }
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            e.add("per_page", format!("must be between 1 and {}", Self::MAX_PER_PAGE));
        }
        PageRequest { page, per_page }
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// Fields a VPS list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VpsSort {
    Hostname,
    Country,
    Status,
    ExpireDate,
    #[default]
    CreatedAt,
    MonthlyCost,
}

/// Query of `GET /api/providers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProviderListQuery {
    /// Case-insensitive part of the name.
    pub q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

impl ProviderListQuery {
    pub fn validate(self) -> Result<(Option<String>, PageRequest), FieldErrors> {
        let mut e = FieldErrors::default();
        let page = PageRequest::parse(self.page, self.per_page, &mut e);
        e.into_result()?;
        Ok((self.q.filter(|q| !q.trim().is_empty()), page))
    }
}

/// Filters of the VPS list, also accepted by targets, inventory and export.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VpsListQuery {
    /// Repeatable; a VPS matches any of the given statuses. Default: all.
    #[serde(default)]
    #[param(explode = true)]
    pub status: Vec<VpsStatus>,
    /// ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
    pub provider_id: Option<Uuid>,
    pub purpose: Option<Purpose>,
    /// Repeatable; a VPS must carry every given tag.
    #[serde(default)]
    #[param(explode = true)]
    pub tag: Vec<String>,
    /// Case-insensitive search in host name, alias, IP addresses and notes.
    pub q: Option<String>,
    /// An address, or a network in CIDR notation such as `103.1.0.0/16`.
    pub ip: Option<String>,
    /// Live VPS whose `expire_date` is at most this many days away, overdue ones included.
    pub expiring_within_days: Option<u32>,
    pub monitoring_enabled: Option<bool>,
    /// `true` lists the trash instead of the live and retired VPS.
    pub deleted: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
    /// Default `created_at`.
    pub sort: Option<VpsSort>,
    /// Default `asc`.
    pub order: Option<SortOrder>,
}

/// A checked VPS list filter, in the form the store understands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VpsFilter {
    pub statuses: Vec<VpsStatus>,
    pub country: Option<String>,
    pub provider_id: Option<Uuid>,
    pub purpose: Option<Purpose>,
    pub tags: Vec<String>,
    /// Lower-cased search text.
    pub q: Option<String>,
    pub ip: Option<IpNet>,
    /// Live VPS with an `expire_date` on or before this day.
    pub expires_by: Option<NaiveDate>,
    pub monitoring_enabled: Option<bool>,
    /// List the trash instead.
    pub deleted: bool,
}

impl VpsFilter {
    /// Whether it selects by status alone (or not at all): the whole fleet,
    /// or some statuses of it, outside the trash.
    pub fn by_status_only(&self) -> bool {
        *self == VpsFilter { statuses: self.statuses.clone(), ..Default::default() }
    }

    /// Whether its matches are found through other tables or indexes than
    /// the VPS columns: by tags, text or network.
    pub fn matches_elsewhere(&self) -> bool {
        !self.tags.is_empty() || self.q.is_some() || self.ip.is_some()
    }
}

impl VpsListQuery {
    /// Checks the query; `today` anchors `expiring_within_days`.
    pub fn validate(self, today: NaiveDate) -> Result<(VpsFilter, PageRequest, VpsSort, SortOrder), FieldErrors> {
        let mut e = FieldErrors::default();
        let page = PageRequest::parse(self.page, self.per_page, &mut e);
        let filter = self.filter(today, &mut e);
        e.into_result()?;
        Ok((filter, page, self.sort.unwrap_or_default(), self.order.unwrap_or_default()))
    }

    /// Checks the filters only (pagination and sort are ignored).
    pub fn validate_filter(&self, today: NaiveDate) -> Result<VpsFilter, FieldErrors> {
        let mut e = FieldErrors::default();
        let filter = self.filter(today, &mut e);
        e.into_result().map(|()| filter)
    }

    fn filter(&self, today: NaiveDate, e: &mut FieldErrors) -> VpsFilter {
        let country = self.country.as_deref().and_then(|c| e.check("country", validate::country(c)));
        let mut tags = Vec::new();
        for t in &self.tag {
            if let Some(t) = e.check("tag", validate::tag(t))
                && !tags.contains(&t)
            {
                tags.push(t);
            }
        }
        let ip = self.ip.as_deref().and_then(|raw| e.check("ip", parse_net(raw)));
        let expires_by = self.expiring_within_days.and_then(|d| {
            e.check(
                "expiring_within_days",
                today.checked_add_days(Days::new(u64::from(d))).ok_or_else(|| "is too large".to_owned()),
            )
        });
        let mut statuses = self.status.clone();
        statuses.sort();
        statuses.dedup();
        VpsFilter {
            statuses,
            country,
            provider_id: self.provider_id,
            purpose: self.purpose,
            tags,
            q: self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase),
            ip,
            expires_by,
            monitoring_enabled: self.monitoring_enabled,
            deleted: self.deleted.unwrap_or(false),
        }
    }
}

fn parse_net(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    if raw.contains('/') {
        raw.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| format!("{raw:?} is not an address or a CIDR network"))
    } else {
        validate::ip(raw).map(IpNet::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let q = VpsListQuery {
            country: Some("jp".into()),
            tag: vec!["IPLC".into(), "iplc".into()],
            ip: Some("103.1.2.3/16".into()),
            expiring_within_days: Some(7),
            q: Some("  Tokyo ".into()),
            ..Default::default()
        };
        let (f, page, sort, order) = q.validate(today).unwrap();
        assert_eq!(f.country.as_deref(), Some("JP"));
        assert_eq!(f.tags, ["iplc"]);
        assert_eq!(f.ip.unwrap().to_string(), "103.1.0.0/16");
        assert_eq!(f.expires_by, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(f.q.as_deref(), Some("tokyo"));
        assert_eq!((page.page, page.per_page, sort, order), (1, 50, VpsSort::CreatedAt, SortOrder::Asc));
        let bad = VpsListQuery {
            ip: Some("x".into()),
            per_page: Some(501),
            country: Some("XX".into()),
            ..Default::default()
        };
        let e = bad.validate(today).unwrap_err().0;
        assert!(e.contains_key("ip") && e.contains_key("per_page") && e.contains_key("country"));
    }
}
