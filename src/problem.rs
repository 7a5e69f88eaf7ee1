//! A problem with the project: what is wrong, in which file, at which line. The project loader,
//! `report check`, `report build` and `report diff` all speak it.
//!
//! Lines come from where the parsers say the problem is: the TOML parser's spans (kept by
//! parsing with [`toml::de::DeTable`] and deserializing from it), `report.toml`'s [`AtSpan`]s,
//! and DataFusion's diagnostics (see [`crate::query::error_line`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::AtSpan;

/// One thing wrong with the project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line, where the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A problem from an error whose chain may say where in `text` it is (a TOML error with a
    /// span, a `report.toml` [`AtSpan`]). A TOML error gives its own message; any other error
    /// its chain, without the file name the problem already gives.
    pub fn from_error(file: &Path, text: &str, err: &anyhow::Error) -> Problem {
        let line = error_line(text, err);
        if let Some(t) = err
            .chain()
            .find_map(|c| c.downcast_ref::<toml::de::Error>())
        {
            return Problem::new(file, line, t.message().trim());
        }
        let message = format!("{err:#}");
        let prefix = format!("{}: ", file.display());
        let message = message.strip_prefix(&prefix).unwrap_or(&message);
        Problem::new(file, line, message)
    }
}

/// The line of `text` an error's chain points at: a TOML error's span or an [`AtSpan`].
pub fn error_line(text: &str, err: &anyhow::Error) -> Option<usize> {
    err.chain().find_map(|c| {
        if let Some(t) = c.downcast_ref::<toml::de::Error>() {
            span_line(text, t.span())
        } else {
            c.downcast_ref::<AtSpan>()
                .and_then(|a| span_line(text, Some(a.span.clone())))
        }
    })
}

/// An error's chain on one line, a TOML error by its message alone (its `Display` may quote the
/// input).
pub fn chain_message(err: &anyhow::Error) -> String {
    err.chain()
        .map(|c| match c.downcast_ref::<toml::de::Error>() {
            Some(t) => t.message().trim().to_string(),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Problems as one error: each on its own line, sorted.
pub fn error(problems: &[Problem]) -> anyhow::Error {
    let mut lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    lines.sort();
    lines.dedup();
    anyhow::anyhow!(
        "{} problem{} in the project (`report check` lists them too):\n{}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        lines.join("\n")
    )
}

/// The 1-based line of a byte offset of `text`.
pub fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line where `span` starts.
pub fn span_line(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    span.map(|s| line_of(text, s.start))
}

/// Deserializes a parsed TOML value keeping its spans, so an error (an unknown key, a wrong
/// type) carries the span of the key or value at fault.
pub fn from_spanned<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
) -> Result<T, toml::de::Error> {
    T::deserialize(serde::de::IntoDeserializer::into_deserializer(value))
}

/// A spanned table as a spanned value.
pub fn table_value<'i>(table: Spanned<DeTable<'i>>) -> Spanned<DeValue<'i>> {
    let span = table.span();
    Spanned::new(span, DeValue::Table(table.into_inner()))
}

/// Takes `key` out of a parsed table.
pub fn take<'i>(table: &mut DeTable<'i>, key: &str) -> Option<Spanned<DeValue<'i>>> {
    let found = table.keys().find(|k| k.get_ref() == key)?.clone();
    table.remove(&found)
}
