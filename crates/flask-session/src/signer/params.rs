//! The parameters besides the key that decide a signature: salt, key derivation, digest.

use std::fmt;
use std::str::FromStr;

/// How itsdangerous turns the secret key and the salt into the HMAC key
/// (`Signer.derive_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyDerivation {
    /// `HMAC(secret_key, salt)`: Flask's choice.
    Hmac,
    /// `hash(salt + secret_key)`.
    Concat,
    /// `hash(salt + b"signer" + secret_key)`: itsdangerous' own default.
    DjangoConcat,
    /// The secret key as is; the salt is not used.
    None,
}

impl KeyDerivation {
    /// All four, in itsdangerous' spelling order.
    pub const ALL: [KeyDerivation; 4] = [
        KeyDerivation::Hmac,
        KeyDerivation::DjangoConcat,
        KeyDerivation::Concat,
        KeyDerivation::None,
    ];

    /// itsdangerous' name: `hmac`, `concat`, `django-concat`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyDerivation::Hmac => "hmac",
            KeyDerivation::Concat => "concat",
            KeyDerivation::DjangoConcat => "django-concat",
            KeyDerivation::None => "none",
        }
    }
}

impl FromStr for KeyDerivation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyDerivation::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown key derivation `{s}` (expected hmac, concat, django-concat or none)"
                )
            })
    }
}

/// The hash behind the HMAC (`digest_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// Flask's and itsdangerous' default.
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    /// All supported digests.
    pub const ALL: [DigestAlgorithm; 5] = [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha224,
    ];

    /// hashlib's name: `sha1`, `sha224`, `sha256`, `sha384`, `sha512`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha224 => "sha224",
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Digest (and so signature) length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha224 => 28,
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }
}

impl FromStr for DigestAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized = s.to_ascii_lowercase().replace('-', "");
        DigestAlgorithm::ALL
            .into_iter()
            .find(|d| d.as_str() == normalized)
            .ok_or_else(|| {
                format!("unknown digest `{s}` (expected sha1, sha224, sha256, sha384 or sha512)")
            })
    }
}

/// Everything besides the secret key that decides a signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignerParams {
    /// `SecureCookieSessionInterface.salt` (Flask: `cookie-session`).
    pub salt: Vec<u8>,
    /// `SecureCookieSessionInterface.key_derivation` (Flask: `hmac`).
    pub key_derivation: KeyDerivation,
    /// `SecureCookieSessionInterface.digest_method` (Flask: SHA-1).
    pub digest: DigestAlgorithm,
}

impl SignerParams {
    /// Flask's session salt.
    pub const FLASK_SALT: &'static [u8] = b"cookie-session";

    /// Builds a parameter set.
    pub fn new(
        salt: impl Into<Vec<u8>>,
        key_derivation: KeyDerivation,
        digest: DigestAlgorithm,
    ) -> SignerParams {
        SignerParams {
            salt: salt.into(),
            key_derivation,
            digest,
        }
    }

    /// Flask's default session signing: salt `cookie-session`, `hmac`, SHA-1.
    pub fn flask_default() -> SignerParams {
        SignerParams::new(Self::FLASK_SALT, KeyDerivation::Hmac, DigestAlgorithm::Sha1)
    }

    /// The same parameters with the salt cleared when the derivation ignores it
    /// (`none`): two parameter sets sign alike exactly when their normalized forms
    /// are equal.
    pub fn normalized(&self) -> SignerParams {
        match self.key_derivation {
            KeyDerivation::None => SignerParams::new(Vec::new(), KeyDerivation::None, self.digest),
            _ => self.clone(),
        }
    }

    /// Whether these are Flask's defaults.
    pub fn is_flask_default(&self) -> bool {
        *self == SignerParams::flask_default()
    }
}

impl Default for SignerParams {
    fn default() -> Self {
        SignerParams::flask_default()
    }
}

impl fmt::Display for SignerParams {
    /// `hmac/sha1 salt="cookie-session"` (the salt is omitted for `none`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.key_derivation.as_str(),
            self.digest.as_str()
        )?;
        if self.key_derivation != KeyDerivation::None {
            write!(f, " salt=\"{}\"", self.salt.escape_ascii())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_display() {
        assert_eq!("django-concat".parse(), Ok(KeyDerivation::DjangoConcat));
        assert_eq!("SHA-256".parse(), Ok(DigestAlgorithm::Sha256));
        assert!("md5".parse::<DigestAlgorithm>().is_err());
        assert!("pbkdf2".parse::<KeyDerivation>().is_err());
        assert_eq!(
            SignerParams::flask_default().to_string(),
            "hmac/sha1 salt=\"cookie-session\""
        );
        assert_eq!(
            SignerParams::new("x", KeyDerivation::None, DigestAlgorithm::Sha512).to_string(),
            "none/sha512"
        );
    }
}
