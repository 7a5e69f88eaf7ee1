//! Privacy: the guard between a panel's query result and everything published from it (its
//! chart, its HTML table, its CSV, and what `report diff` prints).
//!
//! [`guard`] is the one entry: every panel goes through it, so a new query cannot bypass it.
//! It
//! 1. reduces every free string to what may be published ([`scrub`]: first line, an
//!    exception's class, the first word of long text; paths, e-mails, hosts, URLs and
//!    token-like strings replaced);
//! 2. learns how many distinct installations stand behind each cell: from an `installations`
//!    column (a count per row, e.g. `count(DISTINCT user_id) AS installations`) or an
//!    `installation` column (one installation key per row, e.g. `user_id AS installation`,
//!    which is never published). A panel with neither fails unless it is declared
//!    `privacy = "public: <reason>"`;
//! 3. suppresses every cell (a row; a bin of a raw-value histogram) with fewer than
//!    `[privacy] min_installations`, plus as many more as needed so that what the suppressed
//!    cells of a group hold together stands for at least that many installations: subtracting
//!    the visible cells from a total gives only that sum (complementary suppression);
//! 4. folds a group's suppressed rows into one "Other" row where the chart has a text label
//!    and an integer measure, and leaves them out elsewhere, and says so in the panel's notes.
//!
//! A group is the set of cells a total runs over: the series of one x (line, bar, area), one
//! heatmap column, one histogram group, or the whole panel.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use anyhow::{Result, bail};
use regex::Regex;

use crate::chart::Chart;
use crate::chart::histogram::{Bin, Histogram};
use crate::config::PrivacySettings;
use crate::definition::Panel;
use crate::query::{Column, Kind, Table, Value};

/// The column that counts the distinct installations behind a row.
pub const INSTALLATIONS: &str = "installations";
/// The column that names the installation behind a row (never published).
pub const INSTALLATION: &str = "installation";
/// The label of the row suppressed rows are folded into.
pub const OTHER: &str = "Other";

/// What a panel publishes once guarded.
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    /// The spec the chart is drawn with (a raw-value histogram gets its bins as fixed edges,
    /// so that leaving rows out does not move them).
    pub chart: Chart,
    /// The rows the chart is drawn from.
    pub drawn: Table,
    /// The rows of the HTML table and the CSV: `drawn`, except for a raw-value histogram,
    /// whose published data are its bins (a raw row is one installation's).
    pub published: Table,
    /// What the guard did, said under the chart.
    pub notes: Vec<String>,
}

/// Why `panel` cannot be guarded over a result with `columns`, or `None` when it can.
pub fn requirement(panel: &Panel, columns: &[Column]) -> Option<String> {
    if panel.privacy.is_some() {
        return None;
    }
    match columns.iter().find(|c| c.name == INSTALLATIONS) {
        Some(c) if c.kind != Kind::Int => {
            return Some(format!(
                "column {INSTALLATIONS:?} of query {} must be an integer (a count of distinct installations)",
                panel.query
            ));
        }
        Some(_) => return None,
        None => {}
    }
    if columns.iter().any(|c| c.name == INSTALLATION) {
        return None;
    }
    Some(format!(
        "query {} does not say how many installations stand behind each row: add a column \
         `count(DISTINCT user_id) AS {INSTALLATIONS}` (or `user_id AS {INSTALLATION}` for one row \
         per installation or event; PACE `id`, devstack `user`, Go `count(DISTINCT x)` reports), \
         or declare the panel `privacy = \"public: <reason>\"`",
        panel.query
    ))
}

/// The guard: what `panel` may publish of `table`. Errors name what is missing (see
/// [`requirement`]); the caller adds the panel.
pub fn guard(panel: &Panel, table: &Table, policy: PrivacySettings) -> Result<Guarded> {
    if let Some(problem) = requirement(panel, &table.columns) {
        bail!(problem);
    }
    let mut table = table.clone();
    let key = table.index_of(INSTALLATION);
    for row in &mut table.rows {
        for (i, v) in row.iter_mut().enumerate() {
            if Some(i) != key
                && let Value::Text(s) = v
            {
                *s = scrub(s);
            }
        }
    }
    let mut chart = panel.chart.clone();
    let mut notes = Vec::new();
    // A raw-value histogram's bins (`Some(None)`: no value to bin).
    let mut bins: Option<Option<Bins>> = None;
    if panel.privacy.is_none() {
        let behind = Behind::of(&table)?;
        let shape = Shape::of(&panel.chart, &table);
        let cells = match &panel.chart {
            Chart::Histogram(h) if h.is_raw() => {
                let (cells, fixed, assigned) = histogram_cells(h, &table, &shape)?;
                chart = Chart::Histogram(fixed);
                bins = Some(assigned);
                cells
            }
            _ => (0..table.rows.len())
                .map(|r| Cell {
                    rows: vec![r],
                    group: shape.group_key(&table.rows[r]),
                    cross: shape.cross_key(&table.rows[r]),
                })
                .collect(),
        };
        let outcome = suppress(&cells, &behind, policy.min_installations);
        notes.extend(outcome.note(&shape, policy.min_installations));
        table = apply(&table, &cells, &outcome, &shape);
    }
    let published = match (&chart, bins) {
        (Chart::Histogram(h), Some(bins)) => bins_table(h, &table, bins.as_ref()),
        _ => table.clone(),
    };
    let keep_count = panel
        .chart
        .columns()
        .iter()
        .any(|(_, c)| *c == INSTALLATIONS);
    let drawn = without(&table, |name| {
        name == INSTALLATION || (name == INSTALLATIONS && !keep_count)
    });
    let published = without(&published, |name| {
        name == INSTALLATION || (name == INSTALLATIONS && !keep_count)
    });
    Ok(Guarded {
        chart,
        drawn,
        published,
        notes,
    })
}

