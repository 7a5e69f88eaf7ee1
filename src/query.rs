//! Query: every `queries/NAME.sql` becomes a DataFusion view `NAME` over the warehouse tables,
//! registered in dependency order so queries can read each other, then each is run.
//!
//! Results leave this module as [`Table`]s: plain rows of [`Value`]s, so chart and site never
//! see Arrow.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::common::config::Dialect;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::formats::TableDef;
use crate::warehouse::{self, Warehouse};

/// One `queries/NAME.sql` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
}

/// Whether `s` can name a view: lower-case letters, digits and `_`, starting with a letter.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A session with ident normalisation off, so `attributes.exitCode` reads as written, and with
/// spans collected, so an error can say its line.
pub fn new_context() -> SessionContext {
    SessionContext::new_with_config(config())
}

fn config() -> SessionConfig {
    SessionConfig::new()
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        .set_bool("datafusion.sql_parser.collect_spans", true)
        .with_information_schema(false)
}

/// A session for a pull's set work over a growing warehouse (which keys, which ids it holds):
/// a scan reads each file's footer as it opens the file and keeps none, where a report's
/// session reads every footer while planning, for statistics, and caches them. A pull plans such
/// a query once per batch over every file of a table, so the footers would be memory that grows
/// with the warehouse.
pub fn lean_context() -> Result<SessionContext> {
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_metadata_cache_limit(0)
        .build_arc()?;
    let config = config().set_bool("datafusion.execution.collect_statistics", false);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// Registers the warehouse tables: every format's (the settings' `catalog`) and `objects`. A
/// table no pull has written yet is registered empty, so queries of every format plan on any
/// warehouse.
pub fn register_warehouse(
    ctx: &SessionContext,
    warehouse: &Warehouse,
    catalog: &[TableDef],
) -> Result<()> {
    ctx.register_object_store(warehouse.bucket().url.as_ref(), warehouse.view());
    for t in warehouse_tables(catalog) {
        let url = warehouse.table_url(t.name);
        let table_url = ListingTableUrl::parse(&url)
            .with_context(|| format!("cannot register table {} at {url}", t.name))?;
        let mut options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        if t.partitioned {
            options =
                options.with_table_partition_cols(vec![("date".to_string(), DataType::Date32)]);
        }
        let config = ListingTableConfig::new(table_url)
            .with_listing_options(options)
            .with_schema(t.schema);
        let table = ListingTable::try_new(config)
            .with_context(|| format!("cannot register table {}", t.name))?;
        ctx.register_table(t.name, Arc::new(table))?;
    }
    Ok(())
}

/// Registers every warehouse table empty, with the columns queries see (`date` included):
/// what `report check` plans against, without data.
pub fn register_empty_warehouse(ctx: &SessionContext, catalog: &[TableDef]) -> Result<()> {
    for t in warehouse_tables(catalog) {
        register_empty(ctx, &t)?;
    }
    Ok(())
}

/// Every table a warehouse holds: each format's tables, then `objects`.
pub(crate) fn warehouse_tables(catalog: &[TableDef]) -> Vec<TableDef> {
    let mut tables = catalog.to_vec();
    tables.push(TableDef {
        name: "objects",
        schema: warehouse::objects_schema(),
        partitioned: false,
    });
    tables
}

/// The tables and views `sql` reads (one statement), by name: the one table-reference resolver
/// of `query`, `check` and `diff`.
pub fn reads(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<BTreeSet<String>> {
    let state = ctx.state();
    let statement = state.sql_to_statement(sql, &Dialect::Generic)?;
    let refs = state.resolve_table_references(&statement)?;
    Ok(refs.iter().map(|r| r.table().to_string()).collect())
}

fn register_empty(ctx: &SessionContext, t: &TableDef) -> Result<()> {
    let mut fields: Vec<_> = t.schema.fields().iter().cloned().collect();
    if t.partitioned {
        fields.push(Arc::new(Field::new("date", DataType::Date32, false)));
    }
    let empty = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])
        .with_context(|| format!("cannot register table {}", t.name))?;
    ctx.register_table(t.name, Arc::new(empty))?;
    Ok(())
}

