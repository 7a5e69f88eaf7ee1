//! Charts: one file per kind, each a pure function `(spec, data) → SVG string` drawn with
//! plotters' SVG backend. No I/O, no clock, no system fonts: the same data gives the same bytes.
//!
//! Every kind implements [`ChartKind`]: its name, the columns its spec names and what each
//! needs of its column's type ([`Need`], for `report check`), and a `draw` that receives them
//! already found in the query's result ([`Data`]). [`Chart`] holds a panel's spec, one variant
//! per kind, and dispatches: it reads a spec by kind name and, before drawing, checks the
//! columns once for every kind.
//!
//! What the kinds share lives here: how a result becomes series, the order of categories
//! (versions by semver), value formats for ticks, the legend, and the accessible wrapper
//! (`<title>`, `<desc>`, `role="img"`) around what plotters draws.

pub mod area;
pub mod bar;
pub mod boxplot;
pub mod calendar;
pub mod heatmap;
pub mod histogram;
pub mod line;
pub mod marks;
pub mod number;
pub mod style;
pub mod table;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use plotters::chart::{ChartContext, MeshStyle};
use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use marks::{Marks, Paint};
use toml::Spanned;
use toml::de::DeValue;

use crate::query::{Kind, Table, Value};

/// Title and description of a chart, and an id unique within its page.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub title: String,
    pub description: String,
    /// The first and last day the panel's data covers (days since 1970-01-01), from the
    /// warehouse: what tells a partial period from a whole one. `None`: every period whole.
    pub data_range: Option<(i32, i32)>,
    /// The size to draw at: wide for a desktop, narrow for a phone.
    pub canvas: style::Canvas,
}

/// What x holds when it is the start of a period (`period = "week"` on a line chart): a
/// period the data's range does not cover whole is drawn partial (dashed, a hollow point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Month,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The days of the period that starts on `day` (days since 1970-01-01).
    fn days(self, day: i32) -> i32 {
        match self {
            Period::Week => 7,
            Period::Month => {
                use chrono::Datelike;
                let Some(d) = chrono::DateTime::from_timestamp(i64::from(day) * 86_400, 0) else {
                    return 30;
                };
                let d = d.date_naive();
                let next = if d.month() == 12 {
                    chrono::NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
                } else {
                    chrono::NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
                };
                next.map_or(30, |n| (n - d).num_days() as i32)
            }
        }
    }

    /// As [`Period::partial`] for an x drawn as text (a bar's category, a heatmap's column):
    /// `label` is the period's first day, `YYYY-MM-DD`.
    pub fn partial_label(self, label: &str, range: Option<(i32, i32)>) -> Option<(i32, i32)> {
        let day = chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d").ok()?;
        let day = (day - chrono::NaiveDate::default()).num_days() as i32;
        self.partial(day, range?)
    }

    /// How many of its days the period starting on `start` has data for, and how many it
    /// has, when the data's `range` does not cover it whole.
    pub fn partial(self, start: i32, range: (i32, i32)) -> Option<(i32, i32)> {
        let len = self.days(start);
        let end = start + len - 1;
        let held = (end.min(range.1) - start.max(range.0) + 1).max(0);
        (held < len).then_some((held, len))
    }
}

/// How values on an axis (or in a headline) are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueFormat {
    /// 1,234 or 1.5k-style thousands; decimals only where needed.
    #[default]
    Number,
    /// Fractions 0–1 shown as 0–100 %.
    Percent,
    /// Milliseconds shown as ms, s, min or h.
    DurationMs,
}

/// The order of categories or series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Order {
    /// `"auto"` (default): versions by semver, anything else as the query returned it.
    /// `"query"`, `"semver"`, `"value"` (largest total first), `"name"`.
    Named(OrderName),
    /// An explicit list; values not in it follow in query order.
    List(Vec<String>),
    #[default]
    #[serde(skip)]
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderName {
    Auto,
    Query,
    Semver,
    Value,
    Name,
}

/// One chart kind: the spec a panel's keys deserialize into, and how it draws.
pub trait ChartKind {
    /// The kind's name in a panel: `chart = "line"`.
    const NAME: &'static str;

    /// Columns the chart reads, as (key, column) pairs.
    fn columns(&self) -> Vec<(&'static str, &str)>;

    /// What the column behind `key` must hold for the chart to make sense.
    fn need(key: &str) -> Need;

    /// Checks that the keys make sense together (when the report is read, and before drawing).
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The chart's SVG from data whose columns [`Chart::render`] has found; `None` when the
    /// kind draws none (`table`, whose HTML table is the panel).
    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>>;
}

/// What a chart key needs of its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Any,
    Numeric,
    /// A date or a timestamp.
    Temporal,
}

/// The ranges of a chart's numeric axes, as its data asks for them before padding. Two
/// drawings of one panel (`report diff`'s before and after) drawn with the union of theirs
/// share their axes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub x: Option<(f64, f64)>,
    pub y: Option<(f64, f64)>,
}

impl Bounds {
    /// The smallest bounds holding both.
    pub fn union(self, other: Bounds) -> Bounds {
        let join = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
            (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
            (a, b) => a.or(b),
        };
        Bounds {
            x: join(self.x, other.x),
            y: join(self.y, other.y),
        }
    }
}

/// A query's result with the columns a spec names found in it.
pub struct Data<'a> {
    pub table: &'a Table,
    /// Per key of the spec's columns, the index of its column in `table`.
    found: Vec<(&'static str, usize)>,
    /// Bounds the axes must hold besides the data's own.
    shared: Bounds,
    /// The data's own bounds, as the kind asked for them.
    asked: std::cell::Cell<Bounds>,
}

impl Data<'_> {
    /// The y range to draw: the data's own `(lo, hi)` (recorded), widened to the shared one.
    pub fn y_range(&self, lo: f64, hi: f64) -> (f64, f64) {
        let mut asked = self.asked.get();
        asked.y = Some((lo, hi));
        self.asked.set(asked);
        widen((lo, hi), self.shared.y)
    }

    /// The numeric x range to draw, as [`Data::y_range`].
    pub fn x_range(&self, lo: f64, hi: f64) -> (f64, f64) {
        let mut asked = self.asked.get();
        asked.x = Some((lo, hi));
        self.asked.set(asked);
        widen((lo, hi), self.shared.x)
    }

    /// The index of the column behind `key`; `None` when the spec names none (an optional key).
    pub fn get(&self, key: &str) -> Option<usize> {
        self.found.iter().find(|(k, _)| *k == key).map(|(_, i)| *i)
    }

    /// The index of the column behind `key`, a key the spec always names.
    pub fn index(&self, key: &str) -> Result<usize> {
        self.get(key)
            .with_context(|| format!("the chart names no column for {key}"))
    }
}

/// A panel's chart kind with its keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Line(line::Line),
    Bar(bar::Bar),
    Area(area::Area),
    Histogram(histogram::Histogram),
    Heatmap(heatmap::Heatmap),
    Calendar(calendar::Calendar),
    Box(boxplot::BoxPlot),
    Number(number::Number),
    Table(table::TableSpec),
}

