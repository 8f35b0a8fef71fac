//! Integration tests live in `tests/`. This library holds what the memory tests' programs
//! (`src/bin/`, each measured in a process of its own) and the tests that run them share.

use std::collections::HashMap;
use std::process::Command;

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in bytes (0 where
/// `/proc/self/status` does not say).
pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The figures a measuring program printed, one `name value` a line, after running `program`
/// with `args`; panics with its output if it failed. Also prints what it printed.
pub fn figures(program: &str, args: &[&str]) -> Figures {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    let values = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect();
    Figures { text, values }
}

/// What [`figures`] read.
pub struct Figures {
    /// The program's output.
    pub text: String,
    values: HashMap<String, f64>,
}

impl Figures {
    /// The figure `name`; panics with the output if it was not printed.
    pub fn get(&self, name: &str) -> f64 {
        self.values
            .get(name)
            .copied()
            .unwrap_or_else(|| panic!("{name}: {}", self.text))
    }
}
