//! `histogram`: counts per bin. Either the renderer bins raw values (`value`), with bins you
//! control — `bins` (count), `bin_width`, explicit `edges`, `log` bins — and an open-ended last
//! bin above `max` ("≥ 50"); or the query has binned already (`bucket` + `count`, drawn in the
//! query's order). An optional `group` column overlays groups on the same bins.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use plotters::prelude::*;
use serde::Deserialize;

use crate::query::Table;

use super::marks::{Marks, Paint};
use super::{
    AxisFormat, ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, style, text_style,
};

/// Bins at most; more is an error naming the panel rather than an unreadable chart.
const MAX_BINS: usize = 200;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Histogram {
    /// Numeric column of raw values to bin.
    #[serde(default)]
    pub value: Option<String>,
    /// Pre-binned: column of bucket labels …
    #[serde(default)]
    pub bucket: Option<String>,
    /// … and of their counts.
    #[serde(default)]
    pub count: Option<String>,
    /// Column whose values are overlaid on the same bins (e.g. BuildKit vs Legacy).
    #[serde(default)]
    pub group: Option<String>,
    /// Number of equal-width bins between the smallest value (or `min`) and `max`.
    #[serde(default)]
    pub bins: Option<usize>,
    #[serde(default)]
    pub bin_width: Option<f64>,
    /// Explicit bin edges, ascending.
    #[serde(default)]
    pub edges: Option<Vec<f64>>,
    /// Logarithmic bins (1-2-5 steps) over positive values.
    #[serde(default)]
    pub log: bool,
    #[serde(default)]
    pub min: Option<f64>,
    /// Values at or above `max` fall into one open-ended last bin, "≥ max".
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    /// Format of the bin edges.
    #[serde(default)]
    pub x_format: ValueFormat,
    /// Order of the groups.
    #[serde(default)]
    pub order: Order,
}

/// Bins with their labels and, per group, counts.
struct Binned {
    /// One label per bin, drawn under its middle (pre-binned buckets, the open-ended bin).
    labels: Vec<String>,
    /// Labels of the bin edges, drawn under the boundaries (binned by the renderer).
    edges: Vec<String>,
    /// Each bin's name in its marks' titles: "10 s–20 s", "≥ 60 s", a bucket's label.
    names: Vec<String>,
    groups: Vec<(String, Vec<f64>)>,
    /// Values below the first edge or not positive on a log scale: not drawn, but said.
    outside: usize,
}

