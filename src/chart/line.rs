//! `line`: y over x, one line per series. x may be a date, a time, a number or text
//! (text x values are evenly spaced categories, versions in semver order).

use anyhow::Result;
use plotters::prelude::*;
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{AxisFormat, ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, format_x, style};
use crate::query::{Kind, Value};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Column on the x axis.
    pub x: String,
    /// Numeric column on the y axis.
    pub y: String,
    /// Column whose values name the lines; one line when absent.
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    #[serde(default)]
    pub y_format: ValueFormat,
    /// Order of the series (and of text x values).
    #[serde(default)]
    pub order: Order,
    /// x holds the start of each `week` or `month`: one the data does not cover whole (the
    /// current week, say) is drawn dashed, its point hollow.
    #[serde(default)]
    pub period: Option<super::Period>,
}

impl ChartKind for Line {
    const NAME: &'static str = "line";

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
        let kind = table.columns[x].kind;
        let grouped = super::group(table, x, y, series, &self.order);
        if grouped.series.iter().all(|s| s.points.is_empty()) {
            return super::empty(meta, "no data for this period").map(Some);
        }
        // Text x values become evenly spaced categories.
        let cats = if kind.is_numeric() || kind.is_temporal() {
            Vec::new()
        } else {
            super::categories(table, x, y, &self.order)
        };
        let pos = |v: &Value| -> Option<f64> {
            if cats.is_empty() {
                v.as_f64()
            } else {
                cats.iter()
                    .position(|c| *c == v.to_string())
                    .map(|i| i as f64)
            }
        };
        let pts: Vec<Vec<(f64, f64)>> = grouped
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .filter_map(|(xv, yv)| Some((pos(xv)?, *yv)))
                    .collect()
            })
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, 0f64, f64::MIN);
        for (px, py) in pts.iter().flatten() {
            x0 = x0.min(*px);
            x1 = x1.max(*px);
            y0 = y0.min(*py);
            y1 = y1.max(*py);
        }
        // Text x values are categories, each drawing its own.
        if cats.is_empty() {
            (x0, x1) = data.x_range(x0, x1);
        }
        (y0, y1) = data.y_range(y0, y1);
        if x1 <= x0 {
            x0 -= 1.0;
            x1 += 1.0;
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        y1 += (y1 - y0) * 0.05;

        let names: Vec<String> = grouped.series.iter().map(|s| s.name.clone()).collect();
        let canvas = meta.canvas;
        let legend = series.is_some().then_some(names.as_slice());
        let fy = AxisFormat::new(self.y_format, y0, y1);
        // Points of a period the data does not cover whole: (days held, days in the period).
        let partial = |x: f64| match (self.period, meta.data_range) {
            (Some(period), Some(range)) if kind == Kind::Date => period.partial(x as i32, range),
            _ => None,
        };
        let x_text = |x: f64| {
            let text = if cats.is_empty() {
                format_x(x, kind)
            } else {
                cats.get(x.round() as usize).cloned().unwrap_or_default()
            };
            match (partial(x), self.period) {
                (Some((held, len)), Some(period)) => {
                    format!("{text} (partial {}: {held} of {len} days)", period.name())
                }
                _ => text,
            }
        };
        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let height = super::with_legend(canvas, canvas.height, legend);
            let root =
                SVGBackend::with_string(&mut svg, (canvas.width, height)).into_drawing_area();
            let (plot, legend_area) =
                super::split_legend(&root, canvas, canvas.height, legend.is_some());
            let mut chart = drawn(
                ChartBuilder::on(&plot)
                    .margin(12)
                    .margin_right(if canvas.narrow() { 20 } else { 36 })
                    .x_label_area_size(44)
                    .y_label_area_size(super::y_label_area(fy, y0, y1))
                    .build_cartesian_2d(x0..x1, y0..y1),
            )?;
            let plot_w = super::plot_width(canvas, legend.is_some());
            let dates = if cats.is_empty() && kind.is_temporal() {
                super::date_ticks(x0, x1, self.period, super::tick_room(plot_w))
            } else {
                None
            };
            let fx = |v: &f64| {
                if cats.is_empty() {
                    format_x(*v, kind)
                } else if (v - v.round()).abs() < 1e-6 && *v >= 0.0 {
                    cats.get(v.round() as usize)
                        .map(|c| style::short(c))
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            };
            let x_ticks = if dates.is_some() {
                0
            } else if cats.is_empty() {
                if canvas.narrow() { 4 } else { 7 }
            } else {
                cats.len().min(if canvas.narrow() { 5 } else { 10 })
            };
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title.clone().unwrap_or_else(|| self.x.clone()),
                    self.y_title.clone().unwrap_or_else(|| self.y.clone()),
                )
                .x_labels(x_ticks)
                .x_label_formatter(&fx)
                .y_label_formatter(&|v| fy.tick(*v))
                .draw(),
            )?;
            if let Some(ticks) = &dates {
                super::draw_x_ticks(&plot, &chart, y0, ticks)?;
            }
            for (i, p) in pts.iter().enumerate() {
                let colour = style::colour(i);
                // Whole periods joined by a solid line; a segment to a partial one dashed.
                for run in p.split(|&(x, _)| partial(x).is_some()) {
                    drawn(chart.draw_series(LineSeries::new(
                        run.iter().copied(),
                        colour.stroke_width(2),
                    )))?;
                }
                for pair in p.windows(2) {
                    if partial(pair[0].0).is_some() || partial(pair[1].0).is_some() {
                        drawn(chart.draw_series(DashedLineSeries::new(
                            pair.iter().copied(),
                            6,
                            4,
                            colour.stroke_width(2),
                        )))?;
                    }
                }
                // Every point is a mark with its value; on a dense line the dots are
                // invisible, their titles still shown on hover.
                let dense = p.len() > 40;
                let name = legend.map(|_| names[i].as_str());
                for &(x, y) in p {
                    let at = chart.backend_coord(&(x, y));
                    let title = super::marks::title(name, &x_text(x), &fy.exact(y));
                    let (r, paint) = match (partial(x).is_some(), dense) {
                        (true, _) => (3, Paint::Ring(colour)),
                        (false, false) => (3, Paint::Fill(colour)),
                        (false, true) => (4, Paint::Translucent(colour, 0.0)),
                    };
                    marks.circle(at, r, paint, &title);
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
