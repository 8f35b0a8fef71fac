//! The series-name template: `events.stats.{server_name}`, with `{{` and `}}` for braces.

/// A piece of a template.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text (braces already unescaped).
    Lit(String),
    /// `{member}`.
    Placeholder(String),
}

/// Parses a template, or says what is wrong with it.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => {
                            return Err(
                                "unbalanced `{` in the series name: close it with `}`, or write `{{` for a literal brace".into(),
                            );
                        }
                        Some(c) => name.push(c),
                    }
                }
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(
                        "empty placeholder `{}` in the series name: name a member, as in `{host}`"
                            .into(),
                    );
                }
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Placeholder(name));
            }
            '}' => {
                return Err(
                    "unbalanced `}` in the series name: write `}}` for a literal brace".into(),
                );
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// The whole name when the template has no placeholder (a static measurement).
pub(crate) fn literal(pieces: &[Piece]) -> Option<String> {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => Some(s.as_str()),
            Piece::Placeholder(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_escapes() {
        assert_eq!(
            parse("a.{host}.{{x}}").unwrap(),
            vec![
                Piece::Lit("a.".into()),
                Piece::Placeholder("host".into()),
                Piece::Lit(".{x}".into())
            ]
        );
        assert!(parse("a{").is_err());
        assert!(parse("a}").is_err());
        assert!(parse("{}").is_err());
        assert!(parse("{a{b}}").is_err());
    }
}