/// What a site publishes of `panel`'s result `table`: the [`guard`], then
/// [`crate::output::publishable`] over what it draws and what it tables (ids masked, control
/// characters replaced, long text cut), with what that held back of the published rows.
pub fn publish(
    panel: &Panel,
    table: &Table,
    policy: PrivacySettings,
) -> Result<(Guarded, crate::output::Held)> {
    let mut guarded = guard(panel, table, policy)?;
    let (drawn, _) = crate::output::publishable(&guarded.drawn)?;
    let (published, held) = crate::output::publishable(&guarded.published)?;
    guarded.drawn = drawn;
    guarded.published = published;
    Ok((guarded, held))
}

/// How many installations stand behind each row.
enum Behind {
    /// A count per row (`installations`).
    Count(Vec<u64>),
    /// A key per row (`installation`); rows without one count as one unknown installation.
    Keys(Vec<String>),
}

impl Behind {
    fn of(table: &Table) -> Result<Behind> {
        if let Some(i) = table.index_of(INSTALLATIONS) {
            let counts = table
                .rows
                .iter()
                .map(|r| match r[i] {
                    Value::Int(n) => Ok(n.max(0) as u64),
                    Value::Null => Ok(0),
                    ref v => bail!("column {INSTALLATIONS:?} holds {v:?}, not a count"),
                })
                .collect::<Result<_>>()?;
            return Ok(Behind::Count(counts));
        }
        if let Some(i) = table.index_of(INSTALLATION) {
            return Ok(Behind::Keys(
                table.rows.iter().map(|r| r[i].to_string()).collect(),
            ));
        }
        bail!("the result has neither {INSTALLATIONS:?} nor {INSTALLATION:?}")
    }

    /// The installations behind a set of rows: exact for keys; for counts, the largest, which
    /// the distinct installations of the set are at least.
    fn at_least(&self, rows: impl Iterator<Item = usize>) -> u64 {
        match self {
            Behind::Count(c) => rows.map(|r| c[r]).max().unwrap_or(0),
            Behind::Keys(k) => rows.map(|r| k[r].as_str()).collect::<BTreeSet<_>>().len() as u64,
        }
    }
}

/// Which columns of a panel's result label its cells and which group them.
struct Shape {
    /// The text column a folded row is labelled "Other" in, when the panel folds.
    fold: Option<usize>,
    /// The columns whose values make a group: cells of one group add up to one total.
    group: Vec<usize>,
    /// The columns whose values make a cross group, the other axis: one series over every x
    /// (whose total another panel may publish).
    cross: Vec<usize>,
}

impl Shape {
    fn of(chart: &Chart, table: &Table) -> Shape {
        let col = |name: &str| table.index_of(name);
        let text = |i: &usize| table.columns[*i].kind == Kind::Text;
        let int = |name: &str| col(name).is_some_and(|i| table.columns[i].kind == Kind::Int);
        // (label, group column, cross group column, measure) per kind.
        type Parts<'a> = (Option<usize>, Option<usize>, Option<usize>, Option<&'a str>);
        let (label, group, cross, measure): Parts = match chart {
            Chart::Line(c) => match &c.series {
                Some(s) => (col(s), col(&c.x), col(s), Some(&c.y)),
                None => (col(&c.x), None, None, Some(&c.y)),
            },
            Chart::Bar(c) => match &c.series {
                Some(s) => (col(s), col(&c.x), col(s), Some(&c.y)),
                None => (col(&c.x), None, None, Some(&c.y)),
            },
            Chart::Area(c) => (col(&c.series), col(&c.x), col(&c.series), Some(&c.y)),
            Chart::Heatmap(c) => (None, col(&c.x), col(&c.y), None),
            // A raw histogram's cross groups are its bins (see `histogram_cells`).
            Chart::Histogram(c) => (None, c.group.as_deref().and_then(col), None, None),
            Chart::Calendar(_) | Chart::Box(_) | Chart::Number(_) => (None, None, None, None),
            Chart::Table(c) => {
                let shown: Vec<usize> = match &c.columns {
                    Some(names) => names.iter().filter_map(|n| col(n)).collect(),
                    None => (0..table.columns.len()).collect(),
                };
                (shown.into_iter().find(text), None, None, None)
            }
        };
        let fold = label.filter(text).filter(|_| measure.is_none_or(int));
        Shape {
            fold,
            group: group.into_iter().collect(),
            cross: cross.into_iter().collect(),
        }
    }

    fn group_key(&self, row: &[Value]) -> String {
        key(&self.group, row)
    }

    /// The row's cross group, when the panel has a second axis.
    fn cross_key(&self, row: &[Value]) -> Option<String> {
        (!self.cross.is_empty()).then(|| key(&self.cross, row))
    }
}

