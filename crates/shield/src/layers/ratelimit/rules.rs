//! Which counters a request meets: the global limit (every request), then the first
//! rule whose routes match: your `rules` in order, then the built-in
//! authentication rule.
//!
//! A counter is one (rule, key, limit) triple; its storage id is a digest of that
//! triple and the key's value for the request (see `keys`), so renaming a rule or
//! changing a limit starts fresh counters while reordering rules does not.

use http::Method;

use super::{
    algorithm::Gcra,
    auth::{auth_matcher, auth_path},
    headers,
    keys::KeySpec,
    limits::{self, Limit},
};
use crate::{
    config::{ConfigError, RateLimitSettings, RuleSettings},
    route::RouteSet,
};

/// One counter: a key and a limit of a rule.
#[derive(Debug, Clone)]
pub struct Counter {
    /// The policy name in `RateLimit-Policy` / `RateLimit`.
    pub name: String,
    /// Identity bytes hashed with the key's value.
    pub identity: Vec<u8>,
    pub gcra: Gcra,
    pub limit: Limit,
    /// Index of the key within its rule.
    pub key: usize,
    /// The control a refusal by this counter enforces.
    pub control: &'static str,
    /// For the audit log: `rule "login", key json.email, 5 per minute`.
    pub describe: String,
}

#[derive(Debug, Clone)]
pub(super) enum Matcher {
    Always,
    Routes(RouteSet),
    Auth {
        methods: Vec<Method>,
        /// Each entry: one or more consecutive lower-case segments.
        words: Vec<Vec<String>>,
    },
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    matcher: Matcher,
    pub keys: Vec<KeySpec>,
    pub cost: u64,
    /// Indexes into [`Rules::counters`], key-major.
    pub counters: Vec<usize>,
    /// `RateLimit-Policy` for a request this rule decides (global counters included).
    pub policy: http::HeaderValue,
}

impl Rule {
    pub fn needs_body(&self) -> bool {
        self.keys.iter().any(KeySpec::needs_body)
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        match &self.matcher {
            Matcher::Always => true,
            Matcher::Routes(r) => r.matches(method, path),
            Matcher::Auth { methods, words } => methods.contains(method) && auth_path(path, words),
        }
    }
}

/// Every rule of `[shield.rate_limit]`, compiled.
#[derive(Debug, Clone)]
pub struct Rules {
    pub global: Rule,
    /// User rules, then the auth rule.
    pub rules: Vec<Rule>,
    pub counters: Vec<Counter>,
}

