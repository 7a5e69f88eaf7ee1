//! The warehouse tables of the Abacus format and how sessions become Arrow batches.
//!
//! `attributes` is a struct column typed by an attribute schema (the BigQuery schema files
//! Abacus keeps: `[{"name": "shell", "type": "STRING", "mode": "NULLABLE"}, …]`). A value whose
//! key is not in the schema, or whose type does not fit, is kept in `extra_attributes`
//! (a map from key to the value's JSON text) and its typed column is null: drift is
//! visible, never dropped, and never fails a load.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, MapBuilder, RecordBatch,
    StringBuilder, StructArray, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use serde::Deserialize;

use super::{AttrValue, Attributes, Session};
use crate::formats::{TableDef, timestamp_type};

/// Column type of one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Integer,
    Float,
    Boolean,
    Timestamp,
}

impl AttrType {
    fn data_type(self) -> DataType {
        match self {
            AttrType::String => DataType::Utf8,
            AttrType::Integer => DataType::Int64,
            AttrType::Float => DataType::Float64,
            AttrType::Boolean => DataType::Boolean,
            AttrType::Timestamp => timestamp_type(),
        }
    }
}

/// The typed attributes of one record kind (session, event or span).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeSchema {
    /// Sorted by name, so the struct's field order does not depend on the file's.
    pub fields: Vec<(String, AttrType)>,
}

#[derive(Deserialize)]
struct BigQueryField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[allow(dead_code)]
    #[serde(default)]
    mode: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    description: Option<String>,
}

impl AttributeSchema {
    /// Parses a BigQuery schema file (a JSON array of `{name, type, mode}`).
    pub fn parse(json: &str, origin: &str) -> Result<AttributeSchema> {
        let raw: Vec<BigQueryField> = serde_json::from_str(json)
            .with_context(|| format!("{origin}: not a BigQuery schema (JSON array of fields)"))?;
        let mut fields = Vec::with_capacity(raw.len());
        for f in raw {
            let kind = match f.kind.to_ascii_uppercase().as_str() {
                "STRING" => AttrType::String,
                "INTEGER" | "INT64" => AttrType::Integer,
                "FLOAT" | "FLOAT64" | "NUMERIC" | "BIGNUMERIC" => AttrType::Float,
                "BOOLEAN" | "BOOL" => AttrType::Boolean,
                "TIMESTAMP" => AttrType::Timestamp,
                other => bail!(
                    "{origin}: field {:?} has type {other}, which attributes cannot hold (STRING, INTEGER, FLOAT, BOOLEAN or TIMESTAMP)",
                    f.name
                ),
            };
            fields.push((f.name, kind));
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = fields.windows(2).find(|w| w[0].0 == w[1].0) {
            bail!("{origin}: field {:?} is listed twice", w[0].0);
        }
        Ok(AttributeSchema { fields })
    }

    pub fn load(path: &Path) -> Result<AttributeSchema> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read attribute schema {}", path.display()))?;
        AttributeSchema::parse(&text, &path.display().to_string())
    }

    fn struct_fields(&self) -> Fields {
        self.fields
            .iter()
            .map(|(name, t)| Field::new(name, t.data_type(), true))
            .collect()
    }
}

/// Session, event and span attribute schemas of one source.
#[derive(Debug, Clone, PartialEq)]
pub struct AbacusSchemas {
    pub session: AttributeSchema,
    pub event: AttributeSchema,
    pub span: AttributeSchema,
}

impl AbacusSchemas {
    /// The real Batect schemas (`infra/app/session_table/` in batect/abacus).
    pub fn batect() -> AbacusSchemas {
        let parse = |text, name| AttributeSchema::parse(text, name).expect("bundled schema parses");
        AbacusSchemas {
            session: parse(
                include_str!("batect_sessions_session_attributes_schema.json"),
                "batect session attributes",
            ),
            event: parse(
                include_str!("batect_sessions_event_attributes_schema.json"),
                "batect event attributes",
            ),
            span: parse(
                include_str!("batect_sessions_span_attributes_schema.json"),
                "batect span attributes",
            ),
        }
    }
}

fn extra_type() -> DataType {
    Array::data_type(&new_extra_builder().finish()).clone()
}

fn new_extra_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

/// Names of the tables an Abacus source fills, partitioned by `date`.
pub const PARTITIONED: [&str; 3] = ["sessions", "events", "spans"];

