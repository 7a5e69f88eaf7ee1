//! The "every rule rejects" scaffolding, written once for every format: a [`Table`] of
//! [`Case`]s, each a valid reference object with one edit (or raw bytes) and the rule it must be
//! rejected with, and a run that reports every case that went wrong, not only the first.
//!
//! Each format's table is a submodule (`rules::go_telemetry`, …). A format's unit test feeds its
//! table to its decoder ([`Table::check`]); the integration test (`tests/it/formats.rs`)
//! includes these same files by path, pulls a folder of a table's objects ([`Table::objects`])
//! and compares the quarantine with the cases ([`mismatches`]). That is why nothing here names
//! the crate: std, serde_json, regex and `super::` only.

pub mod abacus;
pub mod devstack;
pub mod go_telemetry;
pub mod pace;

use std::collections::BTreeSet;
use std::panic::Location;

use serde_json::Value;

/// One way to break one rule.
pub struct Case {
    rule: &'static str,
    input: Input,
    key: Option<&'static str>,
    message: Option<&'static str>,
    at: &'static Location<'static>,
}

enum Input {
    /// A change to the table's valid object.
    Edit(Box<dyn Fn(&mut Value)>),
    /// The object's bytes, as they are (broken JSON, NDJSON, sizes).
    Bytes(Vec<u8>),
}

impl Case {
    /// The table's valid object, changed by `edit`, must be rejected with `rule`.
    #[track_caller]
    pub fn edit(rule: &'static str, edit: impl Fn(&mut Value) + 'static) -> Case {
        Case::new(rule, Input::Edit(Box::new(edit)))
    }

    /// An object of exactly these bytes must be rejected with `rule`.
    #[track_caller]
    pub fn bytes(rule: &'static str, bytes: impl Into<Vec<u8>>) -> Case {
        Case::new(rule, Input::Bytes(bytes.into()))
    }

    #[track_caller]
    fn new(rule: &'static str, input: Input) -> Case {
        Case {
            rule,
            input,
            key: None,
            message: None,
            at: Location::caller(),
        }
    }

    /// The object is stored under `key` (for a rule about the key rather than the bytes).
    pub fn at_key(mut self, key: &'static str) -> Case {
        self.key = Some(key);
        self
    }

    /// The rejection's message must also start with `prefix`.
    pub fn message_starts_with(mut self, prefix: &'static str) -> Case {
        self.message = Some(prefix);
        self
    }
}

/// Removes the member the JSON pointer names (`/properties/command`), if it is there.
pub fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(Value::Object(o)) = v.pointer_mut(parent) {
        o.remove(key);
    }
}

/// A format's cases over its valid reference object.
pub struct Table {
    /// The format's name, as in `report.toml`.
    pub format: &'static str,
    /// The valid object the edits change.
    pub base: Value,
    /// The key of the `i`th case's object, unless the case names one: a key the format's folder
    /// source reads (and that names the rule, for a reader of the quarantine).
    pub key: fn(usize, &str) -> String,
    pub cases: Vec<Case>,
}

/// A case made into an object.
pub struct Object {
    pub key: String,
    pub bytes: Vec<u8>,
    /// The rule it must be rejected with.
    pub rule: &'static str,
    message: Option<&'static str>,
    /// `case 3 at src/formats/rules/pace.rs:20`, for messages.
    name: String,
}

/// What became of an object: accepted, or rejected with a rule and a message.
pub type Outcome = Result<(), (String, String)>;

impl Table {
    /// Every case's object: the edit applied to a copy of `base`, or the bytes as given.
    pub fn objects(&self) -> Vec<Object> {
        self.cases
            .iter()
            .enumerate()
            .map(|(i, case)| {
                let bytes = match &case.input {
                    Input::Edit(edit) => {
                        let mut v = self.base.clone();
                        edit(&mut v);
                        serde_json::to_vec(&v).expect("a JSON value serializes")
                    }
                    Input::Bytes(bytes) => bytes.clone(),
                };
                Object {
                    key: case
                        .key
                        .map_or_else(|| (self.key)(i, case.rule), str::to_string),
                    bytes,
                    rule: case.rule,
                    message: case.message,
                    name: format!("case {i} at {}:{}", case.at.file(), case.at.line()),
                }
            })
            .collect()
    }

    /// Decodes every case's object with `decode` and, in one panic, names every case that was
    /// not rejected with its rule, and every rule `source` (the format's decoder) names as a
    /// literal (`reject("X.range", …)`) that has no case and is not in `elsewhere` (rules the
    /// test asserts outside the table). Rules built at run time (`format!("{key}.type")`) cannot
    /// be found that way; their cases are the table's word.
    #[track_caller]
    pub fn check<T, E: Into<(String, String)>>(
        &self,
        source: &str,
        elsewhere: &[&str],
        decode: impl Fn(&Object) -> Result<T, E>,
    ) {
        let objects = self.objects();
        let mut problems = mismatches(self.format, &objects, |o| {
            decode(o).map(drop).map_err(Into::into)
        });
        let covered: BTreeSet<&str> = objects
            .iter()
            .map(|o| o.rule)
            .chain(elsewhere.iter().copied())
            .collect();
        for rule in literal_rules(source) {
            if !covered.contains(rule.as_str()) {
                problems.push(format!(
                    "{}: the decoder has rule {rule}, and no case breaks it",
                    self.format
                ));
            }
        }
        assert_none(&problems);
    }
}

/// One line for every object whose outcome is not a rejection with its rule (and message).
pub fn mismatches(
    format: &str,
    objects: &[Object],
    mut outcome: impl FnMut(&Object) -> Outcome,
) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let wanted = match o.message {
            Some(prefix) => format!("{} with a message starting {prefix:?}", o.rule),
            None => o.rule.to_string(),
        };
        let got = match outcome(o) {
            Ok(()) => "accepted".to_string(),
            Err((rule, message)) => {
                let right = rule == o.rule && o.message.is_none_or(|p| message.starts_with(p));
                if right {
                    continue;
                }
                format!("rejected with {rule}: {message}")
            }
        };
        out.push(format!(
            "{format} {}, key {}: expected {wanted}, {got}",
            o.name, o.key
        ));
    }
    out
}

/// Panics listing every problem, if there is one.
#[track_caller]
pub fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problem(s) with the rule cases:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// The rule names `source` passes as literals to `reject`, its tests left out.
pub fn literal_rules(source: &str) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let literal = regex::Regex::new(r#"reject\(\s*"([^"\\]+)""#).expect("valid regex");
    literal
        .captures_iter(code)
        .map(|c| c[1].to_string())
        .collect()
}
