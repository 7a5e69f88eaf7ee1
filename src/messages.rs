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

fn print(line: &dyn Display) {
    let _ = writeln!(std::io::stderr().lock(), "{}", shown(&line.to_string()));
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

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_from_names_are_escaped() {
        assert_eq!(
            super::shown("quarantined: v1/\u{1b}[2Jx\u{0}\r.json: json"),
            "quarantined: v1/\\u{1b}[2Jx\\u{0}\\r.json: json"
        );
        assert_eq!(super::shown("two\n\tlines"), "two\n\tlines");
    }
}
