//! The web UI. Built with the `ui` feature, the server carries the files of
//! `web/dist` in its binary and serves them at `/`:
//!
//! - a path that names a file gets that file; any other path outside `/api`
//!   that does not look like a file (no extension, not under `/assets/`)
//!   gets `index.html`, so the UI's own routes work on reload and as bookmarks;
//! - files under `assets/` carry a content hash in their name and are cached
//!   for a year (`immutable`); everything else is revalidated (`no-cache`,
//!   with an `ETag`);
//! - a file with a `.br` or `.gz` sibling (written by the UI build) is sent
//!   compressed when the request's `Accept-Encoding` allows it.
//!
//! Built without the feature, `/` answers a short page saying how to build
//! the UI, and the rest of the server is the same.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The files of the built UI, by path relative to `web/dist`.
pub struct Ui {
    files: HashMap<String, Asset>,
}

struct Asset {
    content_type: &'static str,
    body: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
    etag: HeaderValue,
    immutable: bool,
}

impl Ui {
    /// The UI from its files: paths relative to the build folder (`index.html`,
    /// `assets/index-3fa9c1.js`, ...), with `.gz` and `.br` siblings taken as
    /// compressed forms of the file they are named after.
    pub fn new<P: Into<String>, B: Into<Bytes>>(files: impl IntoIterator<Item = (P, B)>) -> Ui {
        let mut plain = HashMap::new();
        let mut compressed = Vec::new();
        for (path, body) in files {
            let path: String = path.into();
            let body: Bytes = body.into();
            if path.ends_with(".gz") || path.ends_with(".br") {
                compressed.push((path, body));
            } else {
                plain.insert(path, body);
            }
        }
        let mut files: HashMap<String, Asset> = plain
            .into_iter()
            .map(|(path, body)| {
                let asset = Asset {
                    content_type: content_type(&path),
                    etag: etag(&body),
                    immutable: path.starts_with("assets/"),
                    body,
                    gzip: None,
                    brotli: None,
                };
                (path, asset)
            })
            .collect();
        for (path, body) in compressed {
            let (original, coding) = path.split_at(path.len() - 3);
            match files.get_mut(original) {
                Some(asset) if coding == ".gz" => asset.gzip = Some(body),
                Some(asset) => asset.brotli = Some(body),
                // A compressed file of its own (no original beside it) is served as it is.
                None => {
                    let asset = Asset {
                        content_type: content_type(&path),
                        etag: etag(&body),
                        immutable: path.starts_with("assets/"),
                        body,
                        gzip: None,
                        brotli: None,
                    };
                    files.insert(path, asset);
                }
            }
        }
        Ui { files }
    }

    /// The UI embedded in this binary, when it was built with the `ui` feature.
    pub fn embedded() -> Option<Arc<Ui>> {
        #[cfg(feature = "ui")]
        {
            static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));
            static EMBEDDED: std::sync::LazyLock<Arc<Ui>> = std::sync::LazyLock::new(|| {
                Arc::new(Ui::new(FILES.iter().map(|(path, body)| (*path, Bytes::from_static(body)))))
            });
            Some(EMBEDDED.clone())
        }
        #[cfg(not(feature = "ui"))]
        None
    }

    /// The answer to a `GET` of `path`.
    fn respond(&self, path: &str, headers: &HeaderMap) -> Response {
        let path = path.trim_start_matches('/');
        let path = if path.is_empty() { "index.html" } else { path };
        let asset = match self.files.get(path) {
            Some(asset) => asset,
            None if looks_like_a_file(path) => return ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
            None => match self.files.get("index.html") {
                Some(index) => index,
                None => return ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
            },
        };
        asset.respond(headers)
    }
}

impl Asset {
    fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(if self.immutable { IMMUTABLE } else { REVALIDATE }));
        headers.insert(ETAG, self.etag.clone());
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if self.gzip.is_some() || self.brotli.is_some() {
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        if request.get_all(IF_NONE_MATCH).iter().any(|v| v.to_str().is_ok_and(|v| matches_etag(v, &self.etag))) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        let accept =
            request.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
        let body = match choose_encoding(&accept, self.brotli.is_some(), self.gzip.is_some()) {
            Some(Encoding::Brotli) => {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
                self.brotli.clone()
            }
            Some(Encoding::Gzip) => {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                self.gzip.clone()
            }
            None => None,
        };
        (headers, Body::from(body.unwrap_or_else(|| self.body.clone()))).into_response()
    }
}