/// The kinds' names, in the order an unknown kind's error lists them.
pub const KINDS: [&str; 9] = [
    line::Line::NAME,
    bar::Bar::NAME,
    area::Area::NAME,
    histogram::Histogram::NAME,
    heatmap::Heatmap::NAME,
    calendar::Calendar::NAME,
    boxplot::BoxPlot::NAME,
    number::Number::NAME,
    table::TableSpec::NAME,
];

impl Chart {
    /// The spec of the kind named `kind`, read from a panel's keys (those the panel itself does
    /// not take); `None` when no kind has that name.
    pub fn parse(kind: &str, keys: Spanned<DeValue<'_>>) -> Option<Result<Chart>> {
        Some(match kind {
            line::Line::NAME => spec(keys).map(Chart::Line),
            bar::Bar::NAME => spec(keys).map(Chart::Bar),
            area::Area::NAME => spec(keys).map(Chart::Area),
            histogram::Histogram::NAME => spec(keys).map(Chart::Histogram),
            heatmap::Heatmap::NAME => spec(keys).map(Chart::Heatmap),
            calendar::Calendar::NAME => spec(keys).map(Chart::Calendar),
            boxplot::BoxPlot::NAME => spec(keys).map(Chart::Box),
            number::Number::NAME => spec(keys).map(Chart::Number),
            table::TableSpec::NAME => spec(keys).map(Chart::Table),
            _ => return None,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Chart::Line(_) => line::Line::NAME,
            Chart::Bar(_) => bar::Bar::NAME,
            Chart::Area(_) => area::Area::NAME,
            Chart::Histogram(_) => histogram::Histogram::NAME,
            Chart::Heatmap(_) => heatmap::Heatmap::NAME,
            Chart::Calendar(_) => calendar::Calendar::NAME,
            Chart::Box(_) => boxplot::BoxPlot::NAME,
            Chart::Number(_) => number::Number::NAME,
            Chart::Table(_) => table::TableSpec::NAME,
        }
    }

    /// Columns the chart reads, as (key, column) pairs.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        match self {
            Chart::Line(c) => c.columns(),
            Chart::Bar(c) => c.columns(),
            Chart::Area(c) => c.columns(),
            Chart::Histogram(c) => c.columns(),
            Chart::Heatmap(c) => c.columns(),
            Chart::Calendar(c) => c.columns(),
            Chart::Box(c) => c.columns(),
            Chart::Number(c) => c.columns(),
            Chart::Table(c) => c.columns(),
        }
    }

    /// What the column behind `key` must hold for the chart to make sense.
    pub fn needs(&self, key: &str) -> Need {
        match self {
            Chart::Line(_) => line::Line::need(key),
            Chart::Bar(_) => bar::Bar::need(key),
            Chart::Area(_) => area::Area::need(key),
            Chart::Histogram(_) => histogram::Histogram::need(key),
            Chart::Heatmap(_) => heatmap::Heatmap::need(key),
            Chart::Calendar(_) => calendar::Calendar::need(key),
            Chart::Box(_) => boxplot::BoxPlot::need(key),
            Chart::Number(_) => number::Number::need(key),
            Chart::Table(_) => table::TableSpec::need(key),
        }
    }

    /// The chart's SVG; `None` for `table`, whose HTML table is the panel. Errors when a column
    /// the spec names is not in the result.
    pub fn render(&self, table: &Table, meta: &Meta) -> Result<Option<String>> {
        self.render_within(table, meta, Bounds::default())
            .map(|(svg, _)| svg)
    }

    /// As [`Chart::render`], with axes that hold `shared` besides the data; also gives the
    /// bounds the data asked for (drawn again with the union of two sides', they share axes).
    /// Axes of categories (and a histogram's bins, a heatmap's colours) stay each drawing's own.
    pub fn render_within(
        &self,
        table: &Table,
        meta: &Meta,
        shared: Bounds,
    ) -> Result<(Option<String>, Bounds)> {
        match self {
            Chart::Line(c) => render(c, table, meta, shared),
            Chart::Bar(c) => render(c, table, meta, shared),
            Chart::Area(c) => render(c, table, meta, shared),
            Chart::Histogram(c) => render(c, table, meta, shared),
            Chart::Heatmap(c) => render(c, table, meta, shared),
            Chart::Calendar(c) => render(c, table, meta, shared),
            Chart::Box(c) => render(c, table, meta, shared),
            Chart::Number(c) => render(c, table, meta, shared),
            Chart::Table(c) => render(c, table, meta, shared),
        }
    }

    /// The period x holds (`period = "week"`), the x column, and how the chart draws a partial
    /// one: what a page's note says about it.
    pub fn period(&self) -> Option<(Period, &str, &'static str)> {
        match self {
            Chart::Line(c) => Some((c.period?, c.x.as_str(), "drawn dashed")),
            Chart::Bar(c) => Some((c.period?, c.x.as_str(), "drawn pale")),
            Chart::Heatmap(c) => Some((c.period?, c.x.as_str(), "outlined dashed")),
            _ => None,
        }
    }

    /// Whether the kind draws differently on a narrow canvas (a headline figure has one size
    /// that fits both; a table draws nothing).
    pub fn has_narrow_layout(&self) -> bool {
        !matches!(self, Chart::Number(_) | Chart::Table(_))
    }

    /// How the chart writes the values of each numeric column it reads (`y_format`,
    /// `value_format`, …), as (column, format).
    pub fn value_formats(&self) -> Vec<(&str, ValueFormat)> {
        let format = match self {
            Chart::Line(c) => c.y_format,
            Chart::Bar(c) => c.y_format,
            Chart::Area(c) => c.y_format.unwrap_or_default(),
            Chart::Histogram(c) => c.x_format,
            Chart::Heatmap(c) => c.value_format,
            Chart::Calendar(c) => c.value_format,
            Chart::Box(c) => c.y_format,
            Chart::Number(c) => c.format,
            Chart::Table(_) => ValueFormat::Number,
        };
        self.columns()
            .into_iter()
            .filter(|(key, _)| self.needs(key) == Need::Numeric)
            .map(|(key, column)| {
                // A histogram's counts are counts, whatever its values are.
                let own = if key == "count" {
                    ValueFormat::Number
                } else {
                    format
                };
                (column, own)
            })
            .collect()
    }
}

fn widen((lo, hi): (f64, f64), to: Option<(f64, f64)>) -> (f64, f64) {
    match to {
        Some((a, b)) => (lo.min(a), hi.max(b)),
        None => (lo, hi),
    }
}

/// A kind's spec from a panel's keys: unknown keys are errors, and so are keys that do not
/// make sense together.
fn spec<K: ChartKind + DeserializeOwned>(keys: Spanned<DeValue<'_>>) -> Result<K> {
    let spec: K = crate::problem::from_spanned(keys)?;
    spec.validate()?;
    Ok(spec)
}

