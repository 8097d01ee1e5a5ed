//! Short renderings of values for messages (`os.getenv("SECRET_KEY", "dev")`).

use super::value::{Kind, Root, Value};

impl Value {
    /// A short rendering for messages (`os.getenv("SECRET_KEY", "dev")`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        if out.chars().count() > 80 {
            let cut: String = out.chars().take(77).collect();
            return format!("{cut}...");
        }
        out
    }

    fn render_into(&self, out: &mut String, depth: usize) {
        if depth > 6 || out.len() > 120 {
            out.push('…');
            return;
        }
        let list = |out: &mut String, items: &[Value], open: &str, close: &str| {
            out.push_str(open);
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                v.render_into(out, depth + 1);
            }
            out.push_str(close);
        };
        match &self.kind {
            Kind::Str(s) => out.push_str(&format!("{s:?}")),
            Kind::LongStr(n) => out.push_str(&format!("<{n}-byte string>")),
            Kind::Bytes(n) => out.push_str(&format!("<{n} bytes>")),
            Kind::Int(i) => out.push_str(&i.to_string()),
            Kind::Float(f) => out.push_str(&f.to_string()),
            Kind::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Kind::None => out.push_str("None"),
            Kind::List(v) => list(out, v, "[", "]"),
            Kind::Tuple(v) => list(out, v, "(", ")"),
            Kind::Set(v) => list(out, v, "{", "}"),
            Kind::Dict(d) => {
                out.push('{');
                for (i, (k, v)) in d.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    match k {
                        Some(k) => k.render_into(out, depth + 1),
                        None => out.push_str("**"),
                    }
                    out.push_str(": ");
                    v.render_into(out, depth + 1);
                }
                out.push('}');
            }
            Kind::Ref(r) => {
                match &r.root {
                    Root::Global(q) => out.push_str(q),
                    Root::Obj { ctor, .. } => {
                        out.push_str(&format!("<{}()>", ctor.rsplit('.').next().unwrap_or(ctor)))
                    }
                    Root::Param { name, .. } | Root::Local(name) => out.push_str(name),
                }
                for a in &r.attrs {
                    out.push('.');
                    out.push_str(a);
                }
            }
            Kind::Call(c) => {
                c.func.render_into(out, depth + 1);
                let mut items: Vec<String> = c.args.iter().map(|a| a.render()).collect();
                items.extend(c.kwargs.iter().map(|(k, v)| match k {
                    Some(k) => format!("{k}={}", v.render()),
                    None => format!("**{}", v.render()),
                }));
                out.push('(');
                out.push_str(&items.join(", "));
                out.push(')');
            }
            Kind::FString(_) => out.push_str("f\"…\""),
            Kind::BinOp(_, a, b) => {
                a.render_into(out, depth + 1);
                out.push_str(" ∘ ");
                b.render_into(out, depth + 1);
            }
            Kind::Or(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" or ");
                    }
                    x.render_into(out, depth + 1);
                }
            }
            Kind::And(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" and ");
                    }
                    x.render_into(out, depth + 1);
                }
            }
            Kind::Not(a) => {
                out.push_str("not ");
                a.render_into(out, depth + 1);
            }
            Kind::Attr(a, name) => {
                a.render_into(out, depth + 1);
                out.push('.');
                out.push_str(name);
            }
            Kind::Subscript(a, b) => {
                a.render_into(out, depth + 1);
                out.push('[');
                b.render_into(out, depth + 1);
                out.push(']');
            }
            Kind::Compare(..) | Kind::Cond(_) | Kind::Unknown => out.push('…'),
        }
    }
}
