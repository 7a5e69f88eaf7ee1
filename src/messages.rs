//! The one place that prints to stderr: status lines, warnings and problems, for the library
//! and the CLI alike (ripgrep's `messages`). Results go to stdout from `cli`; nothing else in the
//! library prints.
//!
//! A line that cannot be written (stderr closed, a pipe whose reader went away) is dropped: a
//! message is never a reason to fail or to panic.

use std::fmt::Display;
use std::io::Write;

/// What a command did or is doing (`site: 14 files written to site`).
pub fn status(line: impl Display) {
    print(&line);
}

/// Something the user should know that does not stop the command.
pub fn warn(line: impl Display) {
    print(&line);
}

/// Every line is scrubbed of credentials first (`store::scrub_line`): a URL's password or
/// query string, a signature a server echoed, an option's secret value, whichever store or
/// stage the text came from.
fn print(line: &dyn Display) {
    let line = crate::store::scrub_line(&line.to_string());
    let _ = writeln!(std::io::stderr().lock(), "{}", shown(&line));
}

/// `line` with every control character but newline and tab written as an escape (`\u{1b}`), so
/// a name from the data (an object key, a reason quoting a value) cannot drive the terminal.
fn shown(line: &str) -> std::borrow::Cow<'_, str> {
    let raw = |c: char| c.is_control() && !matches!(c, '\n' | '\t');
    if !line.chars().any(raw) {
        return line.into();
    }
    line.chars()
        .map(|c| {
            if raw(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// An error that ends the command: its message, then each cause on a line of its own.
pub fn error(err: &anyhow::Error) {
    print(&format_args!("error: {err}"));
    for cause in err.chain().skip(1) {
        print(&format_args!("  caused by: {cause}"));
    }
}

/// A count for people: `7,819`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size for people, in powers of 1000 as `ls -h --si` and `du --si` print them: `812 B`,
/// `53 MB`, `1.2 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `n` things in `seconds`, per second (0 when no time passed), to print with [`count`] or
/// [`bytes`]: `7,819 objects/s`, `53 MB/s`.
pub fn per_second(n: u64, seconds: f64) -> u64 {
    if seconds > 0.0 && seconds.is_finite() {
        (n as f64 / seconds).round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(7819), "7,819");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(1_250), "1.2 kB");
        assert_eq!(bytes(53_012_345), "53 MB");
        assert_eq!(bytes(999_600), "1.0 MB");
        assert_eq!(bytes(1_234_000_000), "1.2 GB");
        assert_eq!(count(per_second(15_638, 2.0)), "7,819");
        assert_eq!(per_second(300, 0.0), 0);
    }

    #[test]
    fn control_characters_from_names_are_escaped() {
        assert_eq!(
            super::shown("quarantined: v1/\u{1b}[2Jx\u{0}\r.json: json"),
            "quarantined: v1/\\u{1b}[2Jx\\u{0}\\r.json: json"
        );
        assert_eq!(super::shown("two\n\tlines"), "two\n\tlines");
    }
}