struct Builder {
    counters: Vec<Counter>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn rule(
        &mut self,
        (key_path, limit_field, keys_field): (&str, &str, &str),
        name: String,
        matcher: Matcher,
        limit_texts: &[String],
        key_texts: &[String],
        cost: u64,
        control: &'static str,
        global: &[usize],
    ) -> Result<Rule, ConfigError> {
        let limit_key = format!("{key_path}.{limit_field}");
        if limit_texts.is_empty() {
            return Err(ConfigError::new(limit_key, "at least one limit is needed"));
        }
        let limits = limits::parse_list(limit_texts)
            .map_err(|(i, e)| ConfigError::new(format!("{limit_key}[{i}]"), e))?;
        let keys_key = format!("{key_path}.{keys_field}");
        let key_texts: Vec<String> = if key_texts.is_empty() {
            vec!["ip".into()]
        } else {
            key_texts.to_vec()
        };
        let keys = key_texts
            .iter()
            .enumerate()
            .map(|(i, k)| {
                KeySpec::parse(k).map_err(|e| ConfigError::new(format!("{keys_key}[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.label == k.label) {
                return Err(ConfigError::new(
                    format!("{keys_key}[{i}]"),
                    format!("`{}` is listed twice", k.label),
                ));
            }
        }
        if let Some(l) = limits.iter().find(|l| l.quota < cost) {
            return Err(ConfigError::new(
                format!("{key_path}.cost"),
                format!("a cost of {cost} never fits in `{l}`"),
            ));
        }
        let control = if control == "RL004" && keys.iter().any(KeySpec::needs_body) {
            "RL003"
        } else {
            control
        };
        let mut counters = Vec::new();
        for (ki, k) in keys.iter().enumerate() {
            for l in &limits {
                let mut parts = vec![name.clone()];
                if keys.len() > 1 {
                    parts.push(k.label.clone());
                }
                if limits.len() > 1 {
                    parts.push(l.window_secs().to_string());
                }
                let identity = format!("{name}\0{}\0{}", k.label, l.text).into_bytes();
                self.counters.push(Counter {
                    name: parts.join("."),
                    identity,
                    gcra: l.gcra(),
                    limit: l.clone(),
                    key: ki,
                    control,
                    describe: format!("rule \"{name}\", key {}, {}", k.label, l.text),
                });
                counters.push(self.counters.len() - 1);
            }
        }
        let all: Vec<&Counter> = global
            .iter()
            .chain(counters.iter())
            .map(|&i| &self.counters[i])
            .collect();
        Ok(Rule {
            name,
            matcher,
            keys,
            cost,
            counters,
            policy: headers::policy(&all),
        })
    }
}

fn rule_name(key: &str, name: Option<&str>, default: String) -> Result<String, ConfigError> {
    let Some(n) = name else { return Ok(default) };
    let n = n.trim();
    if n.is_empty()
        || n == "global"
        || n == "auth"
        || !n
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ConfigError::new(
            key,
            format!("`{n}`: a rule name is letters, digits, - and _ (and not `global` or `auth`)"),
        ));
    }
    Ok(n.to_string())
}

impl Rules {
    pub fn new(s: &RateLimitSettings) -> Result<Rules, ConfigError> {
        let mut b = Builder {
            counters: Vec::new(),
        };
        const KEY: &str = "shield.rate_limit";
        let global = if s.global_limit.is_empty() {
            Rule {
                name: "global".into(),
                matcher: Matcher::Always,
                keys: Vec::new(),
                cost: 1,
                counters: Vec::new(),
                policy: headers::policy(&[]),
            }
        } else {
            b.rule(
                (KEY, "global_limit", "global_keys"),
                "global".into(),
                Matcher::Always,
                &s.global_limit,
                &s.global_keys,
                1,
                "RL001",
                &[],
            )?
        };
        let mut rules = Vec::new();
        for (i, r) in s.rules.iter().enumerate() {
            rules.push(user_rule(&mut b, i, r, &global.counters)?);
        }
        if s.auth.enabled {
            let m = auth_matcher(&s.auth)?;
            rules.push(b.rule(
                ("shield.rate_limit.auth", "limit", "keys"),
                "auth".into(),
                m,
                &s.auth.limit,
                &s.auth.keys,
                1,
                "RL003",
                &global.counters,
            )?);
        }
        Ok(Rules {
            global,
            rules,
            counters: b.counters,
        })
    }

    /// The rule deciding this request besides the global limit.
    pub fn find(&self, method: &Method, path: &str) -> Option<(usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(method, path))
    }
}

