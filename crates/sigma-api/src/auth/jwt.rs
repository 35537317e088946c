//! Login tokens: JSON Web Tokens signed with HMAC-SHA256 (RFC 7519,
//! `alg: HS256`). Only tokens with exactly the header Sigma writes are
//! accepted, so no other algorithm (nor `none`) can be slipped in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// `{"alg":"HS256","typ":"JWT"}`, encoded.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's token generation when the token was issued.
    pub generation: i64,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
}

/// Signs and checks tokens with one secret.
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Signer { key: secret.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let payload = B64.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let signing_input = format!("{HEADER}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = B64.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The claims of a token signed with this secret and not expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Option<Claims> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if header != HEADER {
            return None;
        }
        let signature = B64.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (claims.exp > now).then_some(claims)
    }
}

/// Whether a presented credential has the shape of a token (three
/// base64url parts) rather than of an API key.
pub fn looks_like_token(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_what_it_says() {
        assert_eq!(B64.decode(HEADER).unwrap(), br#"{"alg":"HS256","typ":"JWT"}"#);
    }

    #[test]
    fn sign_verify_expire_and_tamper() {
        let signer = Signer::new(b"0123456789abcdef0123456789abcdef");
        let claims = Claims { sub: Uuid::now_v7(), generation: 3, iat: 1000, exp: 2000 };
        let token = signer.sign(&claims);
        assert!(looks_like_token(&token));
        assert_eq!(signer.verify(&token, 1500), Some(claims.clone()));
        assert_eq!(signer.verify(&token, 2000), None, "expired");
        assert_eq!(Signer::new(b"another secret of enough length!").verify(&token, 1500), None);

        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = B64.encode(serde_json::to_vec(&Claims { generation: 4, ..claims }).unwrap());
        assert_eq!(signer.verify(&format!("{head}.{forged}.{sig}"), 1500), None, "payload changed");
        let none = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(signer.verify(&format!("{none}.{}.", rest.split_once('.').unwrap().0), 1500), None);
        assert_eq!(signer.verify("garbage", 1500), None);
    }
}
