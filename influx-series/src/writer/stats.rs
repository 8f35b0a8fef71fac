//! What the writer reports: its counters ([`Stats`]), the reasons points went unwritten,
//! and what [`super::BufferedWriter::shutdown`] and [`super::BufferedWriter::flush`] return.

use std::fmt;

use influx_core::Error;

/// The most of a reason's text kept (bytes; the server's messages are already cut to this).
const MAX_REASON: usize = 1024;

/// Distinct reasons kept at most; later ones are counted under the last.
const MAX_REASONS: usize = 16;

/// Points dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drops {
    /// The oldest waiting points, dropped to make room for new ones ([`super::OnFull::DropOldest`]).
    pub overflow: u64,
    /// New points refused because the budget was full.
    pub full: u64,
    /// Points of batches no resend could make the server take: a missing retention policy,
    /// credentials, `database is required`, TLS refused, a 400 the server gives every request.
    pub misconfigured: u64,
    /// Points of batches to a database that does not exist ([`super::OnMissingDatabase::Drop`]).
    pub missing_database: u64,
    /// Points still unsent when the writer stopped (its deadline passed, or it was dropped
    /// without [`super::BufferedWriter::shutdown`]).
    pub unsent: u64,
    /// Points dropped by [`super::BufferedWriter::clear`].
    pub cleared: u64,
}

impl Drops {
    /// Every drop.
    pub fn total(&self) -> u64 {
        self.overflow
            + self.full
            + self.misconfigured
            + self.missing_database
            + self.unsent
            + self.cleared
    }
}

/// A destination whose writes the server refuses for a reason no resend can fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Flagged {
    /// The database.
    pub database: String,
    /// The retention policy, if one is named.
    pub retention_policy: Option<String>,
    /// The server's answer (at most 1 KiB of it).
    pub reason: String,
}

/// What a [`Reason`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReasonKind {
    /// Dropped without a resend: the server refuses the destination ([`Drops::misconfigured`]).
    Misconfigured,
    /// Dropped: the database does not exist ([`Drops::missing_database`]).
    MissingDatabase,
    /// Refused by the server for good ([`Stats::rejected`]).
    Rejected,
    /// Refused by `record()` ([`Stats::invalid`]).
    Invalid,
}

/// Points that went unwritten for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reason {
    /// What became of them.
    pub kind: ReasonKind,
    /// Why (the server's message, or the encoding error), at most 1 KiB; the points of
    /// reasons past the sixteenth distinct one are counted under the last.
    pub message: String,
    /// How many points.
    pub points: u64,
}

/// Reasons points went unwritten, grouped by kind and message, bounded in number and length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reasons(Vec<Reason>);

impl Reasons {
    pub(crate) fn add(&mut self, kind: ReasonKind, message: &str, points: u64) {
        if points == 0 {
            return;
        }
        if let Some(r) = self
            .0
            .iter_mut()
            .find(|r| r.kind == kind && r.message == message)
        {
            r.points += points;
            return;
        }
        if self.0.len() >= MAX_REASONS {
            if let Some(last) = self.0.last_mut() {
                last.points += points;
                if !last.message.ends_with(MORE) {
                    last.message.push_str(MORE);
                }
            }
            return;
        }
        self.0.push(Reason {
            kind,
            message: cut(message),
            points,
        });
    }

    /// Adds every reason of `other`.
    pub(crate) fn merge(&mut self, other: Reasons) {
        for r in other.0 {
            self.add(r.kind, &r.message, r.points);
        }
    }

    pub(crate) fn to_vec(&self) -> Vec<Reason> {
        self.0.clone()
    }
}

/// What ends the last reason when more reasons were counted under it.
const MORE: &str = " (and other reasons)";

/// `text` cut to [`MAX_REASON`] bytes at a character boundary.
fn cut(text: &str) -> String {
    if text.len() <= MAX_REASON {
        return text.to_owned();
    }
    let mut end = MAX_REASON;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [message cut]", &text[..end])
}

/// An error and the errors below it, as one line (each message once), cut to 1 KiB: what a
/// flag, a reason or a log line says about a failure.
pub(crate) fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        if text.len() > MAX_REASON {
            break;
        }
        source = e.source();
    }
    cut(&text)
}