/// Orders queries so each comes after the queries it reads. A cycle is an error naming its files.
pub fn dependency_order(ctx: &SessionContext, queries: &[Query]) -> Result<Vec<usize>> {
    let names: BTreeMap<&str, usize> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| (q.name.as_str(), i))
        .collect();
    let mut deps: Vec<BTreeSet<usize>> = Vec::with_capacity(queries.len());
    for q in queries {
        let refs = reads(ctx, &q.sql)
            .with_context(|| format!("{}: SQL does not parse", q.path.display()))?;
        deps.push(
            refs.iter()
                .filter_map(|r| names.get(r.as_str()).copied())
                .collect(),
        );
    }
    // Depth-first, visiting in name order so the result is the same on every run.
    let mut order = Vec::with_capacity(queries.len());
    let mut state = vec![0u8; queries.len()]; // 0 new, 1 on the stack, 2 done
    fn visit(
        i: usize,
        deps: &[BTreeSet<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
        queries: &[Query],
    ) -> Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                let from = stack.iter().position(|&s| s == i).unwrap_or(0);
                let cycle: Vec<String> = stack[from..]
                    .iter()
                    .chain(std::iter::once(&i))
                    .map(|&s| queries[s].path.display().to_string())
                    .collect();
                bail!("queries read each other in a cycle: {}", cycle.join(" → "));
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for &d in &deps[i] {
            visit(d, deps, state, stack, order, queries)?;
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..queries.len() {
        visit(i, &deps, &mut state, &mut Vec::new(), &mut order, queries)?;
    }
    Ok(order)
}

/// The line of `sql` a DataFusion error is about: its diagnostic's span or, for a parse error,
/// the token where the SQL parser stopped.
pub fn error_line(err: &DataFusionError, sql: &str) -> Option<usize> {
    if let Some(span) = err.diagnostic().and_then(|d| d.span)
        && span.start.line > 0
    {
        return Some(span.start.line as usize);
    }
    if !matches!(err.find_root(), DataFusionError::SQL(..)) {
        return None;
    }
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(sql).ok()?;
    match parser.parse_statements() {
        Err(_) => {
            let line = parser.get_current_token().span.start.line;
            (line > 0).then_some(line as usize)
        }
        Ok(_) => None,
    }
}

/// A DataFusion error on one line, without the parser's `at Line: N, Column: M` (the problem's
/// line says it).
pub fn error_message(err: &DataFusionError) -> String {
    let mut text = err.to_string();
    while let Some(at) = text.find(" Line: ") {
        let start = if text[..at].ends_with(" at") {
            at - 3
        } else {
            at
        };
        let rest = &text[at + " Line: ".len()..];
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let n = digits(rest);
        let Some(after) = rest[n..].strip_prefix(", Column: ") else {
            break;
        };
        let m = digits(after);
        if n == 0 || m == 0 {
            break;
        }
        let end = text.len() - after[m..].len();
        text.replace_range(start..end, "");
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Registers every query as a view, in dependency order.
pub async fn register_views(ctx: &SessionContext, queries: &[Query]) -> Result<()> {
    for i in dependency_order(ctx, queries)? {
        let q = &queries[i];
        let df = ctx
            .sql(&q.sql)
            .await
            .with_context(|| format!("{}: query does not plan", q.path.display()))?;
        ctx.register_table(q.name.as_str(), df.into_view())
            .with_context(|| format!("{}: cannot register view {}", q.path.display(), q.name))?;
    }
    Ok(())
}

/// Runs every registered query and returns its result by name.
/// The result of one SQL statement over `ctx`; errors say whether it did not plan or failed
/// while running, after `origin` (what the SQL is: `--sql`, a file, an expectation).
pub async fn run_sql(ctx: &SessionContext, sql: &str, origin: &str) -> Result<Table> {
    let df = ctx
        .sql(sql)
        .await
        .with_context(|| format!("{origin}: the SQL does not plan"))?;
    let schema = df.schema().inner().clone();
    let batches = df
        .collect()
        .await
        .with_context(|| format!("{origin}: the SQL failed"))?;
    Table::from_batches(&schema, &batches)
        .with_context(|| format!("{origin}: cannot read the result"))
}

pub async fn run_all(ctx: &SessionContext, queries: &[Query]) -> Result<BTreeMap<String, Table>> {
    Ok(run_timed(ctx, queries).await?.0)
}

/// [`run_all`], with how long each query took (its views' work included), in the order run:
/// for `report build --timings`, never for a page.
pub async fn run_timed(
    ctx: &SessionContext,
    queries: &[Query],
) -> Result<(BTreeMap<String, Table>, Vec<(String, std::time::Duration)>)> {
    let mut out = BTreeMap::new();
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let started = std::time::Instant::now();
        let df = ctx
            .table(q.name.as_str())
            .await
            .with_context(|| format!("{}: view missing", q.path.display()))?;
        let schema = df.schema().inner().clone();
        let batches = df
            .collect()
            .await
            .with_context(|| format!("{}: query failed", q.path.display()))?;
        let table = Table::from_batches(&schema, &batches)
            .with_context(|| format!("{}: cannot read result", q.path.display()))?;
        out.insert(q.name.clone(), table);
        times.push((q.name.clone(), started.elapsed()));
    }
    Ok((out, times))
}

/// One cell of a query result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Nanoseconds since the epoch, UTC.
    Time(i64),
}

impl Value {
    /// The value on a numeric axis: numbers as they are, dates in days, times in days too.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) if f.is_finite() => Some(*f),
            Value::Date(d) => Some(*d as f64),
            Value::Time(t) => Some(*t as f64 / 86_400e9),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null) || matches!(self, Value::Float(f) if f.is_nan())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => match chrono::DateTime::from_timestamp(*d as i64 * 86_400, 0) {
                Some(t) => write!(f, "{}", t.format("%Y-%m-%d")),
                None => write!(f, "{d}"),
            },
            Value::Time(ns) => write!(
                f,
                "{}",
                chrono::DateTime::from_timestamp_nanos(*ns).format("%Y-%m-%dT%H:%M:%S%.fZ")
            ),
        }
    }
}

