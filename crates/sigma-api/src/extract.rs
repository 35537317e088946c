//! Extractors whose rejections use the API's error shape.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A JSON body: 415 without a JSON content type, 413 when too large, 400
/// naming the field when it does not parse.
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::for_status(status)
            } else {
                ApiError::bad_request(format!("cannot read the request body: {rejection}"))
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON, naming the field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::bad_request("the request body is empty; a JSON object was expected")),
        Some(b'{') => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the request body must be a JSON object",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the request body is not valid JSON: {inner}"),
            )
        } else if path == "." || path.is_empty() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the request body has the wrong shape: {inner}"),
            )
        } else {
            ApiError::field(&path, strip_position(&inner.to_string()))
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("the request body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters, with repeatable keys (`?tag=a&tag=b`).
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        serde_path_to_error::deserialize(de).map(AppQuery).map_err(|e| {
            // `status[0]` → `status`: a repeated parameter is one field.
            let path = e.path().to_string().split('[').next().unwrap_or_default().to_owned();
            let message = e.into_inner().to_string();
            if path.is_empty() || path == "." {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("invalid query string: {message}"))
            } else {
                ApiError::field(&path, message)
            }
        })
    }
}

/// A UUID in the path; anything else is 400.
pub struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Uuid::parse_str(&raw).map(Id).map_err(|_| ApiError::field("id", format!("{raw:?} is not a UUID")))
    }
}

/// The `If-Match` header, if any: a list of entity tags or `*`.
pub struct IfMatch(pub Option<Vec<String>>);

impl IfMatch {
    /// Whether `etag` satisfies the condition (always, without the header).
    pub fn matches(&self, etag: &str) -> bool {
        match &self.0 {
            None => true,
            Some(tags) => tags.iter().any(|t| t == "*" || t.trim_start_matches("W/") == etag),
        }
    }

    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut tags = Vec::new();
        let mut seen = false;
        for value in parts.headers.get_all(header::IF_MATCH) {
            seen = true;
            let value = value.to_str().map_err(|_| ApiError::bad_request("If-Match must be ASCII"))?;
            tags.extend(value.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
        }
        Ok(IfMatch(seen.then_some(tags)))
    }
}

/// The entity tag of a stored version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