fn key(columns: &[usize], row: &[Value]) -> String {
    columns
        .iter()
        .map(|&g| row[g].to_string())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// A published unit: the rows behind it (one, or a histogram bin's), its group and its cross
/// group.
struct Cell {
    rows: Vec<usize>,
    group: String,
    cross: Option<String>,
}

/// What [`suppress`] decided.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    /// Suppressed cells (indices into the cells), per group.
    suppressed: BTreeMap<String, Vec<usize>>,
    /// Groups whose suppressed cells together reach the minimum (they may be shown as one).
    foldable: BTreeSet<String>,
    /// Cells below the minimum.
    small: usize,
    /// Cells at or above it suppressed with them.
    complementary: usize,
}

/// Suppresses the cells behind fewer than `k` installations (but more than none), and then,
/// along each axis (a group: the series at one x; a cross group: one series over every x),
/// the smallest others until the suppressed cells of every group and every cross group that
/// has any are at least two and together reach `k`, or the whole line is suppressed. Suppressing along one axis can make
/// a group of the other axis need more, so this repeats until nothing changes.
fn suppress(cells: &[Cell], behind: &Behind, k: u64) -> Outcome {
    let size = |i: usize| behind.at_least(cells[i].rows.iter().copied());
    let together =
        |out: &[usize]| behind.at_least(out.iter().flat_map(|&i| cells[i].rows.iter().copied()));
    let mut out: BTreeSet<usize> = (0..cells.len())
        .filter(|&i| (1..k).contains(&size(i)))
        .collect();
    let mut outcome = Outcome {
        small: out.len(),
        ..Outcome::default()
    };
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut crosses: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        groups.entry(&c.group).or_default().push(i);
        if let Some(cross) = &c.cross {
            crosses.entry(cross).or_default().push(i);
        }
    }
    let suppressed_of = |members: &[usize], out: &BTreeSet<usize>| -> Vec<usize> {
        members
            .iter()
            .copied()
            .filter(|i| out.contains(i))
            .collect()
    };
    loop {
        let mut grew = false;
        for members in groups.values().chain(crosses.values()) {
            let mut inside = suppressed_of(members, &out);
            if inside.is_empty() {
                continue;
            }
            // One suppressed cell in a line of several is the line's total minus the rest.
            while together(&inside) < k || (inside.len() == 1 && members.len() > 1) {
                // The smallest cell left (the last in query order on a tie).
                let next = members
                    .iter()
                    .rev()
                    .copied()
                    .filter(|i| !out.contains(i))
                    .min_by_key(|&i| size(i));
                let Some(next) = next else { break };
                out.insert(next);
                inside.push(next);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    outcome.complementary = out.len() - outcome.small;
    for (group, members) in &groups {
        let inside = suppressed_of(members, &out);
        if inside.is_empty() {
            continue;
        }
        if together(&inside) >= k {
            outcome.foldable.insert(group.to_string());
        }
        outcome.suppressed.insert(group.to_string(), inside);
    }
    outcome
}

impl Outcome {
    fn note(&self, shape: &Shape, k: u64) -> Option<String> {
        if self.small == 0 {
            return None;
        }
        let folds = shape.fold.is_some() && !self.foldable.is_empty();
        let (what, done) = match (self.small, folds) {
            (1, true) => ("1 group", "is folded into “Other”"),
            (_, true) => ("groups", "are folded into “Other”"),
            (1, false) => ("1 cell", "is left out"),
            (_, false) => ("cells", "are left out"),
        };
        let what = if self.small == 1 {
            what.to_string()
        } else {
            format!("{} {what}", self.small)
        };
        let more = match self.complementary {
            0 => String::new(),
            1 => ", with 1 more so that none can be worked out from a total".to_string(),
            n => format!(", with {n} more so that none can be worked out from a total"),
        };
        Some(format!(
            "{what} with fewer than {k} installations {done}{more}."
        ))
    }
}

/// `table` without the suppressed cells' rows; where the shape folds and the suppressed cells
/// of a group reach the minimum, one "Other" row takes their place after the group's last
/// row: the label "Other", the group's values, the sums of integer columns, other columns
/// empty.
fn apply(table: &Table, cells: &[Cell], outcome: &Outcome, shape: &Shape) -> Table {
    let mut gone = vec![false; table.rows.len()];
    let mut other_after: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let label = shape.fold.map(|l| {
        let taken = table.rows.iter().any(|r| r[l].to_string() == OTHER);
        if taken {
            format!("{OTHER} (folded)")
        } else {
            OTHER.to_string()
        }
    });
    for (group, out) in &outcome.suppressed {
        let rows: Vec<usize> = out.iter().flat_map(|&i| cells[i].rows.clone()).collect();
        for &r in &rows {
            gone[r] = true;
        }
        let (Some(l), Some(name)) = (shape.fold, &label) else {
            continue;
        };
        if !outcome.foldable.contains(group) {
            continue;
        }
        let last = cells
            .iter()
            .filter(|c| &c.group == group)
            .flat_map(|c| c.rows.iter().copied())
            .max()
            .unwrap_or(0);
        let first = &table.rows[rows[0]];
        let row = (0..table.columns.len())
            .map(|c| {
                if c == l {
                    Value::Text(name.clone())
                } else if shape.group.contains(&c) {
                    first[c].clone()
                } else if table.columns[c].kind == Kind::Int
                    && table.columns[c].name != INSTALLATION
                {
                    let sum = rows
                        .iter()
                        .filter_map(|&r| match table.rows[r][c] {
                            Value::Int(n) => Some(n),
                            _ => None,
                        })
                        .sum();
                    Value::Int(sum)
                } else {
                    Value::Null
                }
            })
            .collect();
        other_after.insert(last, row);
    }
    let mut rows = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        if !gone[r] {
            rows.push(row.clone());
        }
        if let Some(other) = other_after.remove(&r) {
            rows.push(other);
        }
    }
    Table {
        columns: table.columns.clone(),
        rows,
    }
}

/// A raw-value histogram's cells (one per group and bin), its spec with the bins as fixed
/// edges, and the edges and whether the last bin is open.
type Bins = (Vec<f64>, bool);

fn histogram_cells(
    h: &Histogram,
    table: &Table,
    shape: &Shape,
) -> Result<(Vec<Cell>, Histogram, Option<Bins>)> {
    let value = h.value.as_deref().unwrap_or_default();
    let Some(v) = table.index_of(value) else {
        bail!("value = {value:?} is not a column of the result");
    };
    let Some(assigned) = h.assign(table, v)? else {
        return Ok((Vec::new(), h.clone(), None));
    };
    let mut by_cell: BTreeMap<(String, usize), Vec<usize>> = BTreeMap::new();
    let mut cells = Vec::new();
    for (r, bin) in assigned.bins.iter().enumerate() {
        // Values outside the bins are only counted; they are left out with the bins.
        let i = match bin {
            Bin::In(i) => *i,
            Bin::Outside => usize::MAX,
            Bin::Empty => continue,
        };
        by_cell
            .entry((shape.group_key(&table.rows[r]), i))
            .or_default()
            .push(r);
    }
    // A bin's total over every group is the cross total (none without groups).
    let grouped = h.group.is_some();
    for ((group, bin), rows) in by_cell {
        let cross = grouped.then(|| bin.to_string());
        cells.push(Cell { rows, group, cross });
    }
    let fixed = h.with_edges(assigned.edges.clone());
    Ok((cells, fixed, Some((assigned.edges, assigned.open))))
}

/// The bins of a raw-value histogram as rows: the group (if any), the bin's lower and upper
/// edge (none for the open-ended bin) and its count. Empty bins are left out.
fn bins_table(h: &Histogram, table: &Table, bins: Option<&Bins>) -> Table {
    let (edges, open) = match bins {
        Some((edges, open)) => (edges.as_slice(), *open),
        None => (&[][..], false),
    };
    let fixed = h.with_edges(edges.to_vec());
    let value = h.value.as_deref().and_then(|v| table.index_of(v));
    let group = h.group.as_deref().and_then(|g| table.index_of(g));
    let mut columns = Vec::new();
    if let Some(g) = group {
        columns.push(table.columns[g].clone());
    }
    for name in ["from", "to"] {
        columns.push(Column {
            name: name.into(),
            kind: Kind::Float,
        });
    }
    columns.push(Column {
        name: "count".into(),
        kind: Kind::Int,
    });
    let mut counts: BTreeMap<(usize, usize), (Value, i64)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    if let Some(v) = value
        && !edges.is_empty()
        && let Ok(Some(assigned)) = fixed.assign(table, v)
    {
        for (r, bin) in assigned.bins.iter().enumerate() {
            let Bin::In(i) = bin else { continue };
            let g = group
                .map(|g| table.rows[r][g].clone())
                .unwrap_or(Value::Null);
            let name = g.to_string();
            let gi = order.iter().position(|o| *o == name).unwrap_or_else(|| {
                order.push(name);
                order.len() - 1
            });
            counts.entry((gi, *i)).or_insert((g, 0)).1 += 1;
        }
    }
    let last = edges.len().saturating_sub(1);
    let rows = counts
        .into_iter()
        .map(|((_, i), (g, n))| {
            let mut row = Vec::new();
            if group.is_some() {
                row.push(g);
            }
            row.push(Value::Float(edges[i.min(last)]));
            row.push(if open && i == last {
                Value::Null
            } else {
                Value::Float(edges[i + 1])
            });
            row.push(Value::Int(n));
            row
        })
        .collect();
    Table { columns, rows }
}

/// `table` without the columns `drop` names.
fn without(table: &Table, drop: impl Fn(&str) -> bool) -> Table {
    let keep: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !drop(&table.columns[i].name))
        .collect();
    Table {
        columns: keep.iter().map(|&i| table.columns[i].clone()).collect(),
        rows: table
            .rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    }
}