/// Draws `spec` from `table`: checks that every column it names is in the result and that its
/// keys make sense together, then hands the found columns to the kind.
fn render<K: ChartKind>(
    spec: &K,
    table: &Table,
    meta: &Meta,
    shared: Bounds,
) -> Result<(Option<String>, Bounds)> {
    let columns = spec.columns();
    require_columns(table, &columns)?;
    spec.validate()?;
    let found = columns
        .iter()
        .filter_map(|(key, name)| Some((*key, table.index_of(name)?)))
        .collect();
    let data = Data {
        table,
        found,
        shared,
        asked: std::cell::Cell::new(Bounds::default()),
    };
    let svg = spec.draw(&data, meta)?;
    Ok((svg.map(|svg| well_formed(&svg)), data.asked.get()))
}

/// The SVG with every character XML does not allow in a document (a NUL in a label, other
/// control characters) replaced by `�`, so a page stays well-formed whatever the data held.
fn well_formed(svg: &str) -> String {
    if svg.chars().any(crate::output::not_xml_text) {
        svg.chars()
            .map(|c| {
                if crate::output::not_xml_text(c) {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect()
    } else {
        svg.to_string()
    }
}

/// A spec's column references, checked against the query's result before drawing.
fn require_columns(table: &Table, columns: &[(&str, &str)]) -> Result<()> {
    for (key, name) in columns {
        if table.index_of(name).is_none() {
            let have: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "{key} = {name:?} is not a column of the query's result (it has: {})",
                have.join(", ")
            );
        }
    }
    Ok(())
}

/// Parses a version leniently (`1`, `1.2`, `v1.2.3`) for ordering.
pub fn parse_version(s: &str) -> Option<semver::Version> {
    let t = s.trim().trim_start_matches('v');
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    let (core, rest) = match t.find(['-', '+']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded: Vec<String> = parts
        .iter()
        .map(|p| p.trim_start_matches('0').to_string())
        .collect();
    for p in &mut padded {
        if p.is_empty() {
            *p = "0".into();
        }
    }
    while padded.len() < 3 {
        padded.push("0".into());
    }
    semver::Version::parse(&format!("{}{rest}", padded.join("."))).ok()
}

/// Semver order for versions; a version sorts before a non-version; ties by text.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Orders `names` (given in first-seen order) with their totals.
pub fn order_names(
    names: Vec<String>,
    totals: &BTreeMap<String, f64>,
    order: &Order,
) -> Vec<String> {
    let mut names = names;
    let all_versions = !names.is_empty() && names.iter().all(|n| parse_version(n).is_some());
    match order {
        Order::Auto | Order::Named(OrderName::Auto) => {
            if all_versions {
                names.sort_by(|a, b| version_cmp(a, b));
            }
        }
        Order::Named(OrderName::Query) => {}
        Order::Named(OrderName::Semver) => names.sort_by(|a, b| version_cmp(a, b)),
        Order::Named(OrderName::Name) => names.sort(),
        Order::Named(OrderName::Value) => names.sort_by(|a, b| {
            let (x, y) = (totals.get(a).unwrap_or(&0.0), totals.get(b).unwrap_or(&0.0));
            y.total_cmp(x).then_with(|| a.cmp(b))
        }),
        Order::List(list) => {
            let pos = |n: &String| list.iter().position(|l| l == n).unwrap_or(usize::MAX);
            names.sort_by_key(|n| pos(n)); // stable: unlisted keep query order
        }
    }
    names
}

/// Writes `v` in `format`, short enough for a tick label.
pub fn format_value(v: f64, format: ValueFormat) -> String {
    match format {
        ValueFormat::Number => format_number(v),
        ValueFormat::Percent => {
            let p = v * 100.0;
            if (p - p.round()).abs() < 1e-9 {
                format!("{}%", p.round() as i64)
            } else {
                format!("{}%", trim(format!("{p:.1}")))
            }
        }
        ValueFormat::DurationMs => format_duration_ms(v),
    }
}

/// How one axis writes its values: every tick in one unit (a duration axis in seconds or in
/// minutes, not both; counts all in thousands or none), and the marks' titles in that unit
/// with more precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisFormat {
    format: ValueFormat,
    /// The divisor and suffix of the axis's unit: 1000 and "k", 60 000 and " min".
    unit: (f64, &'static str),
}

impl AxisFormat {
    /// The unit fit for values between `lo` and `hi`.
    pub fn new(format: ValueFormat, lo: f64, hi: f64) -> AxisFormat {
        let a = lo.abs().max(hi.abs());
        let a = if a.is_finite() { a } else { 0.0 };
        let unit = match format {
            ValueFormat::Number if a >= 1e9 => (1e9, "G"),
            ValueFormat::Number if a >= 1e6 => (1e6, "M"),
            ValueFormat::Number if a >= 1e4 => (1e3, "k"),
            ValueFormat::Number => (1.0, ""),
            ValueFormat::Percent => (0.01, "%"),
            ValueFormat::DurationMs if a < 1000.0 => (1.0, " ms"),
            ValueFormat::DurationMs if a < 600_000.0 => (1000.0, " s"),
            ValueFormat::DurationMs if a < 36_000_000.0 => (60_000.0, " min"),
            ValueFormat::DurationMs => (3_600_000.0, " h"),
        };
        AxisFormat { format, unit }
    }

    /// A tick label.
    pub fn tick(&self, v: f64) -> String {
        self.write(v, 2)
    }

    /// A value in a mark's title: a count whole (12,345 on an axis in thousands), anything
    /// else in the axis's unit with up to four decimals.
    pub fn exact(&self, v: f64) -> String {
        if self.format == ValueFormat::Number && (v - v.round()).abs() < 1e-9 && v.abs() < 1e15 {
            AxisFormat {
                unit: (1.0, ""),
                ..*self
            }
            .write(v, 4)
        } else {
            self.write(v, 4)
        }
    }

    /// Labels for `values` (ascending), each distinct from its neighbours: more decimals
    /// until they are (a log axis's 0.0012 and 0.0014 are not both "0.001").
    pub fn distinct(&self, values: &[f64]) -> Vec<String> {
        let mut out = Vec::new();
        for decimals in 2..=8 {
            out = values.iter().map(|v| self.write(*v, decimals)).collect();
            if out.windows(2).all(|w| w[0] != w[1]) {
                break;
            }
        }
        out
    }

    fn write(&self, v: f64, decimals: usize) -> String {
        if !v.is_finite() {
            return String::new();
        }
        let (div, suffix) = self.unit;
        let x = v / div;
        let body =
            if self.format == ValueFormat::Number && div == 1.0 && (x - x.round()).abs() < 1e-9 {
                whole(x)
            } else if x == 0.0 {
                // A count's zero needs no unit: 0, 4k, 8k.
                return if self.format == ValueFormat::Number {
                    "0".into()
                } else {
                    format!("0{suffix}")
                };
            } else {
                // Small numbers keep their significant digits: 0.00125, not 0.
                let lead = (-x.abs().log10().floor()).max(0.0) as usize;
                let d = if x.abs() < 1.0 {
                    decimals + lead.saturating_sub(1)
                } else {
                    decimals
                };
                trim(format!("{x:.d$}"))
            };
        format!("{body}{suffix}")
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A whole number with thousands separators: `-1,234`.
fn whole(v: f64) -> String {
    let i = v.round() as i64;
    let out = crate::messages::count(i.unsigned_abs());
    if i < 0 { format!("-{out}") } else { out }
}

pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.1}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.1}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if (v - v.round()).abs() < 1e-9 {
        whole(v)
    } else if a >= 100.0 {
        trim(format!("{v:.0}"))
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

fn format_duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return String::new();
    }
    let a = ms.abs();
    if a < 1000.0 {
        format!("{} ms", trim(format!("{ms:.1}")))
    } else if a < 120_000.0 {
        format!("{} s", trim(format!("{:.1}", ms / 1000.0)))
    } else if a < 3_600_000.0 {
        format!("{} min", trim(format!("{:.1}", ms / 60_000.0)))
    } else {
        format!("{} h", trim(format!("{:.1}", ms / 3_600_000.0)))
    }
}

/// Tick text for an x value in the column's kind (dates for dates, numbers otherwise).
pub fn format_x(v: f64, kind: Kind) -> String {
    match kind {
        // Ticks between whole days would repeat a date: leave them blank.
        Kind::Date if (v - v.round()).abs() > 1e-6 => String::new(),
        Kind::Date | Kind::Time => {
            match chrono::DateTime::from_timestamp((v * 86_400.0).round() as i64, 0) {
                Some(t) => t.format("%Y-%m-%d").to_string(),
                None => String::new(),
            }
        }
        _ => format_number(v),
    }
}

/// Ticks for an x axis of days from `x0` to `x1` (days since 1970-01-01, as plotted): on
/// period starts — days, Mondays, the 1st of months — the finest that fits `max` ticks (weeks
/// or months at the least when x holds weeks or months), written for the span ("Jul 3",
/// "Aug 2024", "2025") with the year on the first tick and wherever it changes. `None` for a
/// span under two days (times within a day keep the plotter's ticks).
pub fn date_ticks(
    x0: f64,
    x1: f64,
    period: Option<Period>,
    max: usize,
) -> Option<Vec<(f64, String)>> {
    use chrono::{Datelike, NaiveDate};
    let day = |d: NaiveDate| (d - NaiveDate::default()).num_days() as f64;
    let date = |x: f64| {
        chrono::DateTime::from_timestamp((x.ceil() as i64) * 86_400, 0).map(|t| t.date_naive())
    };
    if x1 - x0 < 2.0 || max == 0 {
        return None;
    }
    let (first, last) = (date(x0)?, date(x1.floor())?);
    let days = (last - first).num_days() + 1;
    // Days and weeks: every `step` days from `start`.
    let every = |start: NaiveDate, step: i64| -> Vec<NaiveDate> {
        let n = if start > last {
            0
        } else {
            (last - start).num_days() / step + 1
        };
        (0..n)
            .map(|i| start + chrono::Days::new((i * step) as u64))
            .collect()
    };
    let monday =
        first + chrono::Days::new(u64::from((7 - first.weekday().num_days_from_monday()) % 7));
    let month = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
    let months = |step: i32| -> Vec<NaiveDate> {
        let from = month(first) + i32::from(first.day() != 1);
        let from = from + (step - from.rem_euclid(step)) % step;
        (from..=month(last))
            .step_by(step as usize)
            .filter_map(|m| {
                NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
            })
            .collect()
    };
    let mut candidates: Vec<(bool, Vec<NaiveDate>)> = Vec::new();
    if period.is_none() && days <= 16 {
        candidates.extend([1, 2].map(|s| (false, every(first, s))));
    }
    if period != Some(Period::Month) && days <= 200 {
        candidates.extend([7, 14, 28].map(|s| (false, every(monday, s))));
    }
    candidates.extend([1, 2, 3, 6, 12, 24, 60].map(|s| (true, months(s))));
    let (monthly, ticks) = candidates
        .into_iter()
        .find(|(_, t)| !t.is_empty() && t.len() <= max)?;
    let yearly = ticks.len() > 1
        && ticks
            .windows(2)
            .all(|w| w[1].year() > w[0].year() && w[1].month() == w[0].month());
    let mut year = None;
    Some(
        ticks
            .into_iter()
            .map(|d| {
                let new_year = year != Some(d.year());
                year = Some(d.year());
                let format = match (yearly, monthly, new_year) {
                    (true, _, _) => "%Y",
                    (false, true, true) => "%b %Y",
                    (false, true, false) => "%b",
                    (false, false, true) => "%b %-d %Y",
                    (false, false, false) => "%b %-d",
                };
                (day(d), d.format(format).to_string())
            })
            .collect(),
    )
}

/// How many date ticks a plot `plot_width` wide has room for ("May 29 2023" is about 75 px).
pub fn tick_room(plot_width: u32) -> usize {
    (plot_width.saturating_sub(70) / 85) as usize
}

/// Draws x ticks at data positions under a plot: a short tick and its label, centred.
pub fn draw_x_ticks(root: &Area, chart: &Plot, y0: f64, ticks: &[(f64, String)]) -> Result<()> {
    let centre = text_style(style::SMALL).pos(Pos::new(HPos::Center, VPos::Top));
    for (x, label) in ticks {
        let (px, py) = chart.backend_coord(&(*x, y0));
        drawn(root.draw(&PathElement::new(vec![(px, py), (px, py + 5)], style::AXIS)))?;
        drawn(root.draw(&Text::new(label.clone(), (px, py + 8), centre.clone())))?;
    }
    Ok(())
}

/// Rows grouped into named series of (x, y) points; rows with a null x or y are left out and counted.
pub struct Series {
    pub name: String,
    pub points: Vec<(Value, f64)>,
}

pub struct Grouped {
    pub series: Vec<Series>,
    pub skipped: usize,
}

pub fn group(table: &Table, x: usize, y: usize, series: Option<usize>, order: &Order) -> Grouped {
    let mut by_name: BTreeMap<String, Vec<(Value, f64)>> = BTreeMap::new();
    let mut first_seen = Vec::new();
    let mut totals = BTreeMap::new();
    let mut skipped = 0;
    for row in &table.rows {
        let (xv, yv) = (&row[x], row[y].as_f64());
        let (false, Some(yv)) = (xv.is_null(), yv) else {
            skipped += 1;
            continue;
        };
        let name = match series {
            Some(s) if row[s].is_null() => "(null)".to_string(),
            Some(s) => row[s].to_string(),
            None => String::new(),
        };
        if !by_name.contains_key(&name) {
            first_seen.push(name.clone());
        }
        *totals.entry(name.clone()).or_insert(0.0) += yv;
        by_name.entry(name).or_default().push((xv.clone(), yv));
    }
    let series = order_names(first_seen, &totals, order)
        .into_iter()
        .map(|name| Series {
            points: by_name.remove(&name).unwrap_or_default(),
            name,
        })
        .collect();
    Grouped { series, skipped }
}

/// Categories of an x column in chart order (first-seen, or as `order` says).
pub fn categories(table: &Table, x: usize, y: usize, order: &Order) -> Vec<String> {
    let mut seen = Vec::new();
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    for row in &table.rows {
        if row[x].is_null() {
            continue;
        }
        let k = row[x].to_string();
        if !totals.contains_key(&k) {
            seen.push(k.clone());
        }
        *totals.entry(k).or_insert(0.0) += row[y].as_f64().unwrap_or(0.0);
    }
    order_names(seen, &totals, order)
}

/// Distinct values of a column in axis order: numbers, dates and times ascending; text as
/// `order` says (versions by semver by default).
pub fn axis_values(table: &Table, col: usize, order: &Order) -> Vec<String> {
    let kind = table.columns[col].kind;
    if (kind.is_numeric() || kind.is_temporal())
        && matches!(order, Order::Auto | Order::Named(OrderName::Auto))
    {
        let mut vals: Vec<&Value> = table
            .rows
            .iter()
            .map(|r| &r[col])
            .filter(|v| !v.is_null())
            .collect();
        vals.sort_by(|a, b| {
            a.as_f64()
                .unwrap_or(f64::NAN)
                .total_cmp(&b.as_f64().unwrap_or(f64::NAN))
        });
        let mut out: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
        out.dedup();
        return out;
    }
    let mut seen = Vec::new();
    let mut set = std::collections::BTreeSet::new();
    for r in &table.rows {
        if !r[col].is_null() && set.insert(r[col].to_string()) {
            seen.push(r[col].to_string());
        }
    }
    order_names(seen, &BTreeMap::new(), order)
}

/// Whether slot labels must be rotated to fit, and the height they then need.
pub fn label_layout(labels: &[String], plot_width: u32) -> (bool, u32) {
    let longest = labels
        .iter()
        .map(|c| style::short(c).chars().count())
        .max()
        .unwrap_or(0);
    let slot = (plot_width as f64 - 90.0) / labels.len().max(1) as f64;
    if longest as f64 * 7.0 > slot {
        (true, 24 + longest as u32 * 7)
    } else {
        (false, 44)
    }
}

/// Draws `labels` centred under the pixel positions `at`, rotated when `rotate`; when there are
/// more than fit, every k-th is drawn.
pub fn slot_labels(root: &Area, at: &[(i32, i32)], labels: &[String], rotate: bool) -> Result<()> {
    // Every k-th label, so neighbours keep a line (rotated) or their width (level) apart.
    let longest = labels
        .iter()
        .map(|l| style::short(l).chars().count())
        .max()
        .unwrap_or(0) as f64;
    let need = if rotate { 16.0 } else { longest * 7.0 + 8.0 };
    let spacing = match at {
        [a, b, ..] => f64::from((b.0 - a.0).abs().max(1)),
        _ => need,
    };
    let step = ((need / spacing).ceil() as usize).max(1);
    for (i, (label, &(px, py))) in labels.iter().zip(at).enumerate() {
        if i % step != 0 {
            continue;
        }
        let t = if rotate {
            text_style(style::SMALL)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center))
        } else {
            text_style(style::SMALL).pos(Pos::new(HPos::Center, VPos::Top))
        };
        drawn(root.draw(&Text::new(style::short(label), (px, py + 6), t)))?;
    }
    Ok(())
}

