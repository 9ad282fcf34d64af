//! The report as people read it: a table of operations, then the findings with their
//! suggested spec edits.

use std::fmt::Write;

use crate::drive::Report;

/// The table on stdout: one line per operation, then every finding.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let width = report
        .operations
        .iter()
        .map(|o| o.operation.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let _ = writeln!(out, "{:<width$}  {:<12}  result", "operation", "statuses");
    for operation in &report.operations {
        let statuses: Vec<String> = operation.statuses.iter().map(u16::to_string).collect();
        let result = operation.outcome();
        let _ = writeln!(
            out,
            "{:<width$}  {:<12}  {result}",
            operation.operation,
            statuses.join(",")
        );
    }
    let _ = writeln!(
        out,
        "\n{}/{} operations exercised, {} findings, {} requests",
        report.exercised(),
        report.operations.len(),
        report.findings.len(),
        report.requests
    );
    for finding in &report.findings {
        let status = finding
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let times = if finding.occurrences > 1 {
            format!(" (seen {} times)", finding.occurrences)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n{} [{status}] {}: {} at `{}`{times}\n  {}",
            finding.operation,
            finding.kind.label(),
            finding.seen,
            finding.pointer,
            finding.message
        );
        if let Some(suggestion) = &finding.suggestion {
            let _ = writeln!(out, "  suggested spec edit:");
            for line in suggestion.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if report.interrupted {
        let _ = writeln!(out, "\ninterrupted by Ctrl-C; cleaned up");
    }
    for left in &report.left_behind {
        let _ = writeln!(out, "left behind (delete by hand): {left}");
    }
    out
}
