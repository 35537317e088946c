//! Passwords, hashed with Argon2id (the `argon2` crate's defaults: 19 MiB,
//! two passes, one lane, as OWASP recommends) on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
    })
    .await?
}

/// Whether `password` matches the PHC string `hash`. An unreadable hash
/// matches nothing.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = super::hash("correct horse battery".into()).await.unwrap();
        let b = super::hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(super::verify("correct horse battery".into(), a.clone()).await);
        assert!(!super::verify("correct horse battery!".into(), a).await);
        assert!(!super::verify("x".into(), "not a hash".into()).await);
    }
}
