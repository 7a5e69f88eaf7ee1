//! Abacus: every rule of a session, over the reference session (macOS, a task failed).

use serde_json::json;

use super::{Case, Table, remove};

const EXAMPLE: &str =
    include_str!("../../../fixtures/reference/session_macos_task_failed.stored.min.json");

pub fn table() -> Table {
    Table {
        format: "abacus",
        base: serde_json::from_str(EXAMPLE).expect("the reference session parses"),
        key: |i, rule| format!("{i:02}-{rule}.json"),
        cases: vec![
            Case::bytes("json", "{\"sessionId\":"),
            Case::bytes("json", "[]"),
            Case::edit("unknown_field", |v| v["extra"] = json!(1)),
            Case::edit("sessionId.required", |v| remove(v, "/sessionId")),
            Case::edit("sessionId.uuid4", |v| v["sessionId"] = json!("abc123")),
            Case::edit("sessionId.uuid4", |v| {
                v["sessionId"] = json!("B2D6E0F4-59C1-4F7A-8E3B-0A9C4D2F6E18");
            }),
            Case::edit("userId.uuid4", |v| {
                v["userId"] = json!("11111111-2222-3333-4444-555555555555");
            }),
            Case::edit("sessionId.type", |v| v["sessionId"] = json!(7)),
            Case::edit("sessionStartTime.required", |v| {
                remove(v, "/sessionStartTime");
            }),
            Case::edit("sessionStartTime.format", |v| {
                v["sessionStartTime"] = json!("yesterday");
            }),
            Case::edit("sessionStartTime.required", |v| {
                v["sessionStartTime"] = json!("0001-01-01T00:00:00Z");
            }),
            Case::edit("sessionEndTime.gtefield", |v| {
                v["sessionEndTime"] = json!("2023-06-30T01:00:00Z");
            }),
            Case::edit("applicationId.oneof", |v| {
                v["applicationId"] = json!("other")
            }),
            Case::edit("applicationVersion.version", |v| {
                v["applicationVersion"] = json!("1.");
            }),
            Case::edit("applicationVersion.version", |v| {
                v["applicationVersion"] = json!("1.2.3.4");
            }),
            Case::edit("applicationVersion.version", |v| {
                v["applicationVersion"] = json!("1-thing");
            }),
            Case::edit("applicationVersion.version", |v| {
                v["applicationVersion"] = json!("1.0.0+/..");
            }),
            Case::edit("attributes.key", |v| v["attributes"]["bad-key"] = json!(1)),
            Case::edit("attributes.value", |v| v["attributes"]["list"] = json!([1])),
            Case::edit("events.type", |v| v["events"] = json!(3)),
            Case::edit("events[0].type.required", |v| {
                v["events"][0]["type"] = json!("")
            }),
            Case::edit("events[1].time.required", |v| remove(v, "/events/1/time")),
            Case::edit("unknown_field", |v| v["events"][0]["colour"] = json!("red")),
            Case::edit("spans[0].endTime.gtefield", |v| {
                v["spans"][0]["endTime"] = json!("2020-01-01T00:00:00Z");
            }),
            Case::edit("spans[2].attributes.value", |v| {
                v["spans"][2]["attributes"]["x"] = json!({});
            }),
            // Go's RFC 3339 takes no space for the `T` and no leap second.
            Case::edit("sessionStartTime.format", |v| {
                v["sessionStartTime"] = json!("2023-06-30 01:02:12Z");
            }),
            Case::edit("sessionEndTime.format", |v| {
                v["sessionEndTime"] = json!("2023-06-30T23:59:60Z");
            }),
            Case::edit("events[0].time.format", |v| {
                v["events"][0]["time"] = json!("2023-06-30t01:02:12z");
            }),
            // Plausible times: not before Batect's telemetry, not a day past the server's stamp.
            Case::edit("sessionStartTime.plausible", |v| {
                v["sessionStartTime"] = json!("1900-01-01T00:00:00Z");
            }),
            Case::edit("sessionEndTime.plausible", |v| {
                v["sessionEndTime"] = json!("2030-01-01T00:00:00Z");
            }),
            Case::edit("sessionStartTime.plausible", |v| {
                v["sessionStartTime"] = json!("2262-01-01T00:00:00Z");
                v["sessionEndTime"] = json!("2262-01-01T00:00:01Z");
            }),
            Case::edit("ingestionTime.plausible", |v| {
                v["ingestionTime"] = json!("2019-01-01T00:00:00Z");
            }),
            Case::edit("events[1].time.plausible", |v| {
                v["events"][1]["time"] = json!("2031-01-01T00:00:00Z");
            }),
            Case::edit("spans[0].startTime.plausible", |v| {
                v["spans"][0]["startTime"] = json!("2000-01-01T00:00:00Z");
            }),
        ],
    }
}