/// Words past which a string is free text, of which only the first word is published.
const MAX_WORDS: usize = 5;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$").expect("valid regex")
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|/)").expect("valid regex"));
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([a-z][a-z0-9-]*\.)+(com|net|org|io|dev|app|cloud|local|localdomain|internal|lan|corp|home|intra|[a-z]{2})$|^\d{1,3}(\.\d{1,3}){3}(:\d+)?$|^[A-Za-z][A-Za-z0-9.-]*:\d{2,5}$",
    )
    .expect("valid regex")
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_+/=-]{20,}$").expect("valid regex"));

/// What may be published of a free string: its first line; of an exception (`Class: message`)
/// the class; of more than five words the first; and within it every path (absolute, home,
/// `~`, Windows), e-mail address, URL, host name or address and token-like string (20 or more
/// letters and digits mixed) replaced by `‹path›`, `‹email›`, `‹url›`, `‹host›`, `‹token›`.
pub fn scrub(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    let line = match line.find(": ") {
        Some(i) => &line[..i],
        None => line,
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let line = if words.len() > MAX_WORDS {
        words[0]
    } else {
        line
    };
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push_str(&scrub_word(&rest[..end]));
        rest = &rest[end..];
    }
    out
}

/// One whitespace-free word, its surrounding punctuation kept.
fn scrub_word(word: &str) -> String {
    let punct = |c: char| "()[]{}<>,;'\"`".contains(c);
    let core = word.trim_matches(punct);
    if core.is_empty() {
        return word.to_string();
    }
    let start = word.find(core).unwrap_or(0);
    let (before, after) = (&word[..start], &word[start + core.len()..]);
    let placeholder = if URL.is_match(core) && !looks_like_drive(core) {
        Some("‹url›")
    } else if EMAIL.is_match(core) || core.contains('@') && core.contains('.') {
        Some("‹email›")
    } else if is_path(core) {
        Some("‹path›")
    } else if HOST.is_match(core) {
        Some("‹host›")
    } else if TOKEN.is_match(core)
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().any(|c| c.is_ascii_alphabetic())
    {
        Some("‹token›")
    } else {
        None
    };
    match placeholder {
        Some(p) => format!("{before}{p}{after}"),
        None => word.to_string(),
    }
}

