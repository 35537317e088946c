//! Time-based one-time passwords (RFC 6238): HMAC-SHA1, 30-second steps,
//! six digits, as Google Authenticator, Authy and their kin expect; and the
//! one-time recovery codes that stand in for a lost device.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret of 160 bits, in base32 (RFC 4648, no padding).
pub fn new_secret() -> String {
    base32(&rand::random::<[u8; 20]>())
}

pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32, ignoring case, spaces and padding.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b' ' | b'=')) {
        let value = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The HOTP value (RFC 4226) of `counter`.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code =
        u32::from_be_bytes([digest[offset], digest[offset + 1], digest[offset + 2], digest[offset + 3]]) & 0x7fff_ffff;
    code % 10u32.pow(DIGITS)
}

/// The time step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code for a step, as the app shows it (zero-padded).
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step as u64))
}

/// The step, among the current one and its neighbours (clocks drift), at
/// which `code` is right; the caller makes sure a step is used once.
pub fn matching_step(secret_base32: &str, code: &str, unix_seconds: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secret = from_base32(secret_base32)?;
    let now = step_at(unix_seconds);
    [now, now - 1, now + 1]
        .into_iter()
        .find(|&step| constant_time_eq(code_at(&secret, step).as_bytes(), code.as_bytes()))
}

/// The link an authenticator app reads from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode(issuer)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Ten fresh recovery codes such as `k3f9-x2m7`.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let chars: Vec<char> = (0..8).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", chars[..4].iter().collect::<String>(), chars[4..].iter().collect::<String>())
        })
        .collect()
}

/// How a recovery code is kept: SHA-256 of its normal form, hex.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code.trim().to_lowercase().chars().filter(|c| *c != '-' && *c != ' ').collect();
    hex(&Sha256::digest(normal.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B, SHA-1 rows (eight digits there; the last six
    /// are what six-digit apps show).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at(secret, step_at(time)), eight[2..], "at {time}");
        }
    }

    #[test]
    fn base32_round_trip_and_known_value() {
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(from_base32("gezd gnbv gy3t qojq gezdgnbvgy3tqojq").unwrap(), b"12345678901234567890");
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(from_base32(&s).unwrap().len(), 20);
        assert!(from_base32("not base32!").is_none());
    }

    #[test]
    fn codes_match_within_one_step() {
        let secret = base32(b"12345678901234567890");
        let t = 1_234_567_890;
        let code = code_at(b"12345678901234567890", step_at(t));
        assert_eq!(matching_step(&secret, &code, t), Some(step_at(t)));
        assert_eq!(matching_step(&secret, &code, t + 30), Some(step_at(t)));
        assert_eq!(matching_step(&secret, &code, t + 90), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        assert_eq!(matching_step(&secret, "abcdef", t), None);
    }

    #[test]
    fn uri_and_recovery_codes() {
        let uri = otpauth_uri("Sigma", "ops@example.com", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Sigma:ops@example.com?secret=ABC&issuer=Sigma&algorithm=SHA1&digits=6&period=30"
        );
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 9 && c.as_bytes()[4] == b'-'));
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&codes[0].to_uppercase().replace('-', " ")));
    }
}
