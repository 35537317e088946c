//! Field validation. Each check turns raw input into its normal form or
//! says, in a short phrase, what is wrong with it.

use crate::codes;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Field name → what is wrong with it. Collected so that every mistake in a
/// form is reported at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records the error of `result` under `field`, giving back its value.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.add(field, e)).ok()
    }

    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }
}

/// RFC 1123 host name, stored lower-case.
pub fn hostname(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(
                "must be a host name: dot-separated labels of letters, digits and inner hyphens, each 1-63 characters"
                    .into(),
            );
        }
    }
    Ok(name)
}

/// ISO 3166-1 alpha-2 code, stored upper-case.
pub fn country(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if codes::is_country(&code) {
        Ok(code)
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code such as JP".into())
    }
}

/// ISO 4217 code, stored upper-case.
pub fn currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if codes::is_currency(&code) { Ok(code) } else { Err("must be an ISO 4217 currency code such as USD".into()) }
}

/// A tag: lower-case `[a-z0-9][a-z0-9-_.]*`, at most 64 characters.
pub fn tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim().to_ascii_lowercase();
    let mut bytes = tag.bytes();
    let ok = tag.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(tag) } else { Err(format!("tag {raw:?} must match [a-z0-9][a-z0-9-_.]* and be at most 64 characters")) }
}

/// Tags normalised and de-duplicated, first occurrence kept.
pub fn tags(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > 100 {
        return Err("at most 100 tags".into());
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        let t = tag(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// An IPv4 or IPv6 address; a host prefix (`/32`, `/128`) is accepted and
/// dropped. IPv4-mapped IPv6 addresses are stored as IPv4.
pub fn ip(raw: &str) -> Result<IpAddr, String> {
    let raw = raw.trim();
    let (addr, prefix) = match raw.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (raw, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| format!("{raw:?} is not an IPv4 or IPv6 address"))?;
    let ip = ip.to_canonical();
    let host_prefix = if ip.is_ipv4() { "32" } else { "128" };
    match prefix {
        None => Ok(ip),
        Some(p) if p == host_prefix => Ok(ip),
        Some(_) => Err(format!("{raw:?} must be a single address, not a network")),
    }
}

/// Optional free text: trimmed, empty becomes absent, bounded length, no
/// control characters but line breaks and tabs.
pub fn text(raw: Option<String>, max: usize) -> Result<Option<String>, String> {
    match raw.map(|s| s.trim().to_owned()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() > max => Err(format!("must be at most {max} characters")),
        Some(s) if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Err("must not contain control characters".into())
        }
        Some(s) => Ok(Some(s)),
    }
}

/// A JSON object for free-form data: no NUL characters anywhere (no
/// database keeps them faithfully) and at most 64 KiB once serialised.
pub fn json_object(value: serde_json::Value) -> Result<serde_json::Value, String> {
    fn has_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().any(has_nul),
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    if !value.is_object() {
        return Err("must be a JSON object".into());
    }
    if has_nul(&value) {
        return Err("must not contain NUL characters".into());
    }
    if value.to_string().len() > 65_536 {
        return Err("must be at most 64 KiB".into());
    }
    Ok(value)
}

/// A port number 1-65535.
pub fn port(value: i32) -> Result<u16, String> {
    u16::try_from(value).ok().filter(|p| *p > 0).ok_or_else(|| "must be a port number between 1 and 65535".into())
}

/// A non-negative integer such as a core count.
pub fn non_negative(value: Option<i64>) -> Result<Option<i64>, String> {
    match value {
        Some(v) if v < 0 => Err("must not be negative".into()),
        v => Ok(v),
    }
}

/// An `http(s)://` URL, for web sites and control panels.
pub fn url(raw: Option<String>) -> Result<Option<String>, String> {
    let value = text(raw, 2048)?;
    match &value {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(char::is_whitespace) => {
            Err("must be an http:// or https:// URL".into())
        }
        _ => Ok(value),
    }
}

/// An e-mail address in a loose but useful sense: one `@`, something on
/// both sides, a dot in the domain, no spaces; at most 254 characters.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok { Ok(e.to_owned()) } else { Err("must be an e-mail address such as ops@example.com".into()) }
}

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest accepted password (hashing cost grows with it).
pub const MAX_PASSWORD_LEN: usize = 256;

/// A password of acceptable length.
pub fn password(p: &str) -> Result<String, String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_LEN {
        Err(format!("must be at least {MIN_PASSWORD_LEN} characters"))
    } else if n > MAX_PASSWORD_LEN {
        Err(format!("must be at most {MAX_PASSWORD_LEN} characters"))
    } else {
        Ok(p.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(hostname(" Tokyo-1.Example.COM ").unwrap(), "tokyo-1.example.com");
        for bad in ["", "-a", "a-", "a..b", "a_b", "a b", &"x".repeat(64), &"a.".repeat(127)] {
            assert!(hostname(bad).is_err(), "{bad:?} accepted");
        }
        assert!(hostname(&["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".")).is_ok());
    }

    #[test]
    fn countries_and_currencies() {
        assert_eq!(country("jp").unwrap(), "JP");
        assert!(country("XX").is_err() && country("Japan").is_err());
        assert_eq!(currency("usd").unwrap(), "USD");
        assert!(currency("US").is_err());
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(tags(&["IPLC".into(), "iplc".into(), "cn-optimized".into()]).unwrap(), ["iplc", "cn-optimized"]);
        assert!(tag("-x").is_err() && tag("a b").is_err() && tag("").is_err());
        assert!(tag("a_b.c-d").is_ok());
    }

    #[test]
    fn addresses() {
        assert_eq!(ip("103.1.2.3").unwrap().to_string(), "103.1.2.3");
        assert_eq!(ip("103.1.2.3/32").unwrap().to_string(), "103.1.2.3");
        assert_eq!(ip("2001:DB8::0:1").unwrap().to_string(), "2001:db8::1");
        assert_eq!(ip("::ffff:1.2.3.4").unwrap().to_string(), "1.2.3.4");
        assert!(ip("103.1.2.0/24").is_err() && ip("1.2.3").is_err() && ip("example.com").is_err());
    }

    #[test]
    fn text_and_json_refuse_nul() {
        assert!(text(Some("a\u{0}b".into()), 10).is_err());
        assert_eq!(text(Some(" a\nb ".into()), 10).unwrap().as_deref(), Some("a\nb"));
        assert!(json_object(serde_json::json!({"k": "a\u{0}"})).is_err());
        assert!(json_object(serde_json::json!([1])).is_err());
        assert!(json_object(serde_json::json!({"k": [1, {"x": "y"}]})).is_ok());
    }
}
