//! devstack: every rule of a Segment track event, over the first reference event.

use serde_json::json;

use super::{Case, Table, remove};

const EVENTS: &str =
    include_str!("../../../fixtures/reference/devstack/segment_track_events.ndjson");

pub fn table() -> Table {
    let first = EVENTS.lines().next().expect("a reference event");
    // A broken line quarantines its NDJSON object, and the reason names the line.
    let broken_line = format!("{EVENTS}{{\"event\": \"devstack.command.run\"}}\n");
    let late_line = format!(
        "{EVENTS}{}\n",
        first.replace(
            "\"start_time\": \"2021-06-22",
            "\"start_time\": \"2099-06-22"
        )
    );
    Table {
        format: "devstack",
        base: serde_json::from_str(first).expect("the reference event parses"),
        key: |i, rule| format!("events/{i:02}-{rule}.json"),
        cases: vec![
            Case::bytes("json", "[]"),
            Case::edit("json", |v| *v = json!("devstack.command.run")),
            Case::bytes("empty", ""),
            Case::bytes("empty", "\n\n"),
            Case::bytes("userId.required", broken_line).message_starts_with("line 5: "),
            Case::edit("event.required", |v| remove(v, "/event")),
            Case::edit("event.required", |v| v["event"] = json!(null)),
            Case::edit("event.value", |v| v["event"] = json!("page")),
            Case::edit("event.value", |v| {
                v["event"] = json!("devstack.command.ran")
            }),
            Case::edit("userId.required", |v| remove(v, "/userId")),
            Case::edit("userId.required", |v| v["userId"] = json!(null)),
            Case::edit("userId.uuid4", |v| v["userId"] = json!("bob")),
            Case::edit("userId.uuid4", |v| {
                v["userId"] = json!("5B0E6C2A-3F1D-4A8E-9C7B-2D4F6A8E0B13");
            }),
            Case::edit("properties.required", |v| remove(v, "/properties")),
            Case::edit("properties.required", |v| v["properties"] = json!([])),
            Case::edit("properties.command.required", |v| {
                remove(v, "/properties/command");
            }),
            Case::edit("properties.command.required", |v| {
                v["properties"]["command"] = json!("");
            }),
            Case::edit("properties.command.length", |v| {
                v["properties"]["command"] = json!("dev.up.".repeat(10));
            }),
            Case::edit("properties.command.length", |v| {
                v["properties"]["command"] = json!(format!("dev.up.{}", "lms+".repeat(12)));
            }),
            Case::edit("properties.start_time.required", |v| {
                remove(v, "/properties/start_time");
            }),
            Case::edit("properties.start_time.required", |v| {
                v["properties"]["start_time"] = json!(null);
            }),
            Case::edit("properties.start_time.format", |v| {
                v["properties"]["start_time"] = json!("2021-06-22 15:04");
            }),
            Case::edit("properties.start_time.format", |v| {
                v["properties"]["start_time"] = json!("2021-06-22T15:04:05");
            }),
            Case::edit("properties.duration_ms.type", |v| {
                v["properties"]["duration_ms"] = json!(-5);
            }),
            Case::edit("properties.duration_ms.type", |v| {
                v["properties"]["duration_ms"] = json!("48s");
            }),
            Case::edit("properties.duration.type", |v| {
                v["properties"]["duration"] = json!("1s");
            }),
            Case::edit("properties.duration.type", |v| {
                v["properties"]["duration"] = json!(-1);
            }),
            Case::edit("properties.exit_status.type", |v| {
                v["properties"]["exit_status"] = json!(1.5);
            }),
            Case::edit("properties.exit_status.type", |v| {
                v["properties"]["exit_status"] = json!("0");
            }),
            Case::edit("properties.exit_status.required", |v| {
                remove(v, "/properties/exit_status");
            }),
            Case::edit("properties.exit_status.required", |v| {
                v["properties"]["exit_status"] = json!(null);
            }),
            Case::edit("properties.git_commit_time.format", |v| {
                v["properties"]["git_commit_time"] = json!("yesterday");
            }),
            Case::edit("properties.git_commit_time.format", |v| {
                v["properties"]["git_commit_time"] = json!("abc");
            }),
            Case::edit("properties.git_checked_out_master.type", |v| {
                v["properties"]["git_checked_out_master"] = json!("yes");
            }),
            Case::edit("properties.git_checked_out_master.type", |v| {
                v["properties"]["git_checked_out_master"] = json!(1);
            }),
            Case::edit("properties.is_test.type", |v| {
                v["properties"]["is_test"] = json!(false);
            }),
            Case::edit("properties.is_test.type", |v| {
                v["properties"]["is_test"] = json!(true);
            }),
            Case::edit("properties.command_type.type", |v| {
                v["properties"]["command_type"] = json!(1);
            }),
            Case::edit("properties.command_type.type", |v| {
                v["properties"]["command_type"] = json!(["make"]);
            }),
            Case::edit("sentAt.format", |v| v["sentAt"] = json!("now")),
            Case::edit("sentAt.format", |v| v["sentAt"] = json!("Tuesday")),
            // Plausible times: not before devstack's metrics, not a day past the store's stamp.
            Case::edit("properties.start_time.plausible", |v| {
                v["properties"]["start_time"] = json!("2099-01-01T00:00:00+00:00");
            })
            .message_starts_with("properties.start_time 2099-01-01T00:00:00Z is more than 24 h"),
            Case::edit("properties.start_time.plausible", |v| {
                v["properties"]["start_time"] = json!("2021-04-30T19:00:00-04:00");
            })
            .message_starts_with("properties.start_time 2021-04-30T23:00:00Z is before"),
            Case::edit("properties.start_time.plausible", |v| {
                v["properties"]["start_time"] = json!("1970-01-01T00:00:00+00:00");
            }),
            Case::edit("properties.git_commit_time.plausible", |v| {
                v["properties"]["git_commit_time"] = json!("2099-06-21T12:28:46-04:00");
            }),
            Case::edit("properties.git_commit_time.plausible", |v| {
                v["properties"]["git_commit_time"] = json!("2016-06-21T12:28:46-04:00");
            }),
            Case::edit("sentAt.plausible", |v| {
                v["sentAt"] = json!("2099-01-01T00:00:00+00:00");
            }),
            // An implausible event quarantines its batch like a broken one.
            Case::bytes("properties.start_time.plausible", late_line)
                .message_starts_with("line 5: "),
        ],
    }
}