/// What the server answers for a path no route matched: the UI for `GET`
/// and `HEAD` outside `/api`, else the JSON 404 of the API.
pub async fn fallback(ui: Option<Arc<Ui>>, request: Request) -> Response {
    let path = request.uri().path();
    let for_ui =
        matches!(*request.method(), Method::GET | Method::HEAD) && path != "/api" && !path.starts_with("/api/");
    match ui {
        _ if !for_ui => ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
        Some(ui) => ui.respond(path, request.headers()),
        None if path == "/" || path == "/index.html" => how_to_build(),
        None => ApiError::for_status(StatusCode::NOT_FOUND).into_response(),
    }
}

/// The page `/` shows when the server was built without the UI.
fn how_to_build() -> Response {
    const PAGE: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sigma</title></head>
<body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">
<h1>Sigma</h1>
<p>This server was built without its web UI. The API works as usual under
<code>/api</code>, described at <a href=\"/swagger-ui\">/swagger-ui</a>.</p>
<p>To get the UI, build it (Node.js 20.19 or newer) and then the server with the <code>ui</code> feature:</p>
<pre>make run</pre>
<p>or, step by step:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd ..
cargo build --release -p sigma-api --features ui</pre>
</body></html>
";
    ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, REVALIDATE)], PAGE).into_response()
}

/// Paths the UI's router never uses: build output and files with an
/// extension. A miss on one of these is a 404, not the UI's index page.
fn looks_like_a_file(path: &str) -> bool {
    path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

fn content_type(path: &str) -> &'static str {
    let path = path.strip_suffix(".gz").or_else(|| path.strip_suffix(".br")).unwrap_or(path);
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A weak validator from the content (FNV-1a, 64 bits): the same for every
/// encoding of a file, which is what a weak `ETag` allows.
fn etag(body: &[u8]) -> HeaderValue {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    HeaderValue::from_str(&format!("W/\"{:x}-{hash:016x}\"", body.len())).expect("hex is a valid header value")
}

fn matches_etag(if_none_match: &str, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default().trim_start_matches("W/");
    if_none_match.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

#[derive(Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

/// The best encoding the client accepts among those the file has: highest
/// quality first, brotli on a tie (it is smaller).
fn choose_encoding(accept: &str, brotli: bool, gzip: bool) -> Option<Encoding> {
    let quality = |coding: &str| -> f32 {
        let mut wildcard = None;
        for item in accept.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            if name.eq_ignore_ascii_case(coding) {
                return q;
            }
            if name == "*" {
                wildcard = Some(q);
            }
        }
        wildcard.unwrap_or(0.0)
    };
    let br = if brotli { quality("br") } else { 0.0 };
    let gz = if gzip { quality("gzip") } else { 0.0 };
    if br > 0.0 && br >= gz {
        Some(Encoding::Brotli)
    } else if gz > 0.0 {
        Some(Encoding::Gzip)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_accept_encoding() {
        assert_eq!(choose_encoding("gzip, deflate, br, zstd", true, true), Some(Encoding::Brotli));
        assert_eq!(choose_encoding("gzip, deflate, br", false, true), Some(Encoding::Gzip));
        assert_eq!(choose_encoding("gzip;q=1.0, br;q=0.5", true, true), Some(Encoding::Gzip));
        assert_eq!(choose_encoding("br;q=0, gzip", true, true), Some(Encoding::Gzip));
        assert_eq!(choose_encoding("*", true, true), Some(Encoding::Brotli));
        assert_eq!(choose_encoding("*;q=0", true, true), None);
        assert_eq!(choose_encoding("identity", true, true), None);
        assert_eq!(choose_encoding("", true, true), None);
        assert_eq!(choose_encoding("br", false, true), None);
    }

    #[test]
    fn files_and_ui_routes() {
        assert!(looks_like_a_file("assets/index-abc.js"));
        assert!(looks_like_a_file("favicon.ico"));
        assert!(looks_like_a_file("assets/whatever"));
        assert!(!looks_like_a_file("vps/0193c7a2-0000-7000-8000-000000000000"));
        assert!(!looks_like_a_file("providers"));
    }

    #[test]
    fn etags_match_weakly() {
        let tag = etag(b"hello");
        assert!(tag.to_str().unwrap().starts_with("W/\"5-"));
        assert!(matches_etag(tag.to_str().unwrap(), &tag));
        assert!(matches_etag(tag.to_str().unwrap().trim_start_matches("W/"), &tag));
        assert!(matches_etag(&format!("\"x\", {}", tag.to_str().unwrap()), &tag));
        assert!(matches_etag("*", &tag));
        assert!(!matches_etag(etag(b"hellO").to_str().unwrap(), &tag));
    }
}
