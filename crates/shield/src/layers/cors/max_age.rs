//! `Access-Control-Max-Age`: how long a browser caches a preflight answer.
//! Browsers cap it (Chromium at 2 hours, Firefox at 24); longer is refused.

use http::HeaderValue;

use crate::config::Dur;

pub const MAX: u64 = 24 * 3600;

pub fn header(d: Dur) -> Result<HeaderValue, String> {
    let secs = d.get().as_secs();
    if secs > MAX {
        return Err(format!(
            "{d} is longer than browsers keep a preflight (at most 24h)"
        ));
    }
    Ok(HeaderValue::from(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded() {
        assert_eq!(header(Dur::from_secs(600)).unwrap(), "600");
        assert!(header(Dur::from_secs(MAX + 1)).is_err());
    }
}