/// The width left of a plot for its y tick labels and the axis title, from the longest
/// label the axis can write between `lo` and `hi`.
pub fn y_label_area(format: AxisFormat, lo: f64, hi: f64) -> u32 {
    let longest = [lo, hi, (lo + hi) / 2.0, hi * 0.9]
        .iter()
        .map(|v| format.tick(*v).chars().count())
        .max()
        .unwrap_or(0) as u32;
    (longest * 7 + 32).max(44)
}

/// How values map to colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourScale {
    #[default]
    Linear,
    Log,
}

/// A colour scale over the finite values of `values`.
pub struct Colours {
    pub min: f64,
    pub max: f64,
    pub scale: ColourScale,
}

impl Colours {
    pub fn new(values: impl Iterator<Item = f64>, scale: ColourScale) -> Colours {
        let (mut min, mut max) = (f64::MAX, f64::MIN);
        for v in values.filter(|v| v.is_finite() && (scale == ColourScale::Linear || *v > 0.0)) {
            min = min.min(v);
            max = max.max(v);
        }
        if min > max {
            (min, max) = (0.0, 1.0);
        }
        Colours { min, max, scale }
    }

    /// Position 0–1 of `v` on the scale (log: values ≤ 0 sit at the bottom).
    pub fn position(&self, v: f64) -> f64 {
        let t = match self.scale {
            ColourScale::Linear => (v - self.min) / (self.max - self.min),
            ColourScale::Log if v <= 0.0 => 0.0,
            ColourScale::Log => (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln()),
        };
        if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.5
        }
    }

    pub fn colour(&self, v: f64) -> RGBColor {
        ramp(self.position(v))
    }

    /// A horizontal gradient legend at (x, y) with the range's ends written under it, and
    /// the swatch of cells without data beside it.
    pub fn legend(
        &self,
        root: &Area,
        (x, y): (i32, i32),
        format: AxisFormat,
        marks: &mut Marks,
    ) -> Result<()> {
        let (w, h, steps) = (150, 10, 30);
        let (lo, hi) = (format.exact(self.min), format.exact(self.max));
        let scale = match self.scale {
            ColourScale::Linear => "",
            ColourScale::Log => ", log scale",
        };
        {
            let mut ramp_mark = marks.group(&format!("Colour scale: {lo} to {hi}{scale}"));
            for i in 0..steps {
                let x0 = x + i * w / steps;
                let x1 = x + (i + 1) * w / steps;
                let c = ramp(i as f64 / (steps - 1) as f64);
                ramp_mark.rect((x0, y), (x1, y + h), Paint::Fill(c));
            }
        }
        let small = text_style(style::SMALL);
        drawn(root.draw(&Text::new(
            format.tick(self.min),
            (x, y + h + 3),
            small.clone(),
        )))?;
        let right = small.clone().pos(Pos::new(HPos::Right, VPos::Top));
        let top = match self.scale {
            ColourScale::Linear => format.tick(self.max),
            ColourScale::Log => format!("{} (log)", format.tick(self.max)),
        };
        drawn(root.draw(&Text::new(top, (x + w, y + h + 3), right)))?;
        let gap = x + w + 40;
        marks.rect(
            (gap, y),
            (gap + 12, y + h),
            Paint::Outline(style::GRID),
            "no data",
        );
        drawn(root.draw(&Text::new("no data", (gap + 18, y - 1), small)))?;
        Ok(())
    }
}

