//! Comparing a declaration with what the server reports, without I/O: durations in either
//! spelling, retention policies, and continuous queries as the server rewrites them.

use influx_core::admin::{NewRetentionPolicy, RetentionPolicy};

use super::duration::duration_nanos;
use super::report::PolicyDifference;

/// Whether two durations (either spelling) are the same length; unreadable ones never are.
fn same_duration(a: &str, b: &str) -> bool {
    matches!((duration_nanos(a), duration_nanos(b)), (Some(a), Some(b)) if a == b)
}

/// Where `existing` differs from `declared`: its duration, its shard duration (only when one
/// is declared), its replication, and whether it is the default (only when declared so).
pub(crate) fn policy_differences(
    declared: &NewRetentionPolicy,
    existing: &RetentionPolicy,
) -> Vec<PolicyDifference> {
    differences(
        declared,
        &Existing {
            duration: &existing.duration,
            shard_duration: &existing.shard_group_duration,
            replication: existing.replication,
            default: existing.default,
        },
    )
}

/// A retention policy as the server reports it.
struct Existing<'a> {
    duration: &'a str,
    shard_duration: &'a str,
    replication: u64,
    default: bool,
}

fn differences(declared: &NewRetentionPolicy, existing: &Existing<'_>) -> Vec<PolicyDifference> {
    let mut out = Vec::new();
    if !same_duration(declared.duration_ref(), existing.duration) {
        out.push(PolicyDifference::Retention {
            declared: declared.duration_ref().to_owned(),
            on_server: existing.duration.to_owned(),
        });
    }
    // influxd keeps a shard duration of at least an hour (and picks one for 0).
    let shard = declared
        .shard_duration_ref()
        .filter(|d| duration_nanos(d) != Some(0));
    if let Some(shard) = shard {
        let hour = 3_600_000_000_000;
        let kept = duration_nanos(shard).map(|n| n.max(hour));
        if kept.is_none() || kept != duration_nanos(existing.shard_duration) {
            out.push(PolicyDifference::ShardDuration {
                declared: shard.to_owned(),
                on_server: existing.shard_duration.to_owned(),
            });
        }
    }
    if u64::from(declared.replication_ref()) != existing.replication {
        out.push(PolicyDifference::Replication {
            declared: declared.replication_ref(),
            on_server: existing.replication,
        });
    }
    if declared.is_default() && !existing.default {
        out.push(PolicyDifference::Default);
    }
    out
}

/// A part of a name: `db`, `rp` and `m` in `db.rp.m`, a regex in `FROM db.rp./cpu.*/`, or the
/// `:MEASUREMENT` of `INTO rp.:MEASUREMENT`.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// A name as written (unquoted), or a keyword or function name, lowercased.
    Name(String),
    /// A regex, as written between its slashes.
    Regex(String),
    /// `:MEASUREMENT`, lowercased.
    Backref(String),
}

/// A piece of InfluxQL, as far as comparing two spellings of one statement needs.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name, keyword or identifier, possibly qualified (`db.rp.m`).
    Path(Vec<Part>),
    /// A string literal.
    Str(String),
    /// A duration literal, in nanoseconds.
    Duration(u128),
    /// A number.
    Number(String),
    /// Anything else: punctuation and operators.
    Punct(String),
}

/// InfluxQL's keywords, which the server writes in capitals (names are case-sensitive, and
/// one spelled like a keyword must be quoted).
const KEYWORDS: &[&str] = &[
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "begin",
    "by",
    "create",
    "continuous",
    "database",
    "databases",
    "default",
    "delete",
    "desc",
    "destinations",
    "diagnostics",
    "distinct",
    "drop",
    "duration",
    "end",
    "every",
    "explain",
    "false",
    "field",
    "for",
    "from",
    "grant",
    "grants",
    "group",
    "groups",
    "in",
    "inf",
    "insert",
    "into",
    "key",
    "keys",
    "kill",
    "limit",
    "measurement",
    "measurements",
    "name",
    "offset",
    "on",
    "or",
    "order",
    "password",
    "policies",
    "policy",
    "privileges",
    "queries",
    "query",
    "read",
    "replication",
    "resample",
    "retention",
    "revoke",
    "select",
    "series",
    "set",
    "shard",
    "shards",
    "slimit",
    "soffset",
    "stats",
    "subscription",
    "subscriptions",
    "tag",
    "to",
    "true",
    "user",
    "users",
    "values",
    "where",
    "with",
    "write",
];