/// Arrow schemas of the data files (the `date` partition column lives in the path).
pub fn sessions_schema(s: &AbacusSchemas) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, false),
        Field::new("application_id", DataType::Utf8, false),
        Field::new("application_version", DataType::Utf8, false),
        Field::new("start_time", timestamp_type(), false),
        Field::new("end_time", timestamp_type(), false),
        Field::new("ingestion_time", timestamp_type(), true),
        Field::new("duration_ms", DataType::Float64, false),
        Field::new("event_count", DataType::Int64, false),
        Field::new("span_count", DataType::Int64, false),
        Field::new(
            "attributes",
            DataType::Struct(s.session.struct_fields()),
            false,
        ),
        Field::new("extra_attributes", extra_type(), false),
        Field::new("source", DataType::Utf8, false),
        Field::new("object_key", DataType::Utf8, false),
    ]))
}

pub fn events_schema(s: &AbacusSchemas) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new("application_id", DataType::Utf8, false),
        Field::new("application_version", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("time", timestamp_type(), false),
        Field::new(
            "attributes",
            DataType::Struct(s.event.struct_fields()),
            false,
        ),
        Field::new("extra_attributes", extra_type(), false),
    ]))
}

pub fn spans_schema(s: &AbacusSchemas) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new("application_id", DataType::Utf8, false),
        Field::new("application_version", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("start_time", timestamp_type(), false),
        Field::new("end_time", timestamp_type(), false),
        Field::new("duration_ms", DataType::Float64, false),
        Field::new(
            "attributes",
            DataType::Struct(s.span.struct_fields()),
            false,
        ),
        Field::new("extra_attributes", extra_type(), false),
    ]))
}

/// The tables an Abacus source fills, all partitioned by `date`.
pub fn abacus_tables(s: &AbacusSchemas) -> Vec<TableDef> {
    vec![
        TableDef {
            name: "sessions",
            schema: sessions_schema(s),
            partitioned: true,
        },
        TableDef {
            name: "events",
            schema: events_schema(s),
            partitioned: true,
        },
        TableDef {
            name: "spans",
            schema: spans_schema(s),
            partitioned: true,
        },
    ]
}

/// A session together with where it came from.
pub struct Located<'a> {
    pub source: &'a str,
    pub key: &'a str,
    pub session: &'a Session,
}

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// Sessions of one date → a batch of the `sessions` table.
pub fn sessions_batch(schemas: &AbacusSchemas, rows: &[Located]) -> Result<RecordBatch> {
    let mut session_id = StringBuilder::new();
    let mut user_id = StringBuilder::new();
    let mut app_id = StringBuilder::new();
    let mut app_version = StringBuilder::new();
    let mut start = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut end = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut ingestion = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut duration = Float64Builder::new();
    let mut event_count = Int64Builder::new();
    let mut span_count = Int64Builder::new();
    let mut attrs = AttributesBuilder::new(&schemas.session);
    let mut source = StringBuilder::new();
    let mut key = StringBuilder::new();
    for row in rows {
        let s = row.session;
        session_id.append_value(&s.session_id);
        user_id.append_value(&s.user_id);
        app_id.append_value(&s.application_id);
        app_version.append_value(&s.application_version);
        start.append_value(s.start);
        end.append_value(s.end);
        ingestion.append_option(s.ingestion);
        duration.append_value(ms(s.end - s.start));
        event_count.append_value(s.events.len() as i64);
        span_count.append_value(s.spans.len() as i64);
        attrs.append(&s.attributes)?;
        source.append_value(row.source);
        key.append_value(row.key);
    }
    let (attributes, extra) = attrs.finish()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(session_id.finish()),
        Arc::new(user_id.finish()),
        Arc::new(app_id.finish()),
        Arc::new(app_version.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(ingestion.finish()),
        Arc::new(duration.finish()),
        Arc::new(event_count.finish()),
        Arc::new(span_count.finish()),
        attributes,
        extra,
        Arc::new(source.finish()),
        Arc::new(key.finish()),
    ];
    Ok(RecordBatch::try_new(sessions_schema(schemas), columns)?)
}