/// A snapshot of the writer's counters (since it started) and gauges (now), taken at once:
/// [`Stats::adds_up`] holds in every snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Points given to `record()` while the writer was open.
    pub recorded: u64,
    /// Left out by sampling.
    pub sampled_out: u64,
    /// Refused by `record()` as invalid.
    pub invalid: u64,
    /// Dropped, for every reason in `drops`.
    pub dropped: u64,
    /// Dropped, by reason.
    pub drops: Drops,
    /// Refused by the server for good (a partial write's dropped points, or isolated out of a
    /// refused request).
    pub rejected: u64,
    /// Written: the server answered that it stored them.
    pub written: u64,
    /// Sent over UDP: nothing tells whether the server stored them.
    pub sent: u64,
    /// Waiting to be sent (including waiting to be retried).
    pub buffered: u64,
    /// Bytes of the lines waiting.
    pub buffered_bytes: u64,
    /// In the requests being sent.
    pub in_flight: u64,
    /// Bytes of the lines in flight.
    pub in_flight_bytes: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (no answer, or an error the batch stopped at).
    pub failed_requests: u64,
    /// Points offered after the writer closed, or while it is disabled (not in `recorded`).
    pub ignored: u64,
    /// Destinations the server refuses writes to (at most 1 000; see `flags_forgotten`).
    pub flagged: Vec<Flagged>,
    /// Flags forgotten with their idle destinations, beyond the 1 000 kept.
    pub flags_forgotten: u64,
    /// Destinations the writer knows now (idle ones are forgotten).
    pub destinations: u64,
    /// Why points went unwritten: dropped destinations, rejections, invalid points, grouped
    /// by message (at most 16 groups).
    pub reasons: Vec<Reason>,
}

impl Stats {
    /// `recorded = sampled_out + invalid + dropped + rejected + written + sent + buffered +
    /// in_flight`.
    pub fn adds_up(&self) -> bool {
        self.recorded
            == self.sampled_out
                + self.invalid
                + self.dropped
                + self.rejected
                + self.written
                + self.sent
                + self.buffered
                + self.in_flight
            && self.dropped == self.drops.total()
    }
}

/// What [`super::BufferedWriter::shutdown`] did.
///
/// Its `Display` names every kind of drop and refusal with its count and reason, one a line:
///
/// ```text
/// buffered InfluxDB writer: 3 recorded, 2 written, 0 left over
/// 1 dropped: database not found: "metrics"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Whether everything was settled (written, sent, rejected or dropped for a reason other
    /// than the deadline) before the deadline.
    pub complete: bool,
    /// Points left unsent at the deadline (counted in [`Drops::unsent`], or still in a
    /// request in flight, which settles on its own).
    pub left_over: u64,
    /// The counters at the end.
    pub stats: Stats,
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Summary(&self.stats))?;
        writeln!(f, ", {} left over", self.left_over)?;
        write_reasons(f, &self.stats)
    }
}

impl fmt::Display for Stats {
    /// Like [`ShutdownReport`]'s: the counts, then every kind of drop and refusal with its
    /// reasons, one a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", Summary(self))?;
        write_reasons(f, self)
    }
}

/// The first line of a report.
struct Summary<'a>(&'a Stats);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(
            f,
            "buffered InfluxDB writer: {} recorded, {} written",
            s.recorded, s.written
        )?;
        if s.sent > 0 {
            write!(f, ", {} sent over UDP (unacknowledged)", s.sent)?;
        }
        if s.buffered + s.in_flight > 0 {
            write!(f, ", {} buffered, {} in flight", s.buffered, s.in_flight)?;
        }
        Ok(())
    }
}

