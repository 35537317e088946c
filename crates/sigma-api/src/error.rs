//! `ApiError`: the one place where failures become the JSON error shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sigma_store::StoreError;
use sigma_types::{ErrorBody, ErrorDetail, FieldErrors};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// The cause of a 5xx, logged once and never sent.
    pub source: Option<sigma_store::BoxError>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: None, source: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn validation(fields: FieldErrors) -> Self {
        let message = match fields.0.len() {
            1 => format!("invalid field {}", fields.0.keys().next().map(String::as_str).unwrap_or("")),
            n => format!("{n} fields are invalid"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "validation_failed", message).with_details(json!({ "fields": fields.0 }))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(FieldErrors::single(field, message))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing or invalid credentials")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn precondition_failed() -> Self {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "the resource changed since it was read (If-Match does not match its ETag); read it again",
        )
    }

    pub fn internal(source: impl Into<sigma_store::BoxError>) -> Self {
        ApiError {
            source: Some(source.into()),
            ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error")
        }
    }

    /// The generic error for a status that carries no further facts, used
    /// for the framework's own empty-bodied answers.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed on this route"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "the request body must be JSON"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
            StatusCode::UNAUTHORIZED => ("unauthorized", "missing or invalid credentials"),
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is unavailable"),
            s if s.is_server_error() => ("internal", "internal server error"),
            _ => ("bad_request", "the request is not valid"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("resource"),
            StoreError::Conflict(c) => {
                let mut details = serde_json::Map::new();
                if let Some(field) = &c.field {
                    details.insert("fields".into(), json!({ field: c.message }));
                }
                if let Some((id, hostname)) = &c.other_vps {
                    details.insert("conflicting_vps".into(), json!({"id": id, "hostname": hostname}));
                }
                let error = ApiError::new(StatusCode::CONFLICT, "conflict", c.message);
                if details.is_empty() { error } else { error.with_details(Value::Object(details)) }
            }
            StoreError::VersionMismatch => ApiError::precondition_failed(),
            StoreError::Invalid(fields) => ApiError::validation(fields),
            StoreError::Unavailable(source) => ApiError {
                source: Some(source),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is unreachable")
            },
            StoreError::Other(source) => ApiError::internal(source),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.source {
                Some(source) => {
                    tracing::error!(status = %self.status.as_u16(), error = %source, cause = ?source, "request failed")
                }
                None => tracing::error!(status = %self.status.as_u16(), message = %self.message, "request failed"),
            }
        }
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message, details: self.details } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Gives every error answer that is not already JSON (the framework's own
/// 404/405/408/413, for instance) the documented error shape.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (parts, _) = response.into_parts();
        let mut fresh = ApiError::for_status(status).into_response();
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return fresh;
    }
    response
}
