//! The line-protocol name rules, applied at expansion time to keys and static measurement
//! names. They mirror `influx_core::line` (the runtime's encoder); the integration test
//! `derive_matches_point` checks that both produce the same bytes.

/// The kinds of names with their escaped bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Measurement,
    TagKey,
    FieldKey,
}

impl NameKind {
    fn escaped(self) -> &'static [u8] {
        match self {
            NameKind::Measurement => b", ",
            NameKind::TagKey => b",= ",
            NameKind::FieldKey => b",= \"",
        }
    }
}

/// Why a name breaks the rules, as a message, or `None` when it is fine.
pub(crate) fn check_name(kind: NameKind, name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    match bytes.first() {
        None => return Some("is empty"),
        Some(b'#') if kind == NameKind::Measurement => {
            return Some("starts with `#`: the server would read the line as a comment");
        }
        Some(b'\t') if kind != NameKind::TagKey => {
            return Some("starts with a tab, which the server skips");
        }
        _ => {}
    }
    if kind != NameKind::Measurement && name == "time" {
        return Some("is `time`, which InfluxDB 1.x reserves (it silently drops such a key)");
    }
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' | b'\r' => {
                return Some("holds a line break, which would end the line of line protocol");
            }
            0 => return Some("holds a NUL byte"),
            b'\\' => match bytes.get(i + 1) {
                None => return Some("ends in a backslash, which 1.x does not store faithfully"),
                Some(b',' | b'=' | b' ' | b'"') => {
                    return Some(
                        "has a backslash before `,`, `=`, space or `\"`, which 1.x does not store faithfully",
                    );
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    None
}

/// The name escaped for its kind (after `check_name` accepted it).
pub(crate) fn escape(kind: NameKind, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for &b in name.as_bytes() {
        if kind.escaped().contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}
