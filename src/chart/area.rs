//! `area`: stacked areas, one band per series. With `stack = "percent"` each x sums to 100 %:
//! the share of each series per x (e.g. each day's sessions by version).

use anyhow::Result;
use plotters::prelude::*;
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{AxisFormat, ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, format_x, style};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stack {
    /// Bands stacked on each other in their own units.
    #[default]
    Absolute,
    /// Bands scaled so each x sums to 100 %.
    Percent,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Column on the x axis (dates, times or numbers).
    pub x: String,
    /// Numeric column: the band heights.
    pub y: String,
    /// Column naming the bands.
    pub series: String,
    #[serde(default)]
    pub stack: Stack,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    /// Format of the y axis; percent by default with `stack = "percent"`.
    #[serde(default)]
    pub y_format: Option<ValueFormat>,
    /// Order of the bands, bottom first (versions by semver by default).
    #[serde(default)]
    pub order: Order,
}

impl ChartKind for Area {
    const NAME: &'static str = "area";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        vec![("x", &self.x), ("y", &self.y), ("series", &self.series)]
    }

    fn need(key: &str) -> Need {
        match key {
            "y" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let (x, y, s) = (data.index("x")?, data.index("y")?, data.index("series")?);
        let kind = table.columns[x].kind;
        let grouped = super::group(table, x, y, Some(s), &self.order);
        // Distinct x positions, ascending; text x values become evenly spaced positions.
        let numeric = kind.is_numeric() || kind.is_temporal();
        let cats = if numeric {
            Vec::new()
        } else {
            super::axis_values(table, x, &Order::Auto)
        };
        let pos = |v: &crate::query::Value| -> Option<f64> {
            if numeric {
                v.as_f64()
            } else {
                cats.iter()
                    .position(|c| *c == v.to_string())
                    .map(|i| i as f64)
            }
        };
        let mut xs: Vec<f64> = grouped
            .series
            .iter()
            .flat_map(|ser| ser.points.iter().filter_map(|(xv, _)| pos(xv)))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.is_empty() {
            return super::empty(meta, "no data for this period").map(Some);
        }
        // value[series][x], negative values counted as 0 (a stack cannot hold them).
        let mut value = vec![vec![0f64; xs.len()]; grouped.series.len()];
        for (i, ser) in grouped.series.iter().enumerate() {
            for (xv, yv) in &ser.points {
                if let Some(p) = pos(xv).and_then(|p| xs.binary_search_by(|q| q.total_cmp(&p)).ok())
                {
                    value[i][p] += yv.max(0.0);
                }
            }
        }
        let percent = self.stack == Stack::Percent;
        if percent {
            for j in 0..xs.len() {
                let total: f64 = value.iter().map(|v| v[j]).sum();
                for v in value.iter_mut() {
                    v[j] = if total > 0.0 { v[j] / total } else { 0.0 };
                }
            }
        }
        let mut lower = vec![0f64; xs.len()];
        let mut bands = Vec::with_capacity(value.len());
        for v in &value {
            let upper: Vec<f64> = lower.iter().zip(v).map(|(a, b)| a + b).collect();
            bands.push((lower.clone(), upper.clone()));
            lower = upper;
        }
        let top = if percent {
            1.0
        } else {
            let (_, hi) = data.y_range(0.0, lower.iter().copied().fold(0.0, f64::max));
            hi.max(1.0) * 1.05
        };
        let (x0, x1) = data.x_range(xs[0], xs[xs.len() - 1]);
        let (x0, x1) = if x1 <= x0 {
            (x0 - 1.0, x1 + 1.0)
        } else {
            (x0, x1)
        };
        let y_format = self.y_format.unwrap_or(if percent {
            ValueFormat::Percent
        } else {
            ValueFormat::Number
        });

        let names: Vec<String> = grouped.series.iter().map(|s| s.name.clone()).collect();
        let canvas = meta.canvas;
        let fy = AxisFormat::new(y_format, 0.0, top);
        let x_text = |x: f64| {
            if numeric {
                format_x(x, kind)
            } else {
                cats.get(x.round() as usize).cloned().unwrap_or_default()
            }
        };
        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let height = super::with_legend(canvas, canvas.height, Some(&names));
            let root =
                SVGBackend::with_string(&mut svg, (canvas.width, height)).into_drawing_area();
            let (plot, legend_area) = super::split_legend(&root, canvas, canvas.height, true);
            let mut chart = drawn(
                ChartBuilder::on(&plot)
                    .margin(12)
                    .margin_right(if canvas.narrow() { 20 } else { 36 })
                    .x_label_area_size(44)
                    .y_label_area_size(super::y_label_area(fy, 0.0, top))
                    .build_cartesian_2d(x0..x1, 0f64..top),
            )?;
            let plot_w = super::plot_width(canvas, true);
            let dates = if kind.is_temporal() {
                super::date_ticks(x0, x1, None, super::tick_room(plot_w))
            } else {
                None
            };
            let fx = |v: &f64| {
                if numeric {
                    format_x(*v, kind)
                } else if (v - v.round()).abs() < 1e-6 && *v >= 0.0 {
                    cats.get(v.round() as usize)
                        .map(|c| style::short(c))
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            };
            let x_labels = match (&dates, numeric, canvas.narrow()) {
                (Some(_), _, _) => 0,
                (None, true, narrow) => {
                    if narrow {
                        4
                    } else {
                        7
                    }
                }
                (None, false, narrow) => cats.len().min(if narrow { 5 } else { 10 }),
            };
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title.clone().unwrap_or_else(|| self.x.clone()),
                    self.y_title.clone().unwrap_or_else(|| self.y.clone()),
                )
                .x_labels(x_labels)
                .x_label_formatter(&fx)
                .y_label_formatter(&|v| fy.tick(*v))
                .draw(),
            )?;
            if let Some(ticks) = &dates {
                super::draw_x_ticks(&plot, &chart, 0.0, ticks)?;
            }
            for (i, (lo, hi)) in bands.iter().enumerate() {
                let mut pts: Vec<(f64, f64)> = xs.iter().copied().zip(hi.iter().copied()).collect();
                pts.extend(xs.iter().copied().zip(lo.iter().copied()).rev());
                if xs.len() == 1 {
                    // One x: a bar-like band so a single day still shows.
                    pts = vec![(x0, lo[0]), (x0, hi[0]), (x1, hi[0]), (x1, lo[0])];
                }
                drawn(chart.draw_series(std::iter::once(Polygon::new(
                    pts,
                    style::colour(i).filled(),
                ))))?;
            }
            // Each band's value at each x is a mark on its top edge, invisible but titled.
            for (i, (lo, hi)) in bands.iter().enumerate() {
                for (j, &x) in xs.iter().enumerate() {
                    let at = chart.backend_coord(&(x, hi[j]));
                    let title =
                        super::marks::title(Some(&names[i]), &x_text(x), &fy.exact(hi[j] - lo[j]));
                    marks.circle(at, 4, Paint::Translucent(style::colour(i), 0.0), &title);
                }
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
