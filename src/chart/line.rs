//! `line`: y over x, one line per series. x may be a date, a time, a number or text
//! (text x values are evenly spaced categories, versions in semver order).

use anyhow::Result;
use plotters::prelude::*;
use serde::Deserialize;

use super::{
    ChartKind, Data, Meta, Need, Order, ValueFormat, drawn, format_value, format_x, style,
};
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
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (style::WIDTH, style::HEIGHT))
                .into_drawing_area();
            let (plot, legend_area) = if series.is_some() {
                let (p, l) = root.split_horizontally(style::WIDTH - style::LEGEND_WIDTH);
                (p, Some(l))
            } else {
                (root.clone(), None)
            };
            let mut chart = drawn(
                ChartBuilder::on(&plot)
                    .margin(12)
                    .margin_right(36)
                    .x_label_area_size(44)
                    .y_label_area_size(64)
                    .build_cartesian_2d(x0..x1, y0..y1),
            )?;
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
            let fy = |v: &f64| format_value(*v, self.y_format);
            let x_ticks = if cats.is_empty() {
                7
            } else {
                cats.len().min(10)
            };
            drawn(
                super::axes(
                    &mut chart,
                    self.x_title.clone().unwrap_or_else(|| self.x.clone()),
                    self.y_title.clone().unwrap_or_else(|| self.y.clone()),
                )
                .x_labels(x_ticks)
                .x_label_formatter(&fx)
                .y_label_formatter(&fy)
                .draw(),
            )?;
            // Points of a period the data does not cover whole.
            let partial = |x: f64| match (self.period, meta.data_range) {
                (Some(period), Some(range)) if kind == Kind::Date => {
                    period.partial(x as i32, range).is_some()
                }
                _ => false,
            };
            for (i, p) in pts.iter().enumerate() {
                let colour = style::colour(i);
                // Whole periods joined by a solid line; a segment to a partial one dashed.
                for run in p.split(|&(x, _)| partial(x)) {
                    drawn(chart.draw_series(LineSeries::new(
                        run.iter().copied(),
                        colour.stroke_width(2),
                    )))?;
                }
                for pair in p.windows(2) {
                    if partial(pair[0].0) || partial(pair[1].0) {
                        drawn(chart.draw_series(DashedLineSeries::new(
                            pair.iter().copied(),
                            6,
                            4,
                            colour.stroke_width(2),
                        )))?;
                    }
                }
                if p.len() <= 40 {
                    drawn(
                        chart.draw_series(
                            p.iter()
                                .filter(|&&(x, _)| !partial(x))
                                .map(|&pt| Circle::new(pt, 3, colour.filled())),
                        ),
                    )?;
                }
                drawn(
                    chart.draw_series(
                        p.iter()
                            .filter(|&&(x, _)| partial(x))
                            .map(|&pt| Circle::new(pt, 3, colour.stroke_width(2))),
                    ),
                )?;
            }
            if let Some(area) = legend_area {
                super::legend(&area, &names)?;
            }
            drawn(root.present())?;
        }
        Ok(Some(super::wrap(&svg, meta)))
    }
}
