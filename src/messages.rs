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
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// An error that ends the command: its message, then each cause on a line of its own.
pub fn error(err: &anyhow::Error) {
    print(&format_args!("error: {err}"));
    for cause in err.chain().skip(1) {
        print(&format_args!("  caused by: {cause}"));
    }
}
