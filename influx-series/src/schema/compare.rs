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
    if let Some(shard) = declared.shard_duration_ref() {
        if !same_duration(shard, existing.shard_duration) {
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

/// A piece of InfluxQL, as far as comparing two spellings of one statement needs.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name, keyword or identifier, quoted or not, possibly qualified (`db.rp.m`), lowercased.
    Path(Vec<String>),
    /// A string literal.
    Str(String),
    /// A regex literal.
    Regex(String),
    /// A duration literal, in nanoseconds.
    Duration(u128),
    /// A number.
    Number(String),
    /// Anything else: punctuation and operators.
    Punct(String),
}

/// The tokens of `text`, or `None` if it does not read as InfluxQL.
fn tokens(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    // A name part just read, which a `.` may continue.
    let mut continues = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continues = false;
            continue;
        }
        let name_part = if c == '"' {
            let (part, end) = quoted(&chars, i, '"')?;
            i = end;
            Some(part)
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Some(chars[start..i].iter().collect::<String>())
        } else {
            None
        };
        if let Some(part) = name_part {
            let part = part.to_lowercase();
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
        } else if c == '/' && regex_may_start(out.last()) {
            let (text, end) = quoted(&chars, i, '/')?;
            out.push(Token::Regex(text));
            i = end;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            match literal.ends_with(|c: char| c.is_ascii_alphabetic()) {
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

/// Whether a `/` after `previous` opens a regex rather than dividing.
fn regex_may_start(previous: Option<&Token>) -> bool {
    match previous {
        None => true,
        Some(Token::Path(path)) => path.len() == 1 && path[0] == "from",
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

/// Whether `on_server` (the text `SHOW CONTINUOUS QUERIES` gives) is the statement
/// `declared`, as the server rewrites one: keywords in capitals, quotes dropped where not
/// needed, durations in their largest unit, and names qualified with the database and
/// retention policy (`cpu` becomes `metrics.autogen.cpu`: a name matches a qualified one
/// that ends with it).
pub(crate) fn same_query(declared: &str, on_server: &str) -> bool {
    let (Some(a), Some(b)) = (tokens(declared), tokens(on_server)) else {
        return false;
    };
    a.len() == b.len()
        && a.iter().zip(&b).all(|pair| match pair {
            (Token::Path(a), Token::Path(b)) => a.ends_with(b) || b.ends_with(a),
            (a, b) => a == b,
        })
}

#[cfg(test)]
mod tests;
