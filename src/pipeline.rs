//! Runs the stages in order: pull → warehouse → query → chart/site → write.

use anyhow::Result;

use crate::config::Settings;
use crate::definition::Report;
use crate::pull::{self, Summary};
use crate::query;
use crate::site::{self, Page};
use crate::warehouse::Warehouse;
use crate::warehouse::tables::AbacusSchemas;

/// What `report build` did.
#[derive(Debug)]
pub struct Built {
    pub pull: Summary,
    pub pages: usize,
}

/// `report build`: pull (unless `pull` is false), query, render, write.
pub async fn build(settings: &Settings, pull_first: bool) -> Result<Built> {
    let mut warehouse = Warehouse::open(&settings.warehouse)?;
    let summary = if pull_first {
        pull::pull(settings, &mut warehouse).await?
    } else {
        Summary::default()
    };
    let pages = render(settings, &warehouse).await?;
    site::write(&settings.output, &pages)?;
    Ok(Built {
        pull: summary,
        pages: pages.len(),
    })
}

/// `report pull`: only the ingest.
pub async fn pull_only(settings: &Settings) -> Result<Summary> {
    let mut warehouse = Warehouse::open(&settings.warehouse)?;
    pull::pull(settings, &mut warehouse).await
}

/// The warehouse's table schemas: those of the first source, or Batect's.
pub fn schemas(settings: &Settings) -> Result<AbacusSchemas> {
    match settings.sources.first() {
        Some(s) => pull::schemas(s),
        None => Ok(AbacusSchemas::batect()),
    }
}

/// Queries and reports over the warehouse, rendered to pages in memory.
pub async fn render(settings: &Settings, warehouse: &Warehouse) -> Result<Vec<Page>> {
    let queries = query::load(&settings.queries)?;
    let reports = Report::load_dir(&settings.reports)?;
    let ctx = query::new_context();
    query::register_warehouse(&ctx, warehouse, &schemas(settings)?)?;
    query::register_views(&ctx, &queries).await?;
    let results = query::run_all(&ctx, &queries).await?;
    site::render(&reports, &results, warehouse.date_range())
}
