//! `bar`: a value per category, grouped or stacked by series. Categories are the x column's
//! values as text (versions in semver order unless `order` says otherwise).

use anyhow::Result;
use plotters::prelude::*;
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{AxisFormat, ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, style};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bar {
    /// Column whose values are the categories.
    pub x: String,
    /// Numeric column: the bar heights.
    pub y: String,
    /// Column whose values split each category into coloured bars.
    #[serde(default)]
    pub series: Option<String>,
    /// Stack the series instead of placing them side by side.
    #[serde(default)]
    pub stack: bool,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    #[serde(default)]
    pub y_format: ValueFormat,
    /// Order of the categories.
    #[serde(default)]
    pub order: Order,
    /// Order of the series.
    #[serde(default)]
    pub series_order: Order,
    /// x holds the start of each `week` or `month` (dates): one the data does not cover whole
    /// is drawn partial and said in a note.
    #[serde(default)]
    pub period: Option<super::Period>,
}

impl ChartKind for Bar {
    const NAME: &'static str = "bar";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut c = vec![("x", self.x.as_str()), ("y", self.y.as_str())];
        if let Some(s) = &self.series {
            c.push(("series", s));
        }
        c
    }

    fn need(key: &str) -> Need {
        match key {
            "y" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let (x, y, series) = (data.index("x")?, data.index("y")?, data.get("series"));
        let cats = super::categories(table, x, y, &self.order);
        let grouped = super::group(table, x, y, series, &self.series_order);
        if cats.is_empty() || grouped.series.iter().all(|s| s.points.is_empty()) {
            return super::empty(meta, "no data for this period").map(Some);
        }
        let n = grouped.series.len();
        // value[s][c]: summed when a category repeats within a series.
        let mut value = vec![vec![0f64; cats.len()]; n];
        for (s, ser) in grouped.series.iter().enumerate() {
            for (xv, yv) in &ser.points {
                if let Some(c) = cats.iter().position(|c| *c == xv.to_string()) {
                    value[s][c] += yv;
                }
            }
        }
        // Bars as (series, x0, x1, y0, y1) in data coordinates.
        let mut bars = Vec::new();
        let (mut lo, mut hi) = (0f64, 0f64);
        for c in 0..cats.len() {
            let (mut up, mut down) = (0f64, 0f64);
            for (s, row) in value.iter().enumerate() {
                let v = row[c];
                let (a, b, left, right) = if self.stack {
                    let base = if v >= 0.0 { up } else { down };
                    if v >= 0.0 {
                        up += v
                    } else {
                        down += v
                    }
                    (base, base + v, c as f64 + 0.15, c as f64 + 0.85)
                } else {
                    let w = 0.7 / n as f64;
                    let left = c as f64 + 0.15 + w * s as f64;
                    (0.0, v, left, left + w)
                };
                lo = lo.min(a.min(b));
                hi = hi.max(a.max(b));
                bars.push((s, left, right, a, b));
            }
        }
        (lo, hi) = data.y_range(lo, hi);
        if hi <= lo {
            hi = lo + 1.0;
        }
        let pad = (hi - lo) * 0.05;
        let (lo, hi) = (if lo < 0.0 { lo - pad } else { lo }, hi + pad);

        let canvas = meta.canvas;
        let names: Vec<String> = grouped.series.iter().map(|s| s.name.clone()).collect();
        let legend = series.is_some().then_some(names.as_slice());
        let plot_width = super::plot_width(canvas, legend.is_some());
        let (rotate, label_area) = super::label_layout(&cats, plot_width);
        let fy = AxisFormat::new(self.y_format, lo, hi);
        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let plot_h = canvas.height + if rotate { label_area - 44 } else { 0 };
            let height = super::with_legend(canvas, plot_h, legend);
            let root =
                SVGBackend::with_string(&mut svg, (canvas.width, height)).into_drawing_area();
            let (plot, legend_area) = super::split_legend(&root, canvas, plot_h, legend.is_some());
            let mut chart = drawn(
                ChartBuilder::on(&plot)
                    .margin(12)
                    .x_label_area_size(label_area)
                    .y_label_area_size(super::y_label_area(fy, lo, hi))
                    .build_cartesian_2d(0f64..cats.len() as f64, lo..hi),
            )?;
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title.clone().unwrap_or_else(|| self.x.clone()),
                    self.y_title.clone().unwrap_or_else(|| self.y.clone()),
                )
                .x_labels(0)
                .y_label_formatter(&|v| fy.tick(*v))
                .draw(),
            )?;
            for &(s, x0, x1, a, b) in &bars {
                let c = ((x0 + x1) / 2.0).floor() as usize;
                // A period the data does not cover whole is drawn pale.
                let partial = self
                    .period
                    .and_then(|p| Some((p, p.partial_label(&cats[c], meta.data_range)?)));
                let (x_text, paint) = match partial {
                    Some((period, (held, len))) => (
                        format!(
                            "{} (partial {}: {held} of {len} days)",
                            cats[c],
                            period.name()
                        ),
                        Paint::Translucent(style::colour(s), 0.4),
                    ),
                    None => (cats[c].clone(), Paint::Fill(style::colour(s))),
                };
                let title = super::marks::title(
                    legend.map(|_| names[s].as_str()),
                    &x_text,
                    &fy.exact(b - a),
                );
                marks.rect(
                    chart.backend_coord(&(x0, a)),
                    chart.backend_coord(&(x1, b)),
                    paint,
                    &title,
                );
            }
            // Category labels under the axis, rotated when they would overlap.
            let at: Vec<(i32, i32)> = (0..cats.len())
                .map(|i| chart.backend_coord(&(i as f64 + 0.5, lo)))
                .collect();
            super::slot_labels(&plot, &at, &cats, rotate)?;
            if let Some(area) = legend_area {
                super::legend(&area, canvas, &names, &mut marks)?;
            }
            drawn(root.present())?;
        }
        let svg = marks.drawn_into(&svg);
        Ok(Some(super::wrap(&svg, meta)))
    }
}
