//! `heatmap`: a value per (x, y) cell, coloured on a linear or log scale with a legend
//! (e.g. hour of week × day, or latency bucket × day). A cell with no row is left blank,
//! distinct from a cell whose value is zero (the palest colour).

use std::collections::BTreeMap;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{
    AxisFormat, ChartKind, ColourScale, Colours, Data, Meta, Need, Order, ValueFormat, drawn,
    style, text_style,
};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heatmap {
    pub x: String,
    pub y: String,
    /// Numeric column: the cell colour.
    pub value: String,
    #[serde(default)]
    pub scale: ColourScale,
    #[serde(default)]
    pub value_format: ValueFormat,
    #[serde(default)]
    pub x_title: Option<String>,
    #[serde(default)]
    pub y_title: Option<String>,
    /// Order of the columns (dates and numbers ascending by default).
    #[serde(default)]
    pub x_order: Order,
    /// Order of the rows, top first.
    #[serde(default)]
    pub y_order: Order,
    /// x holds the start of each `week` or `month` (dates): one the data does not cover whole
    /// is drawn partial and said in a note.
    #[serde(default)]
    pub period: Option<super::Period>,
}

impl ChartKind for Heatmap {
    const NAME: &'static str = "heatmap";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        vec![("x", &self.x), ("y", &self.y), ("value", &self.value)]
    }

    fn need(key: &str) -> Need {
        match key {
            "value" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let (xc, yc, vc) = (data.index("x")?, data.index("y")?, data.index("value")?);
        let xs = super::axis_values(table, xc, &self.x_order);
        let ys = super::axis_values(table, yc, &self.y_order);
        let mut cells: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for r in &table.rows {
            let (Some(v), false, false) = (r[vc].as_f64(), r[xc].is_null(), r[yc].is_null()) else {
                continue;
            };
            let (Some(i), Some(j)) = (
                xs.iter().position(|x| *x == r[xc].to_string()),
                ys.iter().position(|y| *y == r[yc].to_string()),
            ) else {
                continue;
            };
            *cells.entry((i, j)).or_insert(0.0) += v;
        }
        if cells.is_empty() {
            return super::empty(meta, "no data for this period").map(Some);
        }
        let colours = Colours::new(cells.values().copied(), self.scale);
        let format = AxisFormat::new(self.value_format, colours.min, colours.max);
        let canvas = meta.canvas;
        let (rotate, bottom) = super::label_layout(&xs, canvas.width.saturating_sub(140));
        let longest_y = ys
            .iter()
            .map(|y| style::short(y).chars().count())
            .max()
            .unwrap_or(0) as i32;
        let left = 40 + (longest_y * 7).min(if canvas.narrow() { 110 } else { 200 });
        let (top, legend_h) = (12, 44);
        let height = canvas.height as i32 + bottom as i32 - 44;
        let grid_w = canvas.width as i32 - left - 16;
        let grid_h = height - top - bottom as i32 - legend_h;
        let cw = grid_w as f64 / xs.len() as f64;
        let ch = grid_h as f64 / ys.len() as f64;

        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (canvas.width, height as u32))
                .into_drawing_area();
            let px = |i: usize| left + (i as f64 * cw).round() as i32;
            let py = |j: usize| top + (j as f64 * ch).round() as i32;
            for (i, x) in xs.iter().enumerate() {
                for (j, y) in ys.iter().enumerate() {
                    let (a, b) = ((px(i), py(j)), (px(i + 1), py(j + 1)));
                    let (paint, value) = match cells.get(&(i, j)) {
                        Some(v) => (Paint::Fill(colours.colour(*v)), format.exact(*v)),
                        None => (Paint::Outline(style::GRID), "no data".to_string()),
                    };
                    marks.rect(a, b, paint, &super::marks::title(Some(y), x, &value));
                }
            }
            // A column of a period the data does not cover whole is outlined dashed.
            for (i, x) in xs.iter().enumerate() {
                let Some(period) = self.period else { break };
                if let Some((held, len)) = period.partial_label(x, meta.data_range) {
                    let title = format!("{x}: a partial {}, {held} of {len} days", period.name());
                    marks.rect(
                        (px(i) + 1, py(0) + 1),
                        (px(i + 1) - 1, py(ys.len()) - 1),
                        Paint::Dashed(style::TEXT),
                        &title,
                    );
                }
            }
            // Row labels, right-aligned left of the grid; every k-th when rows are thin.
            let step = ((14.0 / ch).ceil() as usize).max(1);
            let right = text_style(style::SMALL).pos(Pos::new(HPos::Right, VPos::Center));
            for (j, y) in ys.iter().enumerate().step_by(step) {
                let at = (left - 6, top + ((j as f64 + 0.5) * ch).round() as i32);
                let label = if canvas.narrow() {
                    super::style::short_to(y, 14)
                } else {
                    style::short(y)
                };
                drawn(root.draw(&Text::new(label, at, right.clone())))?;
            }
            let at: Vec<(i32, i32)> = (0..xs.len())
                .map(|i| (left + ((i as f64 + 0.5) * cw).round() as i32, top + grid_h))
                .collect();
            super::slot_labels(&root, &at, &xs, rotate)?;
            let centre = text_style(style::FONT_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
            let x_title = self.x_title.clone().unwrap_or_else(|| self.x.clone());
            drawn(root.draw(&Text::new(
                x_title,
                (left + grid_w / 2, top + grid_h + bottom as i32 - 16),
                centre,
            )))?;
            let y_title = self.y_title.clone().unwrap_or_else(|| self.y.clone());
            let rotated = text_style(style::FONT_SIZE)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Top));
            drawn(root.draw(&Text::new(y_title, (4, top + grid_h / 2), rotated)))?;
            let legend_y = height - legend_h + 8;
            colours.legend(&root, (left.min(60), legend_y), format, &mut marks)?;
            drawn(root.present())?;
        }
        let svg = marks.drawn_into(&svg);
        Ok(Some(super::wrap(&svg, meta)))
    }
}