/// Viridis (perceptually uniform, readable for colour-blind readers, light to dark reversed so
/// low values are pale): five stops, linearly interpolated.
pub fn ramp(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (253.0, 231.0, 37.0),
        (94.0, 201.0, 98.0),
        (33.0, 145.0, 140.0),
        (59.0, 82.0, 139.0),
        (68.0, 1.0, 84.0),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The plotting context of the x/y charts: numbers on both axes.
pub type Plot<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The axes every x/y chart shares: a y grid only, grey axes, labels in the chart font, six y
/// ticks, and the axis titles. Each chart adds its tick counts and formatters, then draws.
pub fn axes<'a, 'b>(
    chart: &'b mut Plot<'a>,
    x_desc: String,
    y_desc: String,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, SVGBackend<'a>> {
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(style::AXIS)
        .label_style(text_style(style::SMALL))
        .axis_desc_style(text_style(style::FONT_SIZE))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_labels(6);
    mesh
}

/// Text `size` px high as the page shows it (plotters takes a line height: 1.24 em).
pub fn text_style(size: f64) -> TextStyle<'static> {
    (style::FONT, size * style::LINE_HEIGHT)
        .into_font()
        .color(&style::TEXT)
}

/// Maps plotters' errors (which carry no context) into anyhow.
pub fn drawn<T, E: std::fmt::Display>(r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| anyhow!("drawing failed: {e}"))
}