impl ChartKind for Histogram {
    const NAME: &'static str = "histogram";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut c = Vec::new();
        for (k, v) in [
            ("value", &self.value),
            ("bucket", &self.bucket),
            ("count", &self.count),
            ("group", &self.group),
        ] {
            if let Some(v) = v {
                c.push((k, v.as_str()));
            }
        }
        c
    }

    fn need(key: &str) -> Need {
        match key {
            "value" | "count" => Need::Numeric,
            _ => Need::Any,
        }
    }

    /// The keys of raw and of pre-binned histograms do not mix; only one way to bin.
    fn validate(&self) -> Result<()> {
        match (&self.value, &self.bucket, &self.count) {
            (Some(_), None, None) => {}
            (None, Some(_), Some(_)) => {
                if self.bins.is_some()
                    || self.bin_width.is_some()
                    || self.edges.is_some()
                    || self.log
                {
                    bail!(
                        "pre-binned histograms (bucket + count) take no bins, bin_width, edges or log"
                    );
                }
            }
            _ => bail!(
                "a histogram needs either `value` (raw values) or both `bucket` and `count` (pre-binned)"
            ),
        }
        let ways = [
            self.bins.is_some(),
            self.bin_width.is_some(),
            self.edges.is_some(),
            self.log,
        ];
        if ways.iter().filter(|w| **w).count() > 1 {
            bail!("choose one of bins, bin_width, edges and log");
        }
        if let Some(e) = &self.edges
            && (e.len() < 2
                || e.windows(2)
                    .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less)))
        {
            bail!("edges must be at least two ascending numbers");
        }
        if matches!(self.bin_width, Some(w) if w.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater))
            || matches!(self.bins, Some(0))
        {
            bail!("bins and bin_width must be positive");
        }
        Ok(())
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let binned = self.bin(data)?;
        if binned.groups.is_empty() || binned.labels.is_empty() {
            return super::empty(meta, "no data for this period").map(Some);
        }
        let n = binned.labels.len();
        let (_, top) = data.y_range(
            0.0,
            binned
                .groups
                .iter()
                .flat_map(|(_, c)| c.iter().copied())
                .fold(0.0, f64::max),
        );
        let top = top.max(1.0) * 1.05;
        let overlay = self.group.is_some();
        let canvas = meta.canvas;
        let names: Vec<String> = binned.groups.iter().map(|(n, _)| n.clone()).collect();
        let legend = overlay.then_some(names.as_slice());
        let plot_width = super::plot_width(canvas, overlay);
        let shown = if binned.edges.is_empty() {
            &binned.labels
        } else {
            &binned.edges
        };
        let (rotate, label_area) = super::label_layout(shown, plot_width);
        let fy = AxisFormat::new(ValueFormat::Number, 0.0, top);
        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let plot_h = canvas.height + label_area.saturating_sub(44);
            let height = super::with_legend(canvas, plot_h, legend);
            let root =
                SVGBackend::with_string(&mut svg, (canvas.width, height)).into_drawing_area();
            let (plot, legend_area) = super::split_legend(&root, canvas, plot_h, overlay);
            let mut chart = drawn(
                ChartBuilder::on(&plot)
                    .margin(12)
                    .x_label_area_size(label_area)
                    .y_label_area_size(super::y_label_area(fy, 0.0, top))
                    .build_cartesian_2d(0f64..n as f64, 0f64..top),
            )?;
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title
                        .clone()
                        .or_else(|| self.value.clone())
                        .or_else(|| self.bucket.clone())
                        .unwrap_or_default(),
                    self.y_title.clone().unwrap_or_else(|| "count".into()),
                )
                .x_labels(0)
                .y_label_formatter(&|v| fy.tick(*v))
                .draw(),
            )?;
            for (gi, (group, counts)) in binned.groups.iter().enumerate() {
                let colour = style::colour(gi);
                // Overlaid groups are translucent so both show where they overlap.
                let paint = if overlay {
                    Paint::Translucent(colour, 0.55)
                } else {
                    Paint::Fill(colour)
                };
                for (i, c) in counts.iter().enumerate().filter(|(_, c)| **c > 0.0) {
                    let title = super::marks::title(
                        legend.map(|_| group.as_str()),
                        &binned.names[i],
                        &fy.exact(*c),
                    );
                    marks.rect(
                        chart.backend_coord(&(i as f64 + 0.04, 0.0)),
                        chart.backend_coord(&(i as f64 + 0.96, *c)),
                        paint,
                        &title,
                    );
                }
            }
            if binned.edges.is_empty() {
                let at: Vec<(i32, i32)> = (0..n)
                    .map(|i| chart.backend_coord(&(i as f64 + 0.5, 0.0)))
                    .collect();
                super::slot_labels(&plot, &at, &binned.labels, rotate)?;
            } else {
                // Edges under the boundaries; the open-ended bin says "≥ …" under its middle.
                let at: Vec<(i32, i32)> = (0..binned.edges.len())
                    .map(|i| chart.backend_coord(&(i as f64, 0.0)))
                    .collect();
                super::slot_labels(&plot, &at, &binned.edges, rotate)?;
                if let Some(open) = binned.labels.last().filter(|l| !l.is_empty()) {
                    let at = [chart.backend_coord(&(n as f64 - 0.5, 0.0))];
                    super::slot_labels(&plot, &at, std::slice::from_ref(open), rotate)?;
                }
            }
            if binned.outside > 0 {
                let note = format!("{} values outside the bins are not drawn", binned.outside);
                drawn(root.draw(&Text::new(note, (80, 4), text_style(style::SMALL))))?;
            }
            if let Some(area) = legend_area {
                super::legend(&area, canvas, &names, &mut marks)?;
            }
            drawn(root.present())?;
        }
        let svg = marks.drawn_into(&svg);
        Ok(Some(super::wrap(&svg, meta)))
    }
}

/// Where each row of raw values falls: the bins' edges, whether the last bin is open-ended,
/// and each row's bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    pub edges: Vec<f64>,
    pub open: bool,
    pub bins: Vec<Bin>,
}

