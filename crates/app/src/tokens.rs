//! Bearer secrets (session cookies and API tokens): 32 random bytes shown once; only their
//! SHA-256 digest is stored.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use scoreline_store::model::TokenDigest;
use sha2::{Digest, Sha256};

/// A bearer secret as presented by a client. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub(crate) fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn from_presented(text: &str) -> Self {
        Self(text.trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn digest(&self) -> TokenDigest {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([REDACTED])")
    }
}

/// A newly issued API token: the only moment its secret is visible.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: SecretToken,
    pub user_email: String,
    /// The token as it will be listed.
    pub listed: scoreline_core::ApiToken,
}

pub(crate) const API_TOKEN_PREFIX: &str = "slk_";
pub(crate) const SESSION_PREFIX: &str = "";
pub(crate) const PASSWORD_RESET_PREFIX: &str = "slr_";