/// How many rows a legend of `names` takes on `canvas` (the last says "… n more" when they do
/// not all fit).
pub fn legend_rows(canvas: style::Canvas, names: usize) -> usize {
    let max = if canvas.narrow() {
        8
    } else {
        ((style::WIDE.height - 30) / style::LEGEND_ROW) as usize
    };
    names.min(max)
}

/// The height of a drawing whose plot is `plot` high, with the legend a narrow canvas puts
/// under it.
pub fn with_legend(canvas: style::Canvas, plot: u32, legend: Option<&[String]>) -> u32 {
    match legend {
        Some(names) if canvas.narrow() => {
            plot + 8 + style::LEGEND_ROW * legend_rows(canvas, names.len()) as u32
        }
        _ => plot,
    }
}

/// The drawing split into the plot and, when there is a legend, the legend's area: at the
/// right of a wide chart, under a narrow one (`plot` high).
pub fn split_legend<'a>(
    root: &Area<'a>,
    canvas: style::Canvas,
    plot: u32,
    legend: bool,
) -> (Area<'a>, Option<Area<'a>>) {
    if !legend {
        (root.clone(), None)
    } else if canvas.narrow() {
        let (p, l) = root.split_vertically(plot);
        (p, Some(l))
    } else {
        let (p, l) = root.split_horizontally(canvas.width - style::LEGEND_WIDTH);
        (p, Some(l))
    }
}

/// The width the plot of a chart gets beside its legend.
pub fn plot_width(canvas: style::Canvas, legend: bool) -> u32 {
    if legend && !canvas.narrow() {
        canvas.width - style::LEGEND_WIDTH
    } else {
        canvas.width
    }
}

/// Draws a legend of coloured swatches in `area`, one row per name; each swatch is a mark
/// titled with its series' whole name.
pub fn legend(
    area: &Area,
    canvas: style::Canvas,
    names: &[String],
    marks: &mut Marks,
) -> Result<()> {
    let (bx, by) = area.get_base_pixel();
    let row = style::LEGEND_ROW as i32;
    let max_rows = legend_rows(canvas, names.len());
    for (i, name) in names.iter().enumerate().take(max_rows) {
        let y = if canvas.narrow() { 16 } else { 20 } + i as i32 * row;
        let more = i + 1 == max_rows && names.len() > max_rows;
        let label = if more {
            format!("… {} more", names.len() - i)
        } else {
            style::short(name)
        };
        if !more {
            marks.rect(
                (bx + 8, by + y - 6),
                (bx + 20, by + y + 6),
                Paint::Fill(style::colour(i)),
                name,
            );
        }
        drawn(area.draw(&Text::new(label, (26, y - 7), text_style(style::SMALL))))?;
    }
    Ok(())
}

