//! `box`: percentile bands per group — a whisker from the low to the high percentile, a box
//! from the lower to the upper quartile, a line at the median. The query computes the
//! percentiles (e.g. `approx_percentile_cont`), so the chart shows exactly what it returned.

use anyhow::Result;
use plotters::prelude::*;
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{AxisFormat, ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, style};

fn p5() -> String {
    "p5".into()
}
fn p25() -> String {
    "p25".into()
}
fn p50() -> String {
    "p50".into()
}
fn p75() -> String {
    "p75".into()
}
fn p95() -> String {
    "p95".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxPlot {
    /// Column naming the groups (versions sort by semver).
    pub group: String,
    /// Columns of the five percentiles; by default `p5`, `p25`, `p50`, `p75`, `p95`.
    #[serde(default = "p5")]
    pub low: String,
    #[serde(default = "p25")]
    pub q1: String,
    #[serde(default = "p50")]
    pub median: String,
    #[serde(default = "p75")]
    pub q3: String,
    #[serde(default = "p95")]
    pub high: String,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    #[serde(default)]
    pub y_format: ValueFormat,
    #[serde(default)]
    pub order: Order,
}

impl ChartKind for BoxPlot {
    const NAME: &'static str = "box";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("group", &self.group),
            ("low", &self.low),
            ("q1", &self.q1),
            ("median", &self.median),
            ("q3", &self.q3),
            ("high", &self.high),
        ]
    }

    fn need(key: &str) -> Need {
        match key {
            "low" | "q1" | "median" | "q3" | "high" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let idx = ["group", "low", "q1", "median", "q3", "high"]
            .map(|key| data.index(key))
            .into_iter()
            .collect::<Result<Vec<usize>>>()?;
        let groups = super::axis_values(table, idx[0], &self.order);
        // (group position, [low, q1, median, q3, high]); rows with a null percentile are left out.
        let mut boxes = Vec::new();
        for r in &table.rows {
            let Some(g) = groups.iter().position(|g| *g == r[idx[0]].to_string()) else {
                continue;
            };
            let vals: Option<Vec<f64>> = idx[1..].iter().map(|&i| r[i].as_f64()).collect();
            if let Some(mut v) = vals {
                v.sort_by(f64::total_cmp); // a query that mixes up its columns still draws a box
                boxes.push((g, v));
            }
        }
        if boxes.is_empty() {
            return super::empty(meta, "no data for this period").map(Some);
        }
        let lo = boxes
            .iter()
            .map(|(_, v)| v[0])
            .fold(f64::MAX, f64::min)
            .min(0.0);
        let hi = boxes.iter().map(|(_, v)| v[4]).fold(f64::MIN, f64::max);
        let (lo, hi) = data.y_range(lo, hi);
        let hi = if hi > lo {
            hi + (hi - lo) * 0.05
        } else {
            lo + 1.0
        };
        let canvas = meta.canvas;
        let (rotate, label_area) = super::label_layout(&groups, canvas.width);
        let fy = AxisFormat::new(self.y_format, lo, hi);
        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let height = canvas.height + label_area.saturating_sub(44);
            let root =
                SVGBackend::with_string(&mut svg, (canvas.width, height)).into_drawing_area();
            let mut chart = drawn(
                ChartBuilder::on(&root)
                    .margin(12)
                    .x_label_area_size(label_area)
                    .y_label_area_size(super::y_label_area(fy, lo, hi))
                    .build_cartesian_2d(0f64..groups.len() as f64, lo..hi),
            )?;
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title.clone().unwrap_or_else(|| self.group.clone()),
                    self.y_title.clone().unwrap_or_default(),
                )
                .x_labels(0)
                .y_label_formatter(&|v| fy.tick(*v))
                .draw(),
            )?;
            let colour = style::colour(0);
            for (g, v) in &boxes {
                let c = *g as f64 + 0.5;
                let at = |x: f64, y: f64| chart.backend_coord(&(x, y));
                let e: Vec<String> = v.iter().map(|x| fy.exact(*x)).collect();
                let title = format!(
                    "{}: low {}, lower quartile {}, median {}, upper quartile {}, high {}",
                    groups[*g], e[0], e[1], e[2], e[3], e[4]
                );
                let mut mark = marks.group(&title);
                mark.line(at(c, v[0]), at(c, v[4]), colour, 1);
                for end in [v[0], v[4]] {
                    mark.line(at(c - 0.12, end), at(c + 0.12, end), colour, 1);
                }
                mark.rect(
                    at(c - 0.3, v[1]),
                    at(c + 0.3, v[3]),
                    Paint::Translucent(colour, 0.35),
                )
                .rect(at(c - 0.3, v[1]), at(c + 0.3, v[3]), Paint::Outline(colour))
                .line(at(c - 0.3, v[2]), at(c + 0.3, v[2]), colour, 3);
            }
            let at: Vec<(i32, i32)> = (0..groups.len())
                .map(|i| chart.backend_coord(&(i as f64 + 0.5, lo)))
                .collect();
            super::slot_labels(&root, &at, &groups, rotate)?;
            drawn(root.present())?;
        }
        let svg = marks.drawn_into(&svg);
        Ok(Some(super::wrap(&svg, meta)))
    }
}
