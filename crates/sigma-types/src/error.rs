use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The one shape of every error the API returns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "the request has invalid fields",
    "details": {"fields": {"country": "must be an ISO 3166-1 alpha-2 code"}}}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code such as `not_found`, `validation_failed`, `conflict`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Extra facts; `fields` maps field names to what is wrong with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ErrorBody {
    /// The field errors, if the error carries any.
    pub fn fields(&self) -> BTreeMap<String, String> {
        self.error
            .details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default()
    }
}