/// The tokens of `text`, or `None` if it does not read as InfluxQL.
fn tokens(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    // A name part just read and a `.` after it: the next part belongs to the same name.
    let mut continues = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continues = false;
            continue;
        }
        let part = if c == '"' {
            let (part, end) = quoted(&chars, i, '"')?;
            i = end;
            Some(Part::Name(part))
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_lowercase();
            // A keyword, or a function's name (case does not matter to either), unless it is
            // part of a qualified name.
            let alone = !continues && chars.get(i) != Some(&'.');
            let call = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
            let keyword = KEYWORDS.contains(&lower.as_str());
            Some(Part::Name(if alone && (keyword || call) {
                lower
            } else {
                word
            }))
        } else if c == ':' && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) {
            let start = i + 1;
            i = start;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            Some(Part::Backref(word.to_lowercase()))
        } else if c == '/' && (continues || regex_may_start(out.last())) {
            let (regex, end) = quoted(&chars, i, '/')?;
            i = end;
            Some(Part::Regex(regex))
        } else {
            None
        };
        if let Some(part) = part {
            match out.last_mut() {
                Some(Token::Path(path)) if continues => path.push(part),
                _ => out.push(Token::Path(vec![part])),
            }
            continues = false;
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                continues = true;
            }
            continue;
        }
        continues = false;
        if c == '\'' {
            let (text, end) = quoted(&chars, i, '\'')?;
            out.push(Token::Str(text));
            i = end;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == 'µ')
            {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            match literal.ends_with(|c: char| c.is_ascii_alphabetic() || c == 'µ') {
                true => out.push(Token::Duration(duration_nanos(&literal)?)),
                false => out.push(Token::Number(normal_number(&literal))),
            }
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["=~", "!~", "<=", ">=", "<>", "!="]
                .into_iter()
                .find(|op| *op == two)
                .map_or_else(|| c.to_string(), str::to_owned);
            i += op.chars().count();
            out.push(Token::Punct(op));
        }
    }
    Some(out)
}

/// Whether `token` is the keyword `word` (lowercase).
fn is_keyword(token: &Token, word: &str) -> bool {
    matches!(token, Token::Path(path) if path.len() == 1 && path[0] == Part::Name(word.to_owned()))
}

/// Whether a `/` after `previous` opens a regex rather than dividing.
fn regex_may_start(previous: Option<&Token>) -> bool {
    match previous {
        None => true,
        Some(token @ Token::Path(_)) => is_keyword(token, "from"),
        Some(Token::Punct(p)) => matches!(p.as_str(), "=~" | "!~" | "," | "("),
        Some(_) => false,
    }
}

/// The text between the quote at `start` and its match (backslash escapes undone), and the
/// index after it.
fn quoted(chars: &[char], start: usize, quote: char) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                text.push(chars[i + 1]);
                i += 2;
            }
            c if c == quote => return Some((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    None
}

/// A number as a comparable string: `1.0`, `1.` and `1` are the same.
fn normal_number(literal: &str) -> String {
    match literal.parse::<f64>() {
        Ok(v) => format!("{v}"),
        Err(_) => literal.to_owned(),
    }
}

/// Qualifies each name of a source (`INTO` and `FROM`) as the server does: `m` becomes
/// `database.default_policy.m`, and `rp.m` becomes `database.rp.m`.
fn qualify(tokens: &mut [Token], database: &str, default_policy: &str) {
    let name = |text: &str| Part::Name(text.to_owned());
    let mut expecting = false;
    let mut from_list = false;
    for token in tokens {
        if is_keyword(token, "from") || is_keyword(token, "into") {
            from_list = is_keyword(token, "from");
            expecting = true;
            continue;
        }
        match token {
            Token::Path(path) if expecting => {
                match path.len() {
                    1 => {
                        path.insert(0, name(default_policy));
                        path.insert(0, name(database));
                    }
                    2 => path.insert(0, name(database)),
                    _ => {}
                }
                expecting = false;
            }
            Token::Punct(p) if p == "," && from_list => expecting = true,
            _ => {
                expecting = false;
                from_list = false;
            }
        }
    }
}

/// Whether `on_server` (the text `SHOW CONTINUOUS QUERIES` gives) is the statement
/// `declared` on `database`, as the server rewrites one: keywords and function names in
/// another case, quotes dropped where not needed, durations in their largest unit, and each
/// source qualified with the database and, where none is named, the policy that was the
/// default (`cpu` becomes `metrics.autogen.cpu`). Without `default_policy`, an unqualified
/// name matches a qualified one that ends with it.
pub(crate) fn same_query(
    declared: &str,
    on_server: &str,
    database: &str,
    default_policy: Option<&str>,
) -> bool {
    let (Some(mut a), Some(b)) = (tokens(declared), tokens(on_server)) else {
        return false;
    };
    match default_policy {
        Some(policy) => {
            qualify(&mut a, database, policy);
            a == b
        }
        None => {
            a.len() == b.len()
                && a.iter().zip(&b).all(|pair| match pair {
                    (Token::Path(a), Token::Path(b)) => a.ends_with(b) || b.ends_with(a),
                    (a, b) => a == b,
                })
        }
    }
}

/// The name of the database's default policy among `policies`.
pub(crate) fn default_policy(policies: &[RetentionPolicy]) -> Option<&str> {
    policies.iter().find(|p| p.default).map(|p| p.name.as_str())
}

#[cfg(test)]
mod tests;
