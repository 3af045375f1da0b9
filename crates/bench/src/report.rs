//! The plain-text results: one row per phase, notes, and the budgets with pass/fail.

use crate::measure::Phase;
use crate::rss;

pub struct Report {
    machine: String,
    phases: Vec<Vec<String>>,
    notes: Vec<String>,
    budgets: Vec<Budget>,
}

pub struct Budget {
    name: String,
    measured: f64,
    limit: f64,
    at_least: bool,
    format: fn(f64) -> String,
}

impl Budget {
    pub fn at_least(name: &str, measured: f64, limit: f64, format: fn(f64) -> String) -> Self {
        Self { name: name.to_owned(), measured, limit, at_least: true, format }
    }

    pub fn at_most(name: &str, measured: f64, limit: f64, format: fn(f64) -> String) -> Self {
        Self { name: name.to_owned(), measured, limit, at_least: false, format }
    }

    pub fn passes(&self) -> bool {
        if self.at_least { self.measured >= self.limit } else { self.measured <= self.limit }
    }

    pub fn percent(value: f64) -> String {
        format!("{:.1}%", value * 100.0)
    }

    pub fn times(value: f64) -> String {
        format!("{value:.2}×")
    }

    pub fn count(value: f64) -> String {
        format!("{value:.0}")
    }

    pub fn megabytes(bytes: f64) -> String {
        format!("{:.1} MB", bytes / 1_000_000.0)
    }
}

impl Report {
    pub fn new(machine: &str) -> Self {
        Self { machine: machine.to_owned(), phases: Vec::new(), notes: Vec::new(), budgets: Vec::new() }
    }

    pub fn phase(&mut self, phase: &Phase) {
        let peak =
            format!("{:.1}{}", rss::mib(phase.peak_rss), if phase.peak_is_phase_own { "" } else { "*" });
        self.phases.push(vec![
            phase.name.clone(),
            phase.tickets.to_string(),
            phase.pages.to_string(),
            format!("{:.2}", phase.elapsed.as_secs_f64()),
            format!("{:.0}", phase.per_second()),
            format!("{:.1}", phase.cpu),
            format!("{:.1}", rss::mib(phase.rss_before)),
            peak,
        ]);
        if !phase.peak_is_phase_own {
            self.note(
                "* peak RSS since the process started (/proc/self/clear_refs could not reset it)".to_owned(),
            );
        }
    }

    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub fn budget(&mut self, budget: Budget) {
        self.budgets.push(budget);
    }

    pub fn print(&self) {
        println!();
        println!("machine: {}", self.machine);
        println!();
        let header =
            ["phase", "tickets", "pages", "seconds", "tickets/s", "CPU s", "RSS before MiB", "peak RSS MiB"];
        print_table(&header, &self.phases);
        println!();
        for note in &self.notes {
            println!("- {note}");
        }
        println!();
        let rows: Vec<Vec<String>> = self
            .budgets
            .iter()
            .map(|b| {
                vec![
                    b.name.clone(),
                    (b.format)(b.measured),
                    format!("{} {}", if b.at_least { "≥" } else { "≤" }, (b.format)(b.limit)),
                    if b.passes() { "pass" } else { "FAIL" }.to_owned(),
                ]
            })
            .collect();
        print_table(&["budget", "measured", "budget", "result"], &rows);
    }
}

fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                let pad = width - cell.chars().count();
                // The first column reads left to right; figures line up on the right.
                if i == 0 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.to_vec());
    let rules: Vec<String> = widths
        .iter()
        .enumerate()
        .map(
            |(i, w)| {
                if i == 0 { format!(":{}", "-".repeat(w + 1)) } else { format!("{}:", "-".repeat(w + 1)) }
            },
        )
        .collect();
    println!("|{}|", rules.join("|"));
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
