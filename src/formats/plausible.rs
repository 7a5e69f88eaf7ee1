//! Plausible times: the window a record's times must fall in to be kept.
//!
//! A client's clock can be anything: a session dated 2030 moves every "last 7 days" figure and
//! the site's date range, and 1900 or 2262 are no better. A time is plausible when it is not
//! before the format's first release (`not_before`) and not more than `ahead` after the time
//! the server stamped the object (Abacus's `ingestionTime`, or the store's `last_modified`;
//! never this machine's clock). A clock a few minutes fast is normal and stays inside the
//! window. Outside it, the object is quarantined with the rule `<field>.plausible`, as for any
//! other broken rule: an object of many records (a Go merged day, a devstack NDJSON batch) is
//! quarantined whole, the reason naming the line.
//!
//! Every format's source sets it in `report.toml` with `plausible = { not_before =
//! "2020-08-01", ahead_hours = 24 }`; either key may be left out, and `not_before` defaults to
//! the format's first release (its module's `FIRST_RELEASE`).

use chrono::{DateTime, NaiveDate};
use serde::Deserialize;

use super::{Rejection, reject};

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;

/// By default a time may be at most a day after the server's stamp.
pub const DEFAULT_AHEAD_HOURS: u32 = 24;

/// The window, in nanoseconds since the epoch (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The earliest plausible time.
    pub not_before: i64,
    /// How far after the server's stamp a time may be.
    pub ahead: i64,
}

/// `plausible = { … }` of a `[[source]]`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// A day (`2020-08-01`): earlier times are implausible.
    not_before: Option<String>,
    /// Hours a time may be after the server's stamp.
    ahead_hours: Option<u32>,
}

impl Window {
    /// The window of `keys`, `first_release` (a day) when they name no `not_before`.
    pub fn configure(keys: Option<Keys>, first_release: &str) -> anyhow::Result<Window> {
        let keys = keys.unwrap_or_default();
        let day = keys.not_before.as_deref().unwrap_or(first_release);
        let not_before = midnight(day).ok_or_else(|| {
            anyhow::anyhow!("plausible.not_before must be a day like 2020-08-01 (got {day:?})")
        })?;
        let hours = keys.ahead_hours.unwrap_or(DEFAULT_AHEAD_HOURS);
        Ok(Window {
            not_before,
            ahead: i64::from(hours) * NANOS_PER_HOUR,
        })
    }

    /// Checks the time `t` of the field at `path` against the window; `stamp` is when the
    /// server stamped the object, if anything says (no upper bound otherwise).
    pub fn check(&self, path: &str, t: i64, stamp: Option<i64>) -> Result<(), Rejection> {
        if t < self.not_before {
            return Err(reject(
                format!("{path}.plausible"),
                format!(
                    "{path} {} is before {}, when the format was first released",
                    time(t),
                    time(self.not_before)
                ),
            ));
        }
        if let Some(stamp) = stamp
            && t > stamp.saturating_add(self.ahead)
        {
            return Err(reject(
                format!("{path}.plausible"),
                format!(
                    "{path} {} is more than {} h after the server stamped the object ({}): the client's clock is wrong",
                    time(t),
                    self.ahead / NANOS_PER_HOUR,
                    time(stamp)
                ),
            ));
        }
        Ok(())
    }
}

/// The start (00:00 UTC) of the day `day` (`2024-09-26`), in nanoseconds since the epoch.
pub fn midnight(day: &str) -> Option<i64> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
}

fn time(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .timestamp_nanos_opt()
            .expect("in range")
    }

    #[test]
    fn a_clock_minutes_off_is_plausible_days_off_or_before_the_format_is_not() {
        let w = Window::configure(None, "2020-08-01").expect("window");
        let stamp = Some(ns("2023-07-04T12:00:00Z"));
        for ok in [
            "2023-07-04T12:05:00Z",
            "2023-07-05T11:59:59Z",
            "2020-08-01T00:00:00Z",
        ] {
            assert_eq!(w.check("t", ns(ok), stamp), Ok(()), "{ok}");
        }
        let late = w
            .check("sessionEndTime", ns("2030-01-01T00:00:00Z"), stamp)
            .expect_err("2030");
        assert_eq!(late.rule, "sessionEndTime.plausible");
        assert!(
            late.message.contains("more than 24 h after"),
            "{}",
            late.message
        );
        let early = w
            .check("t", ns("1900-01-01T00:00:00Z"), stamp)
            .expect_err("1900");
        assert!(
            early.message.contains("before 2020-08-01"),
            "{}",
            early.message
        );
        // Without a stamp only the lower bound holds.
        assert_eq!(w.check("t", ns("2200-01-01T00:00:00Z"), None), Ok(()));
    }

    #[test]
    fn the_window_is_configured() {
        let keys: Keys =
            toml::from_str("not_before = \"2023-01-01\"\nahead_hours = 1").expect("keys");
        let w = Window::configure(Some(keys), "2020-08-01").expect("window");
        let stamp = Some(ns("2023-07-04T12:00:00Z"));
        assert!(w.check("t", ns("2023-07-04T13:00:01Z"), stamp).is_err());
        assert!(w.check("t", ns("2022-12-31T23:59:59Z"), stamp).is_err());
        let bad: Keys = toml::from_str("not_before = \"soon\"").expect("keys");
        assert!(Window::configure(Some(bad), "2020-08-01").is_err());
        assert!(toml::from_str::<Keys>("after = 1").is_err());
    }
}
