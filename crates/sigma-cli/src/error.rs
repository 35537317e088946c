//! Failures and the exit codes scripts rely on: 0 ok, 1 failure, 2 usage,
//! 3 not found, 4 authentication or permission.

use sigma_client::ClientError;
use sigma_types::ErrorBody;
use std::fmt::Write as _;

pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const NOT_FOUND: u8 = 3;
pub const AUTH: u8 = 4;

/// A failure to report on one line, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    /// Further lines (for example each failed row of an import), shown after the message.
    pub detail: Vec<String>,
    /// The HTTP status, when the server refused.
    pub status: Option<u16>,
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn failure(message: impl Into<String>) -> Self {
        CliError { code: FAILURE, message: message.into(), detail: Vec::new(), status: None }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError { code: USAGE, message: message.into(), detail: Vec::new(), status: None }
    }

    pub fn auth(message: impl Into<String>) -> Self {
        CliError { code: AUTH, message: message.into(), detail: Vec::new(), status: None }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        CliError { code: NOT_FOUND, message: message.into(), detail: Vec::new(), status: None }
    }
}

/// The exit code for an HTTP status.
pub fn code_for_status(status: u16) -> u8 {
    match status {
        404 => NOT_FOUND,
        401 | 403 => AUTH,
        _ => FAILURE,
    }
}

/// One line for an API error: its message, then the field errors.
pub fn api_error_line(body: &ErrorBody) -> String {
    let mut line = body.error.message.trim_end_matches('.').to_owned();
    let fields = body.fields();
    if !fields.is_empty() {
        let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = write!(line, " ({})", parts.join("; "));
    }
    line
}

/// The failed rows of an `import_failed` error, one line each.
fn import_rows(body: &ErrorBody) -> Vec<String> {
    let Some(rows) = body.error.details.as_ref().and_then(|d| d.get("rows")).and_then(|r| r.as_array()) else {
        return Vec::new();
    };
    rows.iter()
        .map(|r| {
            let mut line = format!("row {}", r["row"]);
            if let Some(n) = r["line"].as_u64() {
                let _ = write!(line, " (line {n})");
            }
            if let Some(key) = r["key"].as_str() {
                let _ = write!(line, " {key}");
            }
            let errors: Vec<String> = r["errors"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())).collect())
                .unwrap_or_default();
            format!("{line}: {}", errors.join("; "))
        })
        .collect()
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Api { status, body } => CliError {
                code: code_for_status(status.as_u16()),
                message: api_error_line(body),
                detail: import_rows(body),
                status: Some(status.as_u16()),
            },
            ClientError::Decode { status, message } => CliError {
                code: code_for_status(status.as_u16()),
                message: format!("unexpected answer from the server ({status}): {}", one_line(message, 200)),
                detail: Vec::new(),
                status: Some(status.as_u16()),
            },
            ClientError::Transport(t) => {
                let mut message = String::from("cannot reach the server");
                if let Some(url) = t.url() {
                    let _ = write!(message, " at {}", url.origin().ascii_serialization());
                }
                let mut source = std::error::Error::source(t);
                let mut last = None;
                while let Some(s) = source {
                    last = Some(s.to_string());
                    source = s.source();
                }
                if let Some(cause) = last {
                    let _ = write!(message, ": {cause}");
                }
                CliError::failure(message)
            }
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failure(e.to_string())
    }
}

/// The first `max` characters of `text` on one line.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}
