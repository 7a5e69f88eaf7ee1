//! `calendar`: one value per day laid out by week (columns) and weekday (rows, Monday first),
//! with month names above. Days without a row are blank, distinct from zero.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use super::marks::{Marks, Paint};
use super::{
    AxisFormat, ChartKind, ColourScale, Colours, Data, Meta, Need, ValueFormat, drawn, style,
    text_style,
};
use crate::query::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Date (or timestamp) column.
    pub date: String,
    /// Numeric column: the day's colour.
    pub value: String,
    #[serde(default)]
    pub scale: ColourScale,
    #[serde(default)]
    pub value_format: ValueFormat,
}

fn day_of(v: &Value) -> Option<NaiveDate> {
    let days = match v {
        Value::Date(d) => *d as i64,
        Value::Time(ns) => ns.div_euclid(86_400_000_000_000),
        Value::Text(s) => return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        _ => return None,
    };
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).ok()?)
}

impl ChartKind for Calendar {
    const NAME: &'static str = "calendar";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        vec![("date", &self.date), ("value", &self.value)]
    }

    fn need(key: &str) -> Need {
        match key {
            "date" => Need::Temporal,
            "value" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let (dc, vc) = (data.index("date")?, data.index("value")?);
        let mut days: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for r in &table.rows {
            if let (Some(d), Some(v)) = (day_of(&r[dc]), r[vc].as_f64()) {
                *days.entry(d).or_insert(0.0) += v;
            }
        }
        let (Some((&first, _)), Some((&last, _))) = (days.first_key_value(), days.last_key_value())
        else {
            return super::empty(meta, "no data for this period").map(Some);
        };
        let monday = first - chrono::Days::new(first.weekday().num_days_from_monday() as u64);
        let weeks = ((last - monday).num_days() / 7 + 1) as i32;
        let (left, top) = (44, 28);
        let canvas = meta.canvas;
        let cell = ((canvas.width as i32 - left - 16) / weeks).clamp(4, 20);
        let height = top + 7 * cell + 50;
        let colours = Colours::new(days.values().copied(), self.scale);
        let format = AxisFormat::new(self.value_format, colours.min, colours.max);

        let mut marks = Marks::default();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (canvas.width, height as u32))
                .into_drawing_area();
            let small = text_style(style::SMALL);
            for (row, name) in [(0, "Mon"), (2, "Wed"), (4, "Fri")] {
                let at = (left - 6, top + row * cell + cell / 2);
                drawn(root.draw(&Text::new(
                    name,
                    at,
                    small.clone().pos(Pos::new(HPos::Right, VPos::Center)),
                )))?;
            }
            // Month names above the first week that shows the month, when there is room.
            let mut shown = None;
            let mut free_from = i32::MIN;
            for w in 0..weeks {
                let day = (monday + chrono::Days::new(7 * w as u64)).max(first);
                if shown != Some((day.year(), day.month())) {
                    let label = day
                        .format(if shown.is_none() || day.month() == 1 {
                            "%b %Y"
                        } else {
                            "%b"
                        })
                        .to_string();
                    shown = Some((day.year(), day.month()));
                    let x = left + w * cell;
                    if x >= free_from {
                        free_from = x + 8 * label.chars().count() as i32;
                        drawn(root.draw(&Text::new(label, (x, top - 16), small.clone())))?;
                    }
                }
            }
            for day in first.iter_days().take_while(|d| *d <= last) {
                let offset = (day - monday).num_days() as i32;
                let (x, y) = (left + offset / 7 * cell, top + offset % 7 * cell);
                let (paint, value) = match days.get(&day) {
                    Some(v) => (Paint::Fill(colours.colour(*v)), format.exact(*v)),
                    None => (Paint::Outline(style::GRID), "no data".to_string()),
                };
                let title =
                    super::marks::title(None, &day.format("%a %Y-%m-%d").to_string(), &value);
                marks.rect((x + 1, y + 1), (x + cell - 1, y + cell - 1), paint, &title);
            }
            let legend_y = top + 7 * cell + 14;
            colours.legend(&root, (left, legend_y), format, &mut marks)?;
            drawn(root.present())?;
        }
        let svg = marks.drawn_into(&svg);
        Ok(Some(super::wrap(&svg, meta)))
    }
}
