//! `table`: the result as an HTML table (every panel also has one, collapsed; this one is open).
//! It draws no SVG; the site shows the columns it lists, at most `limit` rows.

use anyhow::Result;
use serde::Deserialize;

use super::{ChartKind, Data, Meta, Need};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Columns to show, in this order; all when absent.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// Rows to show at most (the CSV keeps them all).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl ChartKind for TableSpec {
    const NAME: &'static str = "table";

    fn columns(&self) -> Vec<(&'static str, &str)> {
        self.columns
            .iter()
            .flatten()
            .map(|c| ("columns", c.as_str()))
            .collect()
    }

    fn need(_key: &str) -> Need {
        Need::Any
    }

    /// Nothing to draw: the panel's HTML table is the chart.
    fn draw(&self, _data: &Data, _meta: &Meta) -> Result<Option<String>> {
        Ok(None)
    }
}