/// A chart that has nothing to draw says so instead.
pub fn empty(meta: &Meta, note: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let width = meta.canvas.width;
        let root = SVGBackend::with_string(&mut svg, (width, 120)).into_drawing_area();
        drawn(root.draw(&Text::new(
            note.to_string(),
            (width as i32 / 2 - 4 * note.len() as i32, 50),
            text_style(style::FONT_SIZE + 2.0),
        )))?;
        drawn(root.present())?;
    }
    Ok(wrap(&svg, meta))
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces plotters' `<svg …>` tag with an accessible one carrying `<title>` and `<desc>`.
pub fn wrap(svg: &str, meta: &Meta) -> String {
    let (open, rest) = match svg.find('>') {
        Some(i) => (&svg[..i], &svg[i + 1..]),
        None => ("", svg),
    };
    let attr = |name: &str| -> String {
        let key = format!("{name}=\"");
        open.find(&key)
            .and_then(|i| {
                let v = &open[i + key.len()..];
                v.find('"').map(|j| v[..j].to_string())
            })
            .unwrap_or_default()
    };
    let (w, h) = (attr("width"), attr("height"));
    let id = escape(&meta.id);
    let class = if meta.canvas.narrow() {
        "chart narrow"
    } else {
        "chart wide"
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>{rest}",
        escape(&meta.title),
        escape(&meta.description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart of `kind` from TOML keys.
    fn chart(kind: &str, keys: &str) -> Option<Result<Chart>> {
        Chart::parse(
            kind,
            crate::problem::table_value(toml::de::DeTable::parse(keys).expect("TOML")),
        )
    }

    fn day(s: &str) -> i32 {
        (chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day")
            - chrono::NaiveDate::default())
        .num_days() as i32
    }

    #[test]
    fn a_period_the_data_does_not_cover_whole_is_partial() {
        let range = (day("2023-05-03"), day("2023-08-28"));
        // Weeks from Monday: the first starts before the data, the last ends after it.
        assert_eq!(Period::Week.partial(day("2023-05-01"), range), Some((5, 7)));
        assert_eq!(Period::Week.partial(day("2023-05-08"), range), None);
        assert_eq!(Period::Week.partial(day("2023-08-28"), range), Some((1, 7)));
        // Months have their own lengths.
        assert_eq!(
            Period::Month.partial(day("2023-08-01"), range),
            Some((28, 31))
        );
        assert_eq!(Period::Month.partial(day("2023-06-01"), range), None);
        assert_eq!(
            Period::Month.partial(day("2024-02-01"), (day("2024-02-01"), day("2024-02-28"))),
            Some((28, 29))
        );
    }

    #[test]
    fn a_partial_last_week_is_drawn_dashed_with_a_hollow_point() {
        let t = Table {
            columns: vec![
                crate::query::Column {
                    name: "week".into(),
                    kind: Kind::Date,
                },
                crate::query::Column {
                    name: "n".into(),
                    kind: Kind::Int,
                },
            ],
            rows: ["2023-08-14", "2023-08-21", "2023-08-28"]
                .iter()
                .zip([80, 79, 19])
                .map(|(d, n)| vec![Value::Date(day(d)), Value::Int(n)])
                .collect(),
        };
        let c = chart("line", "x = 'week'\ny = 'n'\nperiod = 'week'")
            .expect("a kind")
            .expect("valid keys");
        let svg = |range: Option<(i32, i32)>| {
            let meta = Meta {
                id: "w".into(),
                title: "Weekly".into(),
                description: "Weekly".into(),
                data_range: range,
                canvas: crate::chart::style::WIDE,
            };
            c.render(&t, &meta).expect("renders").expect("an svg")
        };
        let whole = svg(Some((day("2023-08-14"), day("2023-09-03"))));
        let partial = svg(Some((day("2023-08-14"), day("2023-08-28"))));
        let hollow = |s: &str| {
            s.split("<circle")
                .skip(1)
                .filter(|c| {
                    c.split('>')
                        .next()
                        .is_some_and(|e| e.contains("fill=\"none\""))
                })
                .count()
        };
        assert_eq!(hollow(&whole), 0);
        assert_eq!(hollow(&partial), 1, "{partial}");
        // The dashes are short lines of their own: more of them than the whole line's one.
        assert!(
            partial.matches("<polyline").count() > whole.matches("<polyline").count() + 2,
            "{partial}"
        );
        // Without the data's range nothing is partial.
        assert_eq!(hollow(&svg(None)), 0);
    }

    #[test]
    fn a_partial_last_week_is_pale_as_a_bar_and_dashed_as_a_heatmap_column() {
        let col = |name: &str, kind| crate::query::Column {
            name: name.into(),
            kind,
        };
        let t = Table {
            columns: vec![
                col("week", Kind::Date),
                col("bucket", Kind::Text),
                col("n", Kind::Int),
            ],
            rows: ["2023-08-14", "2023-08-21", "2023-08-28"]
                .iter()
                .zip([80, 79, 19])
                .map(|(d, n)| vec![Value::Date(day(d)), Value::Text("a".into()), Value::Int(n)])
                .collect(),
        };
        let svg = |kind: &str, keys: &str, range: Option<(i32, i32)>| {
            let c = chart(kind, keys).expect("a kind").expect("valid keys");
            let meta = Meta {
                id: "w".into(),
                title: "Weekly".into(),
                description: "Weekly".into(),
                data_range: range,
                canvas: crate::chart::style::WIDE,
            };
            c.render(&t, &meta).expect("renders").expect("an svg")
        };
        let (whole, partial) = (
            Some((day("2023-08-14"), day("2023-09-03"))),
            Some((day("2023-08-14"), day("2023-08-28"))),
        );
        let bar = "x = 'week'\ny = 'n'\nperiod = 'week'";
        assert!(!svg("bar", bar, whole).contains("fill-opacity"));
        let pale = svg("bar", bar, partial);
        assert_eq!(pale.matches("fill-opacity=\"0.4\"").count(), 1, "{pale}");
        assert!(pale.contains("<title>2023-08-28 (partial week: 1 of 7 days): 19</title>"));
        let heat = "x = 'week'\ny = 'bucket'\nvalue = 'n'\nperiod = 'week'";
        assert!(!svg("heatmap", heat, whole).contains("stroke-dasharray"));
        let dashed = svg("heatmap", heat, partial);
        assert_eq!(dashed.matches("stroke-dasharray").count(), 1, "{dashed}");
        assert!(dashed.contains("<title>2023-08-28: a partial week, 1 of 7 days</title>"));
        // Without `period` nothing is partial.
        assert!(!svg("bar", "x = 'week'\ny = 'n'", partial).contains("fill-opacity"));
    }

    #[test]
    fn every_kind_is_read_by_its_name() {
        let keys = [
            "x = 'd'\ny = 'n'",
            "x = 'd'\ny = 'n'",
            "x = 'd'\ny = 'n'\nseries = 's'",
            "value = 'n'",
            "x = 'd'\ny = 's'\nvalue = 'n'",
            "date = 'd'\nvalue = 'n'",
            "group = 'g'",
            "value = 'n'",
            "",
        ];
        for (kind, keys) in KINDS.into_iter().zip(keys) {
            let c = chart(kind, keys).expect("a kind").expect("valid keys");
            assert_eq!(c.kind(), kind);
        }
        assert!(chart("pie", "").is_none());
    }

    #[test]
    fn each_kind_says_what_its_columns_need() {
        use Need::{Any, Numeric, Temporal};
        let needs = |kind: &str, keys: &str, want: &[(&str, Need)]| {
            let c = chart(kind, keys).expect("a kind").expect("valid keys");
            let got: Vec<(&str, Need)> =
                c.columns().iter().map(|(k, _)| (*k, c.needs(k))).collect();
            assert_eq!(got, want, "{kind}: {keys}");
        };
        let xy = "x = 'a'\ny = 'b'\nseries = 'c'";
        for kind in ["line", "bar", "area"] {
            needs(kind, xy, &[("x", Any), ("y", Numeric), ("series", Any)]);
        }
        needs(
            "histogram",
            "value = 'a'\ngroup = 'b'",
            &[("value", Numeric), ("group", Any)],
        );
        needs(
            "histogram",
            "bucket = 'a'\ncount = 'b'",
            &[("bucket", Any), ("count", Numeric)],
        );
        needs(
            "heatmap",
            "x = 'a'\ny = 'b'\nvalue = 'c'",
            &[("x", Any), ("y", Any), ("value", Numeric)],
        );
        needs(
            "calendar",
            "date = 'a'\nvalue = 'b'",
            &[("date", Temporal), ("value", Numeric)],
        );
        needs(
            "box",
            "group = 'a'",
            &[
                ("group", Any),
                ("low", Numeric),
                ("q1", Numeric),
                ("median", Numeric),
                ("q3", Numeric),
                ("high", Numeric),
            ],
        );
        needs(
            "number",
            "value = 'a'\nprevious = 'b'",
            &[("value", Numeric), ("previous", Numeric)],
        );
        needs(
            "table",
            "columns = ['a', 'b']",
            &[("columns", Any), ("columns", Any)],
        );
    }

    #[test]
    fn two_drawings_with_the_union_of_their_bounds_share_their_axes() {
        let table = |values: &[(&str, i64)]| Table {
            columns: vec![
                crate::query::Column {
                    name: "shell".into(),
                    kind: Kind::Text,
                },
                crate::query::Column {
                    name: "sessions".into(),
                    kind: Kind::Int,
                },
            ],
            rows: values
                .iter()
                .map(|(s, n)| vec![Value::Text(s.to_string()), Value::Int(*n)])
                .collect(),
        };
        let (small, large) = (
            table(&[("bash", 3), ("zsh", 4)]),
            table(&[("bash", 300), ("zsh", 400)]),
        );
        let meta = Meta {
            id: "c".into(),
            title: "Shells".into(),
            description: "Shells".into(),
            data_range: None,
            canvas: crate::chart::style::WIDE,
        };
        let texts = |svg: &str| -> Vec<String> {
            svg.split("</text>")
                .filter_map(|t| t.rsplit('>').next().map(String::from))
                .collect()
        };
        for (kind, keys) in [
            ("bar", "x = 'shell'\ny = 'sessions'"),
            ("line", "x = 'shell'\ny = 'sessions'"),
        ] {
            let c = chart(kind, keys).expect("kind").expect("keys");
            let (alone, a) = c
                .render_within(&small, &meta, Bounds::default())
                .expect("draws");
            let (_, b) = c
                .render_within(&large, &meta, Bounds::default())
                .expect("draws");
            assert_eq!(a.y, Some((0.0, 4.0)), "{kind}");
            assert_eq!(
                alone,
                c.render(&small, &meta).expect("draws"),
                "{kind}: no bounds, the site's chart"
            );
            let shared = a.union(b);
            let (x, _) = c.render_within(&small, &meta, shared).expect("draws");
            let (y, _) = c.render_within(&large, &meta, shared).expect("draws");
            let (x, y) = (x.expect("svg"), y.expect("svg"));
            assert_eq!(texts(&x), texts(&y), "{kind}: the same ticks on both");
            assert_ne!(
                texts(&x),
                texts(&alone.expect("svg")),
                "{kind}: the axis grew"
            );
        }
    }

    #[test]
    fn a_spec_is_checked_when_it_is_read() {
        let err = chart("line", "x = 'd'\ny = 'n'\ncolour = 'red'")
            .expect("a kind")
            .expect_err("unknown key");
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
        let err = chart("histogram", "value = 'n'\nbins = 3\nbin_width = 2.0")
            .expect("a kind")
            .expect_err("conflicting keys");
        assert!(format!("{err:#}").contains("choose one"), "{err:#}");
    }

    #[test]
    fn versions_sort_by_semver() {
        let mut v = vec!["0.10.0", "0.9.0", "0.84.0", "1", "0.9.1-rc1", "0.9.1"];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(v, ["0.9.0", "0.9.1-rc1", "0.9.1", "0.10.0", "0.84.0", "1"]);
        assert!(parse_version("01.02.03").is_some());
        assert!(parse_version("bash").is_none());
    }

    #[test]
    fn explicit_order_keeps_unlisted_in_query_order() {
        let names = vec!["c".to_string(), "a".into(), "b".into()];
        let order = Order::List(vec!["b".into()]);
        assert_eq!(
            order_names(names, &BTreeMap::new(), &order),
            ["b", "c", "a"]
        );
    }

    #[test]
    fn values_format_for_ticks() {
        assert_eq!(format_value(1234.0, ValueFormat::Number), "1,234");
        assert_eq!(format_value(-1234.0, ValueFormat::Number), "-1,234");
        assert_eq!(format_value(25_000.0, ValueFormat::Number), "25k");
        assert_eq!(format_value(0.125, ValueFormat::Percent), "12.5%");
        assert_eq!(format_value(0.5, ValueFormat::Percent), "50%");
        assert_eq!(format_value(1500.0, ValueFormat::DurationMs), "1.5 s");
        assert_eq!(format_value(250.0, ValueFormat::DurationMs), "250 ms");
        assert_eq!(format_value(f64::NAN, ValueFormat::Number), "");
    }

    #[test]
    fn an_axis_writes_every_tick_in_one_unit() {
        let d = AxisFormat::new(ValueFormat::DurationMs, 110_000.0, 140_000.0);
        let ticks: Vec<String> = [110_000.0, 120_000.0, 130_000.0, 140_000.0]
            .iter()
            .map(|v| d.tick(*v))
            .collect();
        assert_eq!(ticks, ["110 s", "120 s", "130 s", "140 s"]);
        let n = AxisFormat::new(ValueFormat::Number, 0.0, 12_000.0);
        assert_eq!(
            [n.tick(0.0), n.tick(8_000.0), n.tick(12_000.0)],
            ["0", "8k", "12k"]
        );
        // A title keeps a count whole; other values get more decimals in the axis's unit.
        assert_eq!(n.exact(12_345.0), "12,345");
        assert_eq!(d.exact(123_456.0), "123.456 s");
        let long = AxisFormat::new(ValueFormat::DurationMs, 0.0, 3_600_000.0);
        assert_eq!([long.tick(0.0), long.tick(900_000.0)], ["0 min", "15 min"]);
        let p = AxisFormat::new(ValueFormat::Percent, 0.0, 1.0);
        assert_eq!([p.tick(0.25), p.exact(0.12345)], ["25%", "12.345%"]);
    }

    #[test]
    fn log_edges_get_the_decimals_that_tell_them_apart() {
        let f = AxisFormat::new(ValueFormat::Number, 0.001, 0.01);
        let edges = [0.001, 0.00125, 0.0016, 0.002, 0.0025];
        let labels = f.distinct(&edges);
        assert_eq!(labels, ["0.001", "0.0013", "0.0016", "0.002", "0.0025"]);
        assert!(labels.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn date_ticks_fall_on_period_starts() {
        // Weeks from Monday 2023-05-29 to Monday 2023-08-14: Mondays, two weeks apart.
        let ticks = date_ticks(
            f64::from(day("2023-05-29")),
            f64::from(day("2023-08-14")),
            Some(Period::Week),
            7,
        )
        .expect("ticks");
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "May 29 2023",
                "Jun 12",
                "Jun 26",
                "Jul 10",
                "Jul 24",
                "Aug 7"
            ]
        );
        for (x, _) in &ticks {
            let d = chrono::DateTime::from_timestamp(*x as i64 * 86_400, 0).expect("day");
            assert_eq!(chrono::Datelike::weekday(&d), chrono::Weekday::Mon);
        }
        // A span starting mid-week starts at the next Monday.
        let t = date_ticks(
            f64::from(day("2023-06-01")),
            f64::from(day("2023-06-30")),
            None,
            7,
        )
        .expect("ticks");
        assert_eq!(t[0].1, "Jun 5 2023");
        // Over a year and a half: the 1st of months, three apart, the year where it changes.
        let t = date_ticks(
            f64::from(day("2023-11-20")),
            f64::from(day("2025-04-02")),
            None,
            7,
        )
        .expect("ticks");
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["Jan 2024", "Apr", "Jul", "Oct", "Jan 2025", "Apr"]);
        // Days, for a short span; nothing for times within a day.
        let t = date_ticks(
            f64::from(day("2024-03-01")),
            f64::from(day("2024-03-05")),
            None,
            7,
        )
        .expect("ticks");
        assert_eq!(t.len(), 5);
        assert_eq!(date_ticks(10.0, 10.5, None, 7), None);
    }

    #[test]
    fn the_wrapper_escapes_title_and_description() {
        let meta = Meta {
            id: "p1".into(),
            title: "<script>alert(1)</script>".into(),
            description: "\"><svg onload=alert(1)>".into(),
            data_range: None,
            canvas: crate::chart::style::WIDE,
        };
        let out = wrap(
            "<svg width=\"10\" height=\"20\" viewBox=\"0 0 10 20\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>",
            &meta,
        );
        assert!(out.contains("viewBox=\"0 0 10 20\""));
        assert!(out.contains("&lt;script&gt;"));
        assert!(!out.contains("<script>"));
        assert!(!out.contains("\"><svg onload"));
    }
}
