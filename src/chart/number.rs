//! `number`: a headline figure from the first row, with its change against the previous
//! period when the query returns one (e.g. sessions in the last 7 days vs the 7 before).

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use super::{ChartKind, Data, Meta, Need, ValueFormat, drawn, format_value, style, text_style};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Number {
    /// Numeric column: the figure (first row).
    pub value: String,
    /// Numeric column: the same figure for the previous period.
    #[serde(default)]
    pub previous: Option<String>,
    /// Text under the figure, e.g. "sessions in the last 7 days".
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub format: ValueFormat,
}

/// One size for both canvases: it fits a phone's screen unscaled.
const WIDTH: u32 = 340;
const HEIGHT: u32 = 130;

impl ChartKind for Number {
    const NAME: &'static str = "number";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut c = vec![("value", self.value.as_str())];
        if let Some(p) = &self.previous {
            c.push(("previous", p));
        }
        c
    }

    fn need(key: &str) -> Need {
        match key {
            "value" | "previous" => Need::Numeric,
            _ => Need::Any,
        }
    }

    fn draw(&self, data: &Data, meta: &Meta) -> Result<Option<String>> {
        let table = data.table;
        let v = data.index("value")?;
        let Some(now) = table.rows.first().and_then(|r| r[v].as_f64()) else {
            return super::empty(meta, "no data for this period").map(Some);
        };
        let before = data
            .get("previous")
            .and_then(|p| table.rows.first().and_then(|r| r[p].as_f64()));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            let left = Pos::new(HPos::Left, VPos::Top);
            let big = (style::FONT, 44.0)
                .into_font()
                .color(&style::TEXT)
                .pos(left);
            drawn(root.draw(&Text::new(format_value(now, self.format), (12, 10), big)))?;
            if let Some(label) = &self.label {
                drawn(root.draw(&Text::new(
                    label.clone(),
                    (14, 70),
                    text_style(style::FONT_SIZE).pos(left),
                )))?;
            }
            if let Some(change) = self.change(now, before) {
                drawn(root.draw(&Text::new(
                    change,
                    (14, 96),
                    text_style(style::FONT_SIZE).pos(left),
                )))?;
            }
            drawn(root.present())?;
        }
        Ok(Some(super::wrap(&svg, meta)))
    }
}

impl Number {
    /// The change against the previous period, as text ("▲ 12.5 % vs previous period").
    fn change(&self, now: f64, before: Option<f64>) -> Option<String> {
        let before = before?;
        if before == 0.0 {
            return Some(if now == 0.0 {
                "= no change vs previous period".into()
            } else {
                "▲ new vs previous period (was 0)".into()
            });
        }
        let rel = (now - before) / before.abs();
        let arrow = if rel > 0.0 {
            "▲"
        } else if rel < 0.0 {
            "▼"
        } else {
            "="
        };
        Some(format!(
            "{arrow} {} vs previous period ({})",
            format_value(rel.abs(), ValueFormat::Percent),
            format_value(before, self.format)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_relative_to_the_previous_period() {
        let n: Number = toml::from_str("value = \"v\"").expect("spec");
        assert_eq!(
            n.change(110.0, Some(100.0)).as_deref(),
            Some("▲ 10% vs previous period (100)")
        );
        assert_eq!(
            n.change(90.0, Some(100.0)).as_deref(),
            Some("▼ 10% vs previous period (100)")
        );
        assert_eq!(n.change(5.0, None), None);
        assert!(n.change(5.0, Some(0.0)).expect("text").contains("new"));
    }
}
