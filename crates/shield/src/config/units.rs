//! Human-readable durations in the config (`"10s"`, `"500ms"`, `"1h 30m"`).

use std::{fmt, time::Duration};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A duration written as a string with units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn from_secs(s: u64) -> Dur {
        Dur(Duration::from_secs(s))
    }

    pub const fn from_millis(ms: u64) -> Dur {
        Dur(Duration::from_millis(ms))
    }

    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            return f.write_str("0s");
        }
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(text.trim())
            .map(Dur)
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid duration `{text}` ({e}); write e.g. \"10s\", \"500ms\", \"2m\""
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        #[derive(Deserialize, Serialize)]
        struct T {
            d: Dur,
        }
        let t: T = toml::from_str("d = \"1m 30s\"").unwrap();
        assert_eq!(t.d.get(), Duration::from_secs(90));
        assert_eq!(toml::to_string(&t).unwrap().trim(), "d = \"1m 30s\"");
        assert!(toml::from_str::<T>("d = \"soon\"").is_err());
        assert_eq!(Dur::from_millis(0).to_string(), "0s");
    }
}
