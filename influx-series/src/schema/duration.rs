//! Durations as InfluxQL writes them and as the server reports them.

/// The nanoseconds of a duration written as InfluxQL writes it (`1w`, `1h30m`, `INF`) or as
/// the server reports one (`168h0m0s`, `1.5s`, `0s`); `INF` and `0s` are both 0, for ever.
/// `None` for anything else.
pub(crate) fn duration_nanos(text: &str) -> Option<u128> {
    const UNITS: [(&str, u128); 11] = [
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("ms", 1_000_000),
        ("u", 1_000),
        ("µ", 1_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
        ("w", 604_800_000_000_000),
    ];
    let text = text.trim();
    if text.eq_ignore_ascii_case("inf") {
        return Some(0);
    }
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|&end| end > 0)?;
        let (number, after) = rest.split_at(digits);
        let (scale, tail) = UNITS
            .iter()
            .find_map(|&(unit, scale)| after.strip_prefix(unit).map(|tail| (scale, tail)))?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = whole.parse().ok()?;
        let mut part = whole.checked_mul(scale)?;
        if !fraction.is_empty() {
            let digits: u128 = fraction.parse().ok()?;
            let den = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
            part = part.checked_add(digits.checked_mul(scale)? / den)?;
        }
        total = total.checked_add(part)?;
        rest = tail;
    }
    Some(total)
}
