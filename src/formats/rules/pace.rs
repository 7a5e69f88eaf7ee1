//! PACE: every rule of a snapshot, over the reference upload, for a source with
//! `written_at = "key"` (each case's key has a time stamp, but the one about the key; the
//! plausible cases' stamps are a day past the store's time or before PACE's telemetry).

use serde_json::json;

use super::{Case, Table, remove};

const JSON: &str = include_str!("../../../fixtures/reference/pace/telemetry.upload.json");

pub fn table() -> Table {
    Table {
        format: "pace",
        base: serde_json::from_str(JSON).expect("the reference upload parses"),
        key: |i, rule| format!("20240901T10{:02}{:02}Z-{rule}.json", i / 60, i % 60),
        cases: vec![
            Case::bytes("json", "{"),
            Case::bytes("json", "{\"id\":"),
            Case::bytes("json", "- 1"),
            Case::bytes("yaml", "a: ["),
            Case::bytes("yaml", "id: [unclosed"),
            Case::edit("written_at.key", |_| {}).at_key("no-stamp.json"),
            // A key stamp a day past the store's time, or before PACE's telemetry began.
            Case::edit("written_at.plausible", |_| {})
                .at_key("20990101T000000Z-ahead.json")
                .message_starts_with("written_at 2099-01-01T00:00:00Z is more than 24 h after"),
            Case::edit("written_at.plausible", |_| {})
                .at_key("20231231T235959Z-early.json")
                .message_starts_with("written_at 2023-12-31T23:59:59Z is before 2024-01-01"),
            Case::edit("id.required", |v| remove(v, "/id")),
            Case::edit("id.required", |v| v["id"] = json!(null)),
            Case::edit("id.type", |v| v["id"] = json!(7)),
            Case::edit("id.uuid4", |v| {
                v["id"] = json!("36BE4C46-4E1B-431D-B9DB-1B315F537A85");
            }),
            Case::edit("id.uuid4", |v| v["id"] = json!("install-1")),
            Case::edit("cli_version.required", |v| remove(v, "/cli_version")),
            Case::edit("cli_version.required", |v| v["cli_version"] = json!("")),
            Case::edit("cli_version.semver", |v| v["cli_version"] = json!("latest")),
            Case::edit("cli_version.semver", |v| v["cli_version"] = json!("main")),
            Case::edit("operating_system.required", |v| {
                remove(v, "/operating_system");
            }),
            Case::edit("operating_system.required", |v| {
                v["operating_system"] = json!(null);
            }),
            Case::edit("operating_system.goos", |v| {
                v["operating_system"] = json!("macOS");
            }),
            Case::edit("operating_system.goos", |v| {
                v["operating_system"] = json!("Windows 11");
            }),
            Case::edit("metric_points.type", |v| v["metric_points"] = json!([])),
            Case::edit("metric_points.type", |v| {
                v["metric_points"] = json!("pace version");
            }),
            Case::edit("metric_points.command", |v| {
                v["metric_points"]["list tables"] = json!({"0": {"cumulative_count": 1}});
            }),
            Case::edit("metric_points.command", |v| {
                v["metric_points"]["pace --help"] = json!({"0": {"cumulative_count": 1}});
            }),
            Case::edit("metric_points.exit_code", |v| {
                v["metric_points"]["pace version"]["2"] = json!({"cumulative_count": 1});
            }),
            Case::edit("metric_points.exit_code", |v| {
                v["metric_points"]["pace version"]["127"] = json!({"cumulative_count": 1});
            }),
            Case::edit("metric_points.cumulative_count", |v| {
                v["metric_points"]["pace version"]["0"] = json!({"cumulative_count": -1});
            }),
            Case::edit("metric_points.cumulative_count", |v| {
                v["metric_points"]["pace version"]["0"] =
                    json!({"cumulative_count": 5_000_000_000u64});
            }),
        ],
    }
}