fn looks_like_drive(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// An absolute, home-relative or Windows path, or a word holding one (`--file=/home/…`).
fn is_path(s: &str) -> bool {
    const HOMES: [&str; 6] = ["/home/", "/Users/", "/root", "\\Users\\", "/var/", "/tmp/"];
    let starts = |p: &str| {
        (p.starts_with('/') && p.len() > 1)
            || p.starts_with('~')
            || p.starts_with("\\\\")
            || p.starts_with("./")
            || p.starts_with("../")
            || looks_like_drive(p)
    };
    starts(s) || HOMES.iter().any(|h| s.contains(h)) || s.split(['=', ':']).skip(1).any(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, kind: Kind) -> Column {
        Column {
            name: name.into(),
            kind,
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn panel(chart: &str) -> Panel {
        let text = format!("title = 't'\n[[panel]]\ntitle = 'P'\nquery = 'q'\n{chart}");
        let report =
            crate::definition::Report::parse(&text, std::path::Path::new("reports/t.toml"))
                .expect("panel parses");
        report.panels[0].clone()
    }

    /// shell, sessions, installations.
    fn shells(rows: &[(&str, i64, i64)]) -> Table {
        Table {
            columns: vec![
                col("shell", Kind::Text),
                col("sessions", Kind::Int),
                col(INSTALLATIONS, Kind::Int),
            ],
            rows: rows
                .iter()
                .map(|(s, n, i)| vec![text(s), Value::Int(*n), Value::Int(*i)])
                .collect(),
        }
    }

    fn bar() -> Panel {
        panel("chart = 'bar'\nx = 'shell'\ny = 'sessions'")
    }

    fn labels(t: &Table) -> Vec<String> {
        t.rows.iter().map(|r| r[0].to_string()).collect()
    }

    fn sum(t: &Table, c: usize) -> i64 {
        t.rows
            .iter()
            .filter_map(|r| match r[c] {
                Value::Int(n) => Some(n),
                _ => None,
            })
            .sum()
    }

    #[test]
    fn small_groups_fold_into_other_with_the_smallest_large_one() {
        let t = shells(&[
            ("zsh", 900, 70),
            ("bash", 800, 80),
            ("fish", 150, 12),
            ("sh", 40, 6),
            ("tcsh-of-one-person", 3, 1),
        ]);
        let g = guard(&bar(), &t, PrivacySettings::default()).expect("guarded");
        assert_eq!(labels(&g.published), ["zsh", "bash", "Other"]);
        // Other holds the two small shells and fish, the complement: 150 + 40 + 3.
        assert_eq!(g.published.rows[2][1], Value::Int(193));
        // The installations column is the guard's, not published.
        assert_eq!(g.published.columns.len(), 2);
        assert_eq!(g.drawn, g.published);
        assert_eq!(
            g.notes,
            [
                "2 groups with fewer than 10 installations are folded into “Other”, with 1 more so that none can be worked out from a total."
            ]
        );
        // Nothing below the minimum: nothing changes.
        let big = shells(&[("zsh", 900, 70), ("bash", 800, 80)]);
        let g = guard(&bar(), &big, PrivacySettings::default()).expect("guarded");
        assert_eq!(labels(&g.published), ["zsh", "bash"]);
        assert!(g.notes.is_empty());
    }

    #[test]
    fn a_suppressed_cell_is_not_recoverable_from_a_total_and_the_visible_cells() {
        // The total is published elsewhere (sessions per day, say): 1,093 sessions.
        let t = shells(&[("zsh", 900, 70), ("bash", 150, 12), ("sh", 43, 1)]);
        let total = sum(&t, 1);
        for chart in [
            "chart = 'bar'\nx = 'shell'\ny = 'sessions'",
            // Float measure: left out rather than folded.
            "chart = 'calendar'\ndate = 'shell'\nvalue = 'sessions'",
        ] {
            let g = guard(&panel(chart), &t, PrivacySettings::default()).expect("guarded");
            let visible: i64 = g
                .published
                .rows
                .iter()
                .filter(|r| r[0] != text("Other"))
                .filter_map(|r| match r[1] {
                    Value::Int(n) => Some(n),
                    _ => None,
                })
                .sum();
            // What the total minus the visible cells gives is not the one-installation cell's
            // 43 sessions: bash went with it.
            assert_eq!(total - visible, 193, "{chart}");
            assert_ne!(total - visible, 43, "{chart}");
            assert!(!labels(&g.published).contains(&"sh".to_string()));
            assert!(!labels(&g.published).contains(&"bash".to_string()));
        }
    }

    #[test]
    fn groups_of_a_series_chart_are_its_x_values() {
        let t = Table {
            columns: vec![
                col("week", Kind::Text),
                col("version", Kind::Text),
                col("sessions", Kind::Int),
                col(INSTALLATIONS, Kind::Int),
            ],
            rows: vec![
                vec![text("w1"), text("0.83"), Value::Int(50), Value::Int(20)],
                vec![text("w1"), text("0.84"), Value::Int(5), Value::Int(2)],
                vec![text("w1"), text("0.85"), Value::Int(60), Value::Int(30)],
                vec![text("w2"), text("0.84"), Value::Int(70), Value::Int(40)],
                vec![text("w2"), text("0.85"), Value::Int(3), Value::Int(3)],
            ],
        };
        let p = panel("chart = 'line'\nx = 'week'\ny = 'sessions'\nseries = 'version'");
        let g = guard(&p, &t, PrivacySettings::default()).expect("guarded");
        let rows: Vec<(String, String, String)> = g
            .published
            .rows
            .iter()
            .map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string()))
            .collect();
        let row = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        // In w1, 0.84 goes with the smallest other (0.83); in w2 the only other is 0.84, so
        // the whole week is one Other. Then 0.85 of w1 goes too: it would be 0.85's total over
        // both weeks minus its w2 cell's 3 sessions otherwise, and w2's 3 would follow from it.
        assert_eq!(rows, [row("w1", "Other", "115"), row("w2", "Other", "73")]);
    }

    /// What an attacker learns from a guarded series panel, knowing every raw total along both
    /// axes (published by other panels: sessions per week, sessions per version): every cell
    /// a line (a week or a version) leaves as its only unknown, repeated until nothing more
    /// follows.
    fn recoverable(raw: &Table, published: &Table) -> BTreeSet<(String, String)> {
        let cell = |r: &[Value]| (r[0].to_string(), r[1].to_string());
        let all: BTreeSet<_> = raw.rows.iter().map(|r| cell(r)).collect();
        let mut known: BTreeSet<_> = published
            .rows
            .iter()
            .map(|r| cell(r))
            .filter(|c| all.contains(c))
            .collect();
        let visible = known.clone();
        loop {
            let before = known.len();
            for axis in 0..2 {
                let lines: BTreeSet<String> = all
                    .iter()
                    .map(|c| if axis == 0 { c.0.clone() } else { c.1.clone() })
                    .collect();
                for line in lines {
                    let unknown: Vec<_> = all
                        .iter()
                        .filter(|c| (if axis == 0 { &c.0 } else { &c.1 }) == &line)
                        .filter(|c| !known.contains(*c))
                        .cloned()
                        .collect();
                    if let [one] = unknown.as_slice() {
                        known.insert(one.clone());
                    }
                }
            }
            if known.len() == before {
                break;
            }
        }
        known.difference(&visible).cloned().collect()
    }

    #[test]
    fn a_suppressed_cell_is_not_recoverable_from_row_or_column_totals() {
        // Four weeks of four versions; d has one installation in w2.
        let mut rows = Vec::new();
        for (w, week) in ["w1", "w2", "w3", "w4"].iter().enumerate() {
            for (v, version) in ["a", "b", "c", "d"].iter().enumerate() {
                let installations = if (w, v) == (1, 3) {
                    1
                } else {
                    12 + 7 * ((w * 4 + v) as i64 % 5)
                };
                rows.push(vec![
                    text(week),
                    text(version),
                    Value::Int(installations * 3),
                    Value::Int(installations),
                ]);
            }
        }
        let t = Table {
            columns: vec![
                col("week", Kind::Text),
                col("version", Kind::Text),
                col("sessions", Kind::Int),
                col(INSTALLATIONS, Kind::Int),
            ],
            rows,
        };
        for chart in [
            "chart = 'line'\nx = 'week'\ny = 'sessions'\nseries = 'version'",
            "chart = 'heatmap'\nx = 'week'\ny = 'version'\nvalue = 'sessions'",
        ] {
            let g = guard(&panel(chart), &t, PrivacySettings::default()).expect("guarded");
            let learned = recoverable(&t, &g.published);
            assert!(
                !learned.contains(&("w2".to_string(), "d".to_string())),
                "{chart}: the one-installation cell follows from the totals: {learned:?}"
            );
            assert!(learned.is_empty(), "{chart}: {learned:?}");
            // Most of the panel is still published.
            let shown = g
                .published
                .rows
                .iter()
                .filter(|r| r[1] != text(OTHER))
                .count();
            assert!(shown >= 10, "{chart}: only {shown} of 16 cells shown");
        }
    }

    #[test]
    fn shares_and_other_floats_are_left_out_not_folded() {
        let t = Table {
            columns: vec![
                col("command", Kind::Text),
                col("failed_share", Kind::Float),
                col(INSTALLATIONS, Kind::Int),
            ],
            rows: vec![
                vec![text("run"), Value::Float(0.1), Value::Int(50)],
                vec![text("up"), Value::Float(0.2), Value::Int(11)],
                vec![text("secret"), Value::Float(1.0), Value::Int(1)],
            ],
        };
        let p = panel("chart = 'bar'\nx = 'command'\ny = 'failed_share'");
        let g = guard(&p, &t, PrivacySettings::default()).expect("guarded");
        assert_eq!(labels(&g.published), ["run"]);
        assert_eq!(
            g.notes,
            [
                "1 cell with fewer than 10 installations is left out, with 1 more so that none can be worked out from a total."
            ]
        );
    }

    #[test]
    fn installation_keys_count_exactly_and_raw_histograms_publish_bins() {
        // Twelve installations with one build each between 0 and 10 s; five others between
        // 80 and 90 s and five more between 90 and 100 s. Each far bin is too small, but the
        // two together stand for ten installations: both are left out, nothing more.
        let mut rows: Vec<Vec<Value>> = (0..12)
            .map(|i| vec![Value::Float(700.0 * i as f64), text(&format!("u{i}"))])
            .collect();
        for i in 0..5 {
            rows.push(vec![Value::Float(85_000.0), text(&format!("a{i}"))]);
            rows.push(vec![Value::Float(95_000.0), text(&format!("b{i}"))]);
        }
        let t = Table {
            columns: vec![
                col("duration_ms", Kind::Float),
                col(INSTALLATION, Kind::Text),
            ],
            rows,
        };
        let p = panel("chart = 'histogram'\nvalue = 'duration_ms'\nbin_width = 10000.0");
        let g = guard(&p, &t, PrivacySettings::default()).expect("guarded");
        assert_eq!(
            g.notes,
            ["2 cells with fewer than 10 installations are left out."]
        );
        // The chart keeps the bins it had (fixed edges), without the far builds.
        let Chart::Histogram(h) = &g.chart else {
            panic!("histogram")
        };
        assert_eq!(h.edges.as_ref().map(Vec::len), Some(11));
        assert_eq!(g.drawn.rows.len(), 12);
        assert!(g.drawn.index_of(INSTALLATION).is_none());
        // Published: one bin, not the raw rows.
        assert_eq!(
            g.published.rows,
            [vec![
                Value::Float(0.0),
                Value::Float(10000.0),
                Value::Int(12)
            ]]
        );
        // Twelve rows of the same installation are one installation: all left out.
        let mut same = t.clone();
        for r in &mut same.rows {
            r[1] = text("one");
        }
        let g = guard(&p, &same, PrivacySettings::default()).expect("guarded");
        assert!(g.published.rows.is_empty() && g.drawn.rows.is_empty());
    }

    #[test]
    fn every_kind_is_guarded() {
        // One row per kind's shape, behind one installation: nothing of it is published.
        let t = Table {
            columns: vec![
                col("label", Kind::Text),
                col("n", Kind::Int),
                col("p50", Kind::Float),
                col(INSTALLATIONS, Kind::Int),
            ],
            rows: vec![vec![
                text("unique-value"),
                Value::Int(3),
                Value::Float(1.0),
                Value::Int(1),
            ]],
        };
        for chart in [
            "chart = 'line'\nx = 'label'\ny = 'n'",
            "chart = 'bar'\nx = 'label'\ny = 'n'",
            "chart = 'area'\nx = 'n'\ny = 'n'\nseries = 'label'",
            "chart = 'heatmap'\nx = 'n'\ny = 'label'\nvalue = 'n'",
            "chart = 'calendar'\ndate = 'label'\nvalue = 'n'",
            "chart = 'box'\ngroup = 'label'\nlow = 'p50'\nq1 = 'p50'\nmedian = 'p50'\nq3 = 'p50'\nhigh = 'p50'",
            "chart = 'number'\nvalue = 'n'\nlabel = 'x'",
            "chart = 'table'",
            "chart = 'histogram'\nbucket = 'label'\ncount = 'n'",
        ] {
            let g = guard(&panel(chart), &t, PrivacySettings::default()).expect("guarded");
            assert!(g.published.rows.is_empty(), "{chart}: {:?}", g.published);
            assert!(g.drawn.rows.is_empty(), "{chart}");
            assert_eq!(g.notes.len(), 1, "{chart}");
        }
    }

    #[test]
    fn a_panel_that_counts_nothing_fails_unless_declared_public() {
        let t = Table {
            columns: vec![col("shell", Kind::Text), col("sessions", Kind::Int)],
            rows: vec![vec![text("bash"), Value::Int(1)]],
        };
        let err = guard(&bar(), &t, PrivacySettings::default()).expect_err("no installations");
        let text = err.to_string();
        assert!(
            text.contains("count(DISTINCT user_id) AS installations"),
            "{text}"
        );
        assert!(text.contains("privacy = \"public: <reason>\""), "{text}");
        let public =
            panel("privacy = 'public: a total'\nchart = 'bar'\nx = 'shell'\ny = 'sessions'");
        assert_eq!(public.privacy.as_deref(), Some("a total"));
        let g = guard(&public, &t, PrivacySettings::default()).expect("public");
        assert_eq!(g.published, t);
        for wrong in ["yes", "public:  "] {
            let text = format!(
                "title = 't'\n[[panel]]\ntitle = 'P'\nquery = 'q'\nprivacy = '{wrong}'\nchart = 'table'"
            );
            let err = crate::definition::Report::parse(&text, std::path::Path::new("r.toml"))
                .expect_err("not a declaration");
            assert!(format!("{err:#}").contains("public: <reason>"), "{err:#}");
        }
    }

    #[test]
    fn free_text_is_cut_and_scrubbed() {
        for (raw, published) in [
            (
                "java.io.FileNotFoundException: /home/alice/project/batect.yml (No such file)",
                "java.io.FileNotFoundException",
            ),
            ("first line\n\tat io.batect.Main.main", "first line"),
            ("could not read /Users/bob/x", "could not read ‹path›"),
            ("C:\\Users\\carol\\batect", "‹path›"),
            ("~/work/app", "‹path›"),
            ("--config-file=/srv/ci/batect.yml", "‹path›"),
            ("mail dave@example.com now", "mail ‹email› now"),
            ("see https://ci.example.com/job/1", "see ‹url›"),
            ("build-agent-7.corp.example.com", "‹host›"),
            ("10.1.2.3", "‹host›"),
            ("localhost:8080", "‹host›"),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "‹token›"),
            ("one two three four five six seven", "one"),
            // Categories stay as they are.
            ("OpenJDK 64-Bit Server VM", "OpenJDK 64-Bit Server VM"),
            ("2.39.2 (Apple Git-143)", "2.39.2 (Apple Git-143)"),
            ("5.15.0-1041-azure", "5.15.0-1041-azure"),
            ("golang.org/x/tools/gopls", "golang.org/x/tools/gopls"),
            ("go/build/flag/buildmode", "go/build/flag/buildmode"),
            (
                "batect.updates.UpdateInfoStorage.read",
                "batect.updates.UpdateInfoStorage.read",
            ),
            (
                "GenerateShellTabCompletionTaskInformationCommand",
                "GenerateShellTabCompletionTaskInformationCommand",
            ),
            ("pace list data-policies", "pace list data-policies"),
            ("< 100 ms", "< 100 ms"),
        ] {
            assert_eq!(scrub(raw), published, "{raw}");
        }
    }
}