fn user_rule(
    b: &mut Builder,
    i: usize,
    r: &RuleSettings,
    global: &[usize],
) -> Result<Rule, ConfigError> {
    let key = format!("shield.rate_limit.rules[{i}]");
    let name = rule_name(
        &format!("{key}.name"),
        r.name.as_deref(),
        format!("rule{i}"),
    )?;
    if r.routes.is_empty() {
        return Err(ConfigError::new(
            format!("{key}.routes"),
            "a rule needs at least one route (\"POST /api/orders\", \"/api/{*rest}\")",
        ));
    }
    let routes = RouteSet::new(&r.routes)
        .map_err(|(j, e)| ConfigError::new(format!("{key}.routes[{j}]"), e))?;
    let cost = u64::from(r.cost.unwrap_or(1));
    if cost == 0 {
        return Err(ConfigError::new(
            format!("{key}.cost"),
            "cost must be at least 1",
        ));
    }
    b.rule(
        (&key, "limit", "keys"),
        name,
        Matcher::Routes(routes),
        &r.limit,
        &r.keys,
        cost,
        "RL004",
        global,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StringList;

    #[test]
    fn auth_paths_are_recognised() {
        let r = Rules::new(&RateLimitSettings::default()).unwrap();
        for (m, p, want) in [
            (Method::POST, "/api/auth/login", true),
            (Method::POST, "/login", true),
            (Method::POST, "/api/v1/Login.json", true),
            (Method::POST, "/oauth/token", true),
            (Method::POST, "/users/password/reset", true),
            (Method::POST, "/api/auth/register", true),
            (Method::GET, "/login", false),
            (Method::POST, "/api/orders", false),
            (Method::POST, "/loginhelp", false),
            (Method::POST, "/password", false),
        ] {
            assert_eq!(
                r.find(&m, p).map(|(_, r)| r.name.as_str()) == Some("auth"),
                want,
                "{m} {p}"
            );
        }
    }

    #[test]
    fn user_rules_come_first_and_name_their_counters() {
        let s = RateLimitSettings {
            rules: vec![RuleSettings {
                name: Some("login".into()),
                routes: StringList::of(&["POST /api/auth/login"]),
                limit: StringList::of(&["5 per minute", "20 per hour"]),
                keys: StringList::of(&["ip", "json:email"]),
                cost: None,
            }],
            ..RateLimitSettings::default()
        };
        let r = Rules::new(&s).unwrap();
        let (_, rule) = r.find(&Method::POST, "/api/auth/login").unwrap();
        assert_eq!(rule.name, "login");
        let names: Vec<&str> = rule
            .counters
            .iter()
            .map(|&i| r.counters[i].name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "login.ip.60",
                "login.ip.3600",
                "login.json.email.60",
                "login.json.email.3600"
            ]
        );
        assert_eq!(r.counters[rule.counters[2]].control, "RL003");
        let p = rule.policy.to_str().unwrap();
        assert!(
            p.starts_with("\"global\";q=1200;w=60, \"login.ip.60\";q=5;w=60"),
            "{p}"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let bad = |r: RuleSettings| {
            Rules::new(&RateLimitSettings {
                rules: vec![r],
                ..RateLimitSettings::default()
            })
            .unwrap_err()
            .key
        };
        let base = RuleSettings {
            routes: StringList::of(&["/x"]),
            limit: StringList::of(&["1/minute"]),
            ..RuleSettings::default()
        };
        assert_eq!(
            bad(RuleSettings {
                routes: StringList::default(),
                ..base.clone()
            }),
            "shield.rate_limit.rules[0].routes"
        );
        assert_eq!(
            bad(RuleSettings {
                limit: StringList::of(&["1/minute", "soon"]),
                ..base.clone()
            }),
            "shield.rate_limit.rules[0].limit[1]"
        );
        assert_eq!(
            bad(RuleSettings {
                keys: StringList::of(&["ip", "mac"]),
                ..base.clone()
            }),
            "shield.rate_limit.rules[0].keys[1]"
        );
        assert_eq!(
            bad(RuleSettings {
                cost: Some(2),
                ..base.clone()
            }),
            "shield.rate_limit.rules[0].cost"
        );
        assert_eq!(
            bad(RuleSettings {
                name: Some("a b".into()),
                ..base.clone()
            }),
            "shield.rate_limit.rules[0].name"
        );
        assert_eq!(
            bad(RuleSettings {
                routes: StringList::of(&["nope"]),
                ..base
            }),
            "shield.rate_limit.rules[0].routes[0]"
        );
        let e = Rules::new(&RateLimitSettings {
            global_limit: StringList::of(&["lots"]),
            ..RateLimitSettings::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "shield.rate_limit.global_limit[0]");
    }
}