pub fn events_batch(schemas: &AbacusSchemas, rows: &[Located]) -> Result<RecordBatch> {
    let mut session_id = StringBuilder::new();
    let mut app_id = StringBuilder::new();
    let mut app_version = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut time = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut attrs = AttributesBuilder::new(&schemas.event);
    for row in rows {
        let s = row.session;
        for e in &s.events {
            session_id.append_value(&s.session_id);
            app_id.append_value(&s.application_id);
            app_version.append_value(&s.application_version);
            kind.append_value(&e.kind);
            time.append_value(e.time);
            attrs.append(&e.attributes)?;
        }
    }
    let (attributes, extra) = attrs.finish()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(session_id.finish()),
        Arc::new(app_id.finish()),
        Arc::new(app_version.finish()),
        Arc::new(kind.finish()),
        Arc::new(time.finish()),
        attributes,
        extra,
    ];
    Ok(RecordBatch::try_new(events_schema(schemas), columns)?)
}

pub fn spans_batch(schemas: &AbacusSchemas, rows: &[Located]) -> Result<RecordBatch> {
    let mut session_id = StringBuilder::new();
    let mut app_id = StringBuilder::new();
    let mut app_version = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut start = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut end = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut duration = Float64Builder::new();
    let mut attrs = AttributesBuilder::new(&schemas.span);
    for row in rows {
        let s = row.session;
        for sp in &s.spans {
            session_id.append_value(&s.session_id);
            app_id.append_value(&s.application_id);
            app_version.append_value(&s.application_version);
            kind.append_value(&sp.kind);
            start.append_value(sp.start);
            end.append_value(sp.end);
            duration.append_value(ms(sp.end - sp.start));
            attrs.append(&sp.attributes)?;
        }
    }
    let (attributes, extra) = attrs.finish()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(session_id.finish()),
        Arc::new(app_id.finish()),
        Arc::new(app_version.finish()),
        Arc::new(kind.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(duration.finish()),
        attributes,
        extra,
    ];
    Ok(RecordBatch::try_new(spans_schema(schemas), columns)?)
}

/// One typed child column of the `attributes` struct.
enum Child {
    String(StringBuilder),
    Integer(Int64Builder),
    Float(Float64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampNanosecondBuilder),
}

impl Child {
    fn new(t: AttrType) -> Child {
        match t {
            AttrType::String => Child::String(StringBuilder::new()),
            AttrType::Integer => Child::Integer(Int64Builder::new()),
            AttrType::Float => Child::Float(Float64Builder::new()),
            AttrType::Boolean => Child::Boolean(BooleanBuilder::new()),
            AttrType::Timestamp => {
                Child::Timestamp(TimestampNanosecondBuilder::new().with_timezone("UTC"))
            }
        }
    }

    /// Appends `v`; returns false (after appending null) when the value does not fit.
    fn append(&mut self, v: Option<&AttrValue>) -> bool {
        use AttrValue as V;
        match (self, v) {
            (Child::String(b), Some(V::String(s))) => b.append_value(s),
            (Child::Integer(b), Some(V::Number(n))) if n.as_i64().is_some() => {
                b.append_option(n.as_i64())
            }
            (Child::Float(b), Some(V::Number(n))) if n.as_f64().is_some() => {
                b.append_option(n.as_f64())
            }
            (Child::Boolean(b), Some(V::Bool(x))) => b.append_value(*x),
            (Child::Timestamp(b), Some(V::String(s))) => {
                match chrono::DateTime::parse_from_rfc3339(s)
                    .ok()
                    .and_then(|t| t.timestamp_nanos_opt())
                {
                    Some(ns) => b.append_value(ns),
                    None => {
                        b.append_null();
                        return false;
                    }
                }
            }
            (child, v) => {
                child.append_null();
                return matches!(v, None | Some(V::Null));
            }
        }
        true
    }

    fn append_null(&mut self) {
        match self {
            Child::String(b) => b.append_null(),
            Child::Integer(b) => b.append_null(),
            Child::Float(b) => b.append_null(),
            Child::Boolean(b) => b.append_null(),
            Child::Timestamp(b) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Child::String(mut b) => Arc::new(b.finish()),
            Child::Integer(mut b) => Arc::new(b.finish()),
            Child::Float(mut b) => Arc::new(b.finish()),
            Child::Boolean(mut b) => Arc::new(b.finish()),
            Child::Timestamp(mut b) => Arc::new(b.finish()),
        }
    }
}

/// Builds the `attributes` struct column and the `extra_attributes` map column together.
struct AttributesBuilder<'a> {
    schema: &'a AttributeSchema,
    children: Vec<Child>,
    extra: MapBuilder<StringBuilder, StringBuilder>,
}

