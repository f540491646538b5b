//! The reliability suite behind `scripts/reliability`: a fault matrix over the operator's
//! flows, a crash loop of the real binary, a corpus of invalid resources, data-safety counts
//! and a fuzz target. Each check is one line of the report; the last line is
//! `N passed, N failed`.

pub mod bad_input;
pub mod crash_loop;
pub mod fault_matrix;
pub mod flows;
pub mod fuzz;

use std::time::Instant;

/// How much of the suite to run.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// The CI configuration: one 5xx rate, fewer kills, fewer fuzz cases.
    pub quick: bool,
    /// Seed for everything random (fault draws, kill points, fuzz cases).
    pub seed: u64,
}

/// Which cells of the fault matrix to run: names of flows and faults as the report prints
/// them (e.g. `create`, `5xx 50%`); empty runs all.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Flow names.
    pub flows: Vec<String>,
    /// Fault names.
    pub faults: Vec<String>,
}

impl Selection {
    fn picks(names: &[String], name: &str) -> bool {
        names.is_empty() || names.iter().any(|n| n == name)
    }

    /// Whether the flow named `name` runs.
    pub fn flow(&self, name: &str) -> bool {
        Self::picks(&self.flows, name)
    }

    /// Whether the fault named `name` runs.
    pub fn fault(&self, name: &str) -> bool {
        Self::picks(&self.faults, name)
    }
}

/// The suite's results, printed as they come.
#[derive(Debug, Default)]
pub struct Report {
    passed: usize,
    failed: Vec<String>,
}

impl Report {
    /// Records one check: `Ok(note)` passed, `Err(why)` failed.
    pub fn check(&mut self, name: &str, started: Instant, result: Result<String, String>) {
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(note) => {
                self.passed += 1;
                println!(
                    "ok      {name} ({seconds:.1} s){}",
                    if note.is_empty() { String::new() } else { format!(": {note}") }
                );
            }
            Err(why) => {
                println!("FAILED  {name} ({seconds:.1} s): {why}");
                self.failed.push(name.to_owned());
            }
        }
    }

    /// Prints a section heading.
    pub fn section(&self, title: &str) {
        println!("== {title}");
    }

    /// Whether every check passed.
    pub fn all_passed(&self) -> bool {
        self.failed.is_empty()
    }

    /// The closing line, alone on its line.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed.len())
    }

    /// Names of the failed checks.
    pub fn failures(&self) -> &[String] {
        &self.failed
    }
}