/// The bin of one row of raw values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    /// The row's value falls in bin `i` (the open-ended bin is the last).
    In(usize),
    /// Below the first edge, above the last of bins that are not open-ended, or not positive
    /// on a log scale: counted as outside.
    Outside,
    /// No value (null or NaN).
    Empty,
}

impl Histogram {
    fn edges(&self, values: &[f64]) -> Result<Vec<f64>> {
        let lo = self
            .min
            .unwrap_or_else(|| values.iter().copied().fold(f64::MAX, f64::min));
        let hi = self
            .max
            .unwrap_or_else(|| values.iter().copied().fold(f64::MIN, f64::max));
        let edges = if let Some(e) = &self.edges {
            e.clone()
        } else if self.log {
            let lo = self.min.unwrap_or_else(|| {
                values
                    .iter()
                    .copied()
                    .filter(|v| *v > 0.0)
                    .fold(f64::MAX, f64::min)
            });
            if !(lo > 0.0 && lo.is_finite()) {
                bail!("log bins need positive values");
            }
            // The 1-2-5 sequence: step k is 10^(k div 3) × [1, 2, 5][k mod 3].
            let seq =
                |k: i32| 10f64.powi(k.div_euclid(3)) * [1.0, 2.0, 5.0][k.rem_euclid(3) as usize];
            let mut k = lo.log10().floor() as i32 * 3;
            while seq(k + 1) <= lo {
                k += 1;
            }
            while seq(k) > lo {
                k -= 1;
            }
            let mut e = vec![seq(k)];
            while e[e.len() - 1] < hi && e.len() <= MAX_BINS + 1 {
                k += 1;
                e.push(seq(k));
            }
            if self.max.is_none() && e[e.len() - 1] <= hi {
                k += 1;
                e.push(seq(k));
            }
            e
        } else if let Some(w) = self.bin_width {
            let start = (lo / w).floor() * w;
            // With `max` the last edge is the largest step not above it; without, past every value.
            let steps = ((hi - start) / w).floor() as usize;
            let n = (if self.max.is_some() { steps } else { steps + 1 }).min(MAX_BINS + 1);
            (0..=n).map(|i| start + w * i as f64).collect()
        } else {
            let n = self.bins.unwrap_or(20);
            let hi = if hi > lo { hi } else { lo + 1.0 };
            // Without an open end the largest value belongs to the last bin: widen it a hair.
            let hi = if self.max.is_some() {
                hi
            } else {
                hi + (hi - lo) * 1e-9
            };
            (0..=n)
                .map(|i| lo + (hi - lo) * i as f64 / n as f64)
                .collect()
        };
        if edges.len() > MAX_BINS + 1 {
            bail!(
                "{} bins are more than the {MAX_BINS} a histogram draws; widen the bins",
                edges.len() - 1
            );
        }
        Ok(edges)
    }

    /// Whether the spec bins raw values (`value`) rather than reading pre-binned rows.
    pub fn is_raw(&self) -> bool {
        self.value.is_some()
    }

    /// The bins of the raw values in column `v` of `table` and each row's bin; `None` when no
    /// row has a value.
    pub fn assign(&self, table: &Table, v: usize) -> Result<Option<Assigned>> {
        let values: Vec<f64> = table.rows.iter().filter_map(|r| r[v].as_f64()).collect();
        if values.is_empty() {
            return Ok(None);
        }
        let edges = self.edges(&values)?;
        let open = self.max.is_some()
            || self.edges.is_some() && values.iter().any(|x| *x >= edges[edges.len() - 1]);
        let last = edges.len() - 1 + usize::from(open) - 1;
        let bins = table
            .rows
            .iter()
            .map(|r| match r[v].as_f64() {
                None => Bin::Empty,
                Some(x) if x < edges[0] || (self.log && x <= 0.0) => Bin::Outside,
                Some(x) if x >= edges[edges.len() - 1] => {
                    if open {
                        Bin::In(last)
                    } else {
                        Bin::Outside
                    }
                }
                Some(x) => Bin::In(edges.partition_point(|e| *e <= x) - 1),
            })
            .collect();
        Ok(Some(Assigned { edges, open, bins }))
    }

    /// The same bins as explicit edges, so that leaving rows out does not move them. An
    /// open-ended last bin stays open (`max` is kept).
    pub fn with_edges(&self, edges: Vec<f64>) -> Histogram {
        Histogram {
            edges: Some(edges),
            bins: None,
            bin_width: None,
            log: false,
            ..self.clone()
        }
    }