impl<'a> AttributesBuilder<'a> {
    fn new(schema: &'a AttributeSchema) -> Self {
        AttributesBuilder {
            schema,
            children: schema.fields.iter().map(|(_, t)| Child::new(*t)).collect(),
            extra: new_extra_builder(),
        }
    }

    /// Both `attrs` and the schema are sorted by key, so one merge walk places every value.
    fn append(&mut self, attrs: &Attributes) -> Result<()> {
        let mut it = attrs.iter().peekable();
        for ((name, _), child) in self.schema.fields.iter().zip(self.children.iter_mut()) {
            while let Some((k, v)) = it.next_if(|(k, _)| k < name) {
                push_extra(&mut self.extra, k, v);
            }
            match it.next_if(|(k, _)| k == name) {
                Some((k, v)) => {
                    if !child.append(Some(v)) {
                        push_extra(&mut self.extra, k, v);
                    }
                }
                None => {
                    child.append(None);
                }
            }
        }
        for (k, v) in it {
            push_extra(&mut self.extra, k, v);
        }
        self.extra.append(true)?;
        Ok(())
    }

    fn finish(mut self) -> Result<(ArrayRef, ArrayRef)> {
        let fields = self.schema.struct_fields();
        let arrays: Vec<ArrayRef> = self.children.into_iter().map(Child::finish).collect();
        let len = self.extra.len();
        let attributes: ArrayRef = if fields.is_empty() {
            Arc::new(StructArray::new_empty_fields(len, None))
        } else {
            Arc::new(StructArray::try_new(fields, arrays, None)?)
        };
        Ok((attributes, Arc::new(self.extra.finish())))
    }
}

fn push_extra(b: &mut MapBuilder<StringBuilder, StringBuilder>, k: &str, v: &AttrValue) {
    b.keys().append_value(k);
    let json = match v {
        AttrValue::Null => "null".to_string(),
        AttrValue::Bool(x) => x.to_string(),
        AttrValue::Number(n) => n.to_string(),
        AttrValue::String(s) => serde_json::Value::String(s.clone()).to_string(),
    };
    b.values().append_value(json);
}

use datafusion::arrow::array::ArrayBuilder;

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    fn session(attrs: Attributes) -> Session {
        Session {
            session_id: "s".into(),
            user_id: "u".into(),
            application_id: "batect".into(),
            application_version: "0.84.0".into(),
            start: 0,
            end: 1_500_000,
            ingestion: None,
            attributes: attrs,
            events: vec![],
            spans: vec![],
        }
    }

    #[test]
    fn typed_values_go_to_columns_and_drift_to_the_map() {
        let schemas = AbacusSchemas::batect();
        let s = session(vec![
            ("aNewAttribute".into(), AttrValue::String("x".into())),
            ("exitCode".into(), AttrValue::Number(2.into())),
            ("shell".into(), AttrValue::Number(3.into())),
            ("terminal".into(), AttrValue::Null),
            ("zzz".into(), AttrValue::Bool(true)),
        ]);
        let rows = [Located {
            source: "src",
            key: "k",
            session: &s,
        }];
        let batch = sessions_batch(&schemas, &rows).expect("batch");
        let attrs = batch.column_by_name("attributes").expect("col").as_struct();
        let exit = attrs.column_by_name("exitCode").expect("exitCode");
        assert_eq!(exit.as_primitive::<Int64Type>().value(0), 2);
        assert!(attrs.column_by_name("shell").expect("shell").is_null(0));
        assert!(
            attrs
                .column_by_name("terminal")
                .expect("terminal")
                .is_null(0)
        );
        let extra = batch
            .column_by_name("extra_attributes")
            .expect("extra")
            .as_map();
        let keys = extra.keys().as_string::<i32>();
        let values = extra.values().as_string::<i32>();
        let pairs: Vec<(&str, &str)> = (0..keys.len())
            .map(|i| (keys.value(i), values.value(i)))
            .collect();
        assert_eq!(
            pairs,
            vec![("aNewAttribute", "\"x\""), ("shell", "3"), ("zzz", "true")]
        );
        let duration = batch.column_by_name("duration_ms").expect("duration");
        assert_eq!(
            duration
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(0),
            1.5
        );
    }

    #[test]
    fn schema_files_with_unknown_types_are_errors() {
        let err = AttributeSchema::parse(r#"[{"name":"a","type":"GEOGRAPHY"}]"#, "x.json")
            .expect_err("bad type");
        assert!(format!("{err:#}").contains("x.json"));
        assert!(AttributeSchema::parse("{", "y.json").is_err());
    }
}
