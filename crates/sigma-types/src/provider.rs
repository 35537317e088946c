use crate::{FieldErrors, Patch, validate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A company VPS are rented from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Provider {
    pub id: Uuid,
    pub name: String,
    /// ISO 3166-1 alpha-2 code of the provider's home country.
    pub country: Option<String>,
    pub website: Option<String>,
    pub panel_url: Option<String>,
    pub api_supported: bool,
    pub notes: Option<String>,
    /// 1 (poor) to 5 (excellent).
    pub rating: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Live VPS (neither retired nor in the trash) at this provider.
    pub vps_count: i64,
    /// VPS with status `active` at this provider.
    pub active_vps_count: i64,
    /// Optimistic-concurrency version, sent as the `ETag`.
    #[serde(skip)]
    pub version: i64,
}

/// Body of `POST /api/providers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ProviderCreate {
    #[schema(example = "DMIT")]
    pub name: Option<String>,
    pub country: Option<String>,
    pub website: Option<String>,
    pub panel_url: Option<String>,
    pub api_supported: Option<bool>,
    pub notes: Option<String>,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i32>,
}

/// Body of `PATCH|PUT /api/providers/{id}`: only the fields present change;
/// `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ProviderPatch {
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub name: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub country: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub website: Patch<String>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub panel_url: Patch<String>,
    #[schema(value_type = Option<bool>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub api_supported: Patch<bool>,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub notes: Patch<String>,
    #[schema(value_type = Option<i32>)]
    #[serde(skip_serializing_if = "Patch::is_missing")]
    pub rating: Patch<i32>,
}

/// A provider that passed validation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDraft {
    pub name: String,
    pub country: Option<String>,
    pub website: Option<String>,
    pub panel_url: Option<String>,
    pub api_supported: bool,
    pub notes: Option<String>,
    pub rating: Option<i32>,
}

impl ProviderCreate {
    pub fn validate(self) -> Result<ProviderDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = match validate::text(self.name, 200) {
            Ok(Some(n)) => Some(n),
            Ok(None) => {
                e.add("name", "is required");
                None
            }
            Err(m) => {
                e.add("name", m);
                None
            }
        };
        let country = e.check("country", self.country.as_deref().map(validate::country).transpose());
        let website = e.check("website", validate::url(self.website));
        let panel_url = e.check("panel_url", validate::url(self.panel_url));
        let notes = e.check("notes", validate::text(self.notes, 10_000));
        if let Some(r) = self.rating
            && !(1..=5).contains(&r)
        {
            e.add("rating", "must be between 1 and 5");
        }
        e.into_result()?;
        Ok(ProviderDraft {
            name: name.unwrap_or_default(),
            country: country.flatten(),
            website: website.flatten(),
            panel_url: panel_url.flatten(),
            api_supported: self.api_supported.unwrap_or(false),
            notes: notes.flatten(),
            rating: self.rating,
        })
    }
}

impl From<&Provider> for ProviderCreate {
    fn from(p: &Provider) -> Self {
        ProviderCreate {
            name: Some(p.name.clone()),
            country: p.country.clone(),
            website: p.website.clone(),
            panel_url: p.panel_url.clone(),
            api_supported: Some(p.api_supported),
            notes: p.notes.clone(),
            rating: p.rating,
        }
    }
}

impl ProviderPatch {
    /// The provider as it will be once this patch is applied to `base`.
    pub fn apply(self, mut base: ProviderCreate) -> ProviderCreate {
        crate::patch::apply!(self, base; name, country, website, panel_url, api_supported, notes, rating);
        base
    }
}