    fn bin(&self, data: &Data) -> Result<Binned> {
        let table = data.table;
        let group = data.get("group");
        if let (Some(b), Some(c)) = (data.get("bucket"), data.get("count")) {
            let labels = super::axis_values(table, b, &Order::Named(super::OrderName::Query));
            let mut by_group: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            let mut seen = Vec::new();
            for r in &table.rows {
                let name = group.map(|g| r[g].to_string()).unwrap_or_default();
                let Some(i) = labels.iter().position(|l| *l == r[b].to_string()) else {
                    continue;
                };
                if !by_group.contains_key(&name) {
                    seen.push(name.clone());
                }
                by_group
                    .entry(name)
                    .or_insert_with(|| vec![0.0; labels.len()])[i] += r[c].as_f64().unwrap_or(0.0);
            }
            let groups = super::order_names(seen, &BTreeMap::new(), &self.order)
                .into_iter()
                .map(|n| {
                    let counts = by_group.remove(&n).unwrap_or_default();
                    (n, counts)
                })
                .collect();
            return Ok(Binned {
                names: labels.clone(),
                labels,
                edges: Vec::new(),
                groups,
                outside: 0,
            });
        }
        let v = data.index("value")?;
        let Some(assigned) = self.assign(table, v)? else {
            return Ok(Binned {
                labels: Vec::new(),
                edges: Vec::new(),
                names: Vec::new(),
                groups: Vec::new(),
                outside: 0,
            });
        };
        let Assigned { edges, open, bins } = assigned;
        let n = edges.len() - 1 + usize::from(open);
        let mut edge_labels =
            AxisFormat::new(self.x_format, edges[0], edges[edges.len() - 1]).distinct(&edges);
        let mut names: Vec<String> = edge_labels
            .windows(2)
            .map(|w| format!("{}–{}", w[0], w[1]))
            .collect();
        let mut labels = vec![String::new(); edges.len() - 1];
        if open {
            // The open bin's "≥ …" names its lower edge: the boundary keeps no label of its own.
            labels.push(format!("≥ {}", edge_labels.pop().unwrap_or_default()));
            names.extend(labels.last().cloned());
        }
        let mut by_group: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut seen = Vec::new();
        let mut outside = 0;
        for (r, bin) in table.rows.iter().zip(&bins) {
            let i = match bin {
                Bin::In(i) => *i,
                Bin::Outside => {
                    outside += 1;
                    continue;
                }
                Bin::Empty => continue,
            };
            let name = group.map(|g| r[g].to_string()).unwrap_or_default();
            if !by_group.contains_key(&name) {
                seen.push(name.clone());
            }
            by_group.entry(name).or_insert_with(|| vec![0.0; n])[i] += 1.0;
        }
        let groups = super::order_names(seen, &BTreeMap::new(), &self.order)
            .into_iter()
            .map(|name| {
                let counts = by_group.remove(&name).unwrap_or_default();
                (name, counts)
            })
            .collect();
        Ok(Binned {
            labels,
            edges: edge_labels,
            names,
            groups,
            outside,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: &str) -> Histogram {
        toml::from_str(&format!("value = \"v\"\n{extra}")).expect("spec")
    }

    #[test]
    fn edges_by_count_width_log_and_list() {
        let v = [0.0, 10.0, 95.0, 100.0];
        assert_eq!(
            spec("bins = 2\nmax = 100.0").edges(&v).expect("edges"),
            vec![0.0, 50.0, 100.0]
        );
        assert_eq!(
            spec("bin_width = 50.0").edges(&v).expect("edges"),
            vec![0.0, 50.0, 100.0, 150.0]
        );
        assert_eq!(
            spec("edges = [0.0, 5.0]").edges(&v).expect("edges"),
            vec![0.0, 5.0]
        );
        let log = spec("log = true")
            .edges(&[3.0, 40.0, 700.0])
            .expect("edges");
        assert_eq!(
            log,
            vec![2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
    }

    #[test]
    fn keys_that_conflict_are_errors() {
        assert!(spec("bins = 3\nbin_width = 2.0").validate().is_err());
        assert!(spec("edges = [2.0, 1.0]").validate().is_err());
        let h: Histogram = toml::from_str("bucket = \"b\"").expect("spec");
        assert!(h.validate().is_err());
    }
}