fn write_reasons(f: &mut fmt::Formatter<'_>, s: &Stats) -> fmt::Result {
    let d = &s.drops;
    let line = |f: &mut fmt::Formatter<'_>, n: u64, what: &str| -> fmt::Result {
        if n > 0 {
            writeln!(f, "{n} {what}")?;
        }
        Ok(())
    };
    line(
        f,
        d.overflow,
        "dropped: the buffer was full, the oldest waiting points made room",
    )?;
    line(
        f,
        d.full,
        "dropped: refused by record(), the buffer was full",
    )?;
    // Destinations the server refused, and points it refused, with their messages.
    let mut counted = [0u64; 4];
    for r in &s.reasons {
        let (what, i) = match r.kind {
            ReasonKind::MissingDatabase => ("dropped", 0),
            ReasonKind::Misconfigured => ("dropped", 1),
            ReasonKind::Rejected => ("rejected by the server", 2),
            ReasonKind::Invalid => ("invalid", 3),
        };
        counted[i] += r.points;
        writeln!(f, "{} {what}: {}", r.points, r.message)?;
    }
    // What no reason was kept for (a writer's counters are exact; its reasons, bounded).
    line(
        f,
        d.missing_database.saturating_sub(counted[0]),
        "dropped: the database does not exist",
    )?;
    line(
        f,
        d.misconfigured.saturating_sub(counted[1]),
        "dropped: the server refuses the destination",
    )?;
    line(
        f,
        s.rejected.saturating_sub(counted[2]),
        "rejected by the server",
    )?;
    line(f, s.invalid.saturating_sub(counted[3]), "invalid")?;
    line(f, d.unsent, "dropped: unsent when the writer stopped")?;
    line(f, d.cleared, "dropped: cleared")?;
    line(f, s.sampled_out, "sampled out")?;
    if s.flags_forgotten > 0 {
        writeln!(
            f,
            "{} flagged destination(s) forgotten (over 1 000)",
            s.flags_forgotten
        )?;
    }
    Ok(())
}

/// [`super::BufferedWriter::flush`] did not see every point settled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushError {
    /// The timeout passed with this many points still waiting or in flight.
    TimedOut {
        /// Points recorded before the call and not yet settled.
        remaining: usize,
    },
    /// The writer stopped with points unsent.
    Stopped {
        /// Points recorded before the call and not settled.
        remaining: usize,
    },
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::TimedOut { remaining } => {
                write!(f, "flush timed out with {remaining} point(s) unsettled")
            }
            FlushError::Stopped { remaining } => {
                write!(f, "the writer stopped with {remaining} point(s) unsettled")
            }
        }
    }
}

impl std::error::Error for FlushError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_every_drop_with_its_count_and_reason() {
        let mut reasons = Reasons::default();
        reasons.add(
            ReasonKind::MissingDatabase,
            "client error 404: database not found: \"metrics\"",
            1,
        );
        reasons.add(ReasonKind::Rejected, &"x".repeat(5_000), 2);
        let stats = Stats {
            recorded: 10,
            written: 4,
            dropped: 4,
            drops: Drops {
                overflow: 3,
                missing_database: 1,
                ..Drops::default()
            },
            rejected: 2,
            reasons: reasons.to_vec(),
            ..Stats::default()
        };
        assert!(stats.adds_up());
        let report = ShutdownReport {
            complete: true,
            left_over: 0,
            stats,
        }
        .to_string();
        assert!(
            report.starts_with("buffered InfluxDB writer: 10 recorded, 4 written, 0 left over\n"),
            "{report}"
        );
        assert!(
            report.contains("1 dropped: client error 404: database not found: \"metrics\"\n"),
            "{report}"
        );
        assert!(
            report.contains("3 dropped: the buffer was full"),
            "{report}"
        );
        let rejected = report
            .lines()
            .find(|l| l.starts_with("2 rejected by the server: "))
            .expect(&report);
        assert!(rejected.len() < 1_100, "cut: {}", rejected.len());
    }

    #[test]
    fn reasons_are_grouped_and_bounded() {
        let mut reasons = Reasons::default();
        for i in 0..100 {
            reasons.add(ReasonKind::Misconfigured, &format!("reason {}", i % 20), 1);
        }
        let all = reasons.to_vec();
        assert_eq!(all.len(), MAX_REASONS);
        assert_eq!(all.iter().map(|r| r.points).sum::<u64>(), 100);
        assert!(all.last().unwrap().message.ends_with(MORE));
    }
}