/// The kind of a result column, which decides how charts read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Bool,
    Text,
    Date,
    Time,
}

impl Kind {
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::Float)
    }
    pub fn is_temporal(self) -> bool {
        matches!(self, Kind::Date | Kind::Time)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A query result: columns and rows, in the order the query returned them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn from_batches(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Table> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| Column {
                name: f.name().clone(),
                kind: kind_of(f.data_type()),
            })
            .collect::<Vec<_>>();
        let mut rows = Vec::new();
        for batch in batches {
            let mut cols: Vec<Vec<Value>> = Vec::with_capacity(columns.len());
            for (array, col) in batch.columns().iter().zip(&columns) {
                cols.push(values(array.as_ref(), col.kind)?);
            }
            for r in 0..batch.num_rows() {
                rows.push(cols.iter().map(|c| c[r].clone()).collect());
            }
        }
        Ok(Table { columns, rows })
    }
}

fn kind_of(t: &DataType) -> Kind {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Kind::Int,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => Kind::Float,
        DataType::Boolean => Kind::Bool,
        DataType::Date32 | DataType::Date64 => Kind::Date,
        DataType::Timestamp(_, _) => Kind::Time,
        _ => Kind::Text,
    }
}

fn values(array: &dyn Array, kind: Kind) -> Result<Vec<Value>> {
    let n = array.len();
    let mut out = Vec::with_capacity(n);
    match kind {
        Kind::Int => {
            let a = cast(array, &DataType::Int64)?;
            let a = a.as_primitive::<Int64Type>();
            out.extend((0..n).map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Int(a.value(i))
                }
            }));
        }
        Kind::Float => {
            let a = cast(array, &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            out.extend((0..n).map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Float(a.value(i))
                }
            }));
        }
        Kind::Bool => {
            let a = array.as_boolean();
            out.extend((0..n).map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Bool(a.value(i))
                }
            }));
        }
        Kind::Date => {
            let a = cast(array, &DataType::Date32)?;
            let a = a.as_primitive::<Date32Type>();
            out.extend((0..n).map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Date(a.value(i))
                }
            }));
        }
        Kind::Time => {
            let a = cast(array, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
            let a = a.as_primitive::<TimestampNanosecondType>();
            out.extend((0..n).map(|i| {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Time(a.value(i))
                }
            }));
        }
        Kind::Text => match cast(array, &DataType::Utf8) {
            Ok(a) => {
                let a = a.as_string::<i32>();
                out.extend((0..n).map(|i| {
                    if a.is_null(i) {
                        Value::Null
                    } else {
                        Value::Text(a.value(i).to_string())
                    }
                }));
            }
            // A type no cast makes text of (a struct, a map): as Arrow writes it.
            Err(_) => {
                let options = datafusion::arrow::util::display::FormatOptions::default();
                let shown =
                    datafusion::arrow::util::display::ArrayFormatter::try_new(array, &options)?;
                out.extend((0..n).map(|i| {
                    if array.is_null(i) {
                        Value::Null
                    } else {
                        Value::Text(shown.value(i).to_string())
                    }
                }));
            }
        },
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str, sql: &str) -> Query {
        Query {
            name: name.into(),
            path: PathBuf::from(format!("queries/{name}.sql")),
            sql: sql.into(),
        }
    }

    #[test]
    fn queries_run_after_the_queries_they_read() {
        let ctx = new_context();
        let qs = [
            q("a", "SELECT * FROM b JOIN c ON b.x = c.x"),
            q("b", "SELECT * FROM c"),
            q("c", "SELECT 1 AS x"),
        ];
        assert_eq!(dependency_order(&ctx, &qs).expect("order"), vec![2, 1, 0]);
    }

    #[test]
    fn a_cycle_is_an_error_naming_the_files() {
        let ctx = new_context();
        let qs = [q("a", "SELECT * FROM b"), q("b", "SELECT * FROM a")];
        let err = format!("{:#}", dependency_order(&ctx, &qs).expect_err("cycle"));
        assert!(
            err.contains("queries/a.sql") && err.contains("queries/b.sql"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn views_read_each_other_and_results_become_tables() {
        let ctx = new_context();
        let qs = [
            q(
                "base",
                "SELECT * FROM (VALUES (1, 'x', 2.5), (2, NULL, NULL)) AS t(n, s, f)",
            ),
            q("top", "SELECT n * 10 AS n10, s, f FROM base ORDER BY n"),
        ];
        register_views(&ctx, &qs).await.expect("register");
        let out = run_all(&ctx, &qs).await.expect("run");
        let top = &out["top"];
        assert_eq!(top.columns[0].kind, Kind::Int);
        assert_eq!(
            top.rows[0],
            vec![Value::Int(10), Value::Text("x".into()), Value::Float(2.5)]
        );
        assert_eq!(top.rows[1], vec![Value::Int(20), Value::Null, Value::Null]);
    }

    #[test]
    fn dates_and_times_display_as_iso() {
        assert_eq!(Value::Date(19_583).to_string(), "2023-08-14");
        assert_eq!(
            Value::Time(1_692_004_863_874_512_000).to_string(),
            "2023-08-14T09:21:03.874512Z"
        );
    }
}
