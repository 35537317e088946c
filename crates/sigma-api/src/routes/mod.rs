//! One module per resource; each exposes `router()`.

pub mod ansible;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod ip_history;
pub mod prometheus;
pub mod providers;
pub mod service;
pub mod stats;
pub mod transfer;
pub mod users;
pub mod vps;

use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, etag};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use sigma_store::StoreError;

/// Reads, merges and saves a record, guarded by its version. With
/// `If-Match`, a changed record is 412; without, a lost race is retried on
/// the fresh record, so no concurrent change is overwritten unseen.
pub(crate) async fn update_with_retry<T, D, LoadFut, SaveFut>(
    if_match: &IfMatch,
    load: impl Fn() -> LoadFut,
    version: impl Fn(&T) -> i64,
    merge: impl Fn(&T) -> ApiResult<D>,
    save: impl Fn(D, i64) -> SaveFut,
) -> ApiResult<T>
where
    LoadFut: Future<Output = Result<T, StoreError>>,
    SaveFut: Future<Output = Result<T, StoreError>>,
{
    for _ in 0..5 {
        let current = load().await?;
        let v = version(&current);
        if !if_match.matches(&etag(v)) {
            return Err(ApiError::precondition_failed());
        }
        match save(merge(&current)?, v).await {
            Err(StoreError::VersionMismatch) if !if_match.is_present() => continue,
            other => return other.map_err(ApiError::from),
        }
    }
    Err(ApiError::new(StatusCode::CONFLICT, "conflict", "the record is being changed by others; try again"))
}

/// The `ETag` header of a stored version.
pub(crate) fn etag_header(version: i64) -> [(HeaderName, HeaderValue); 1] {
    [(header::ETAG, HeaderValue::from_str(&etag(version)).expect("digits and quotes are a valid header"))]
}
