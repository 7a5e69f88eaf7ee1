//! Go telemetry: every rule of an upload report, over the reference upload report.

use serde_json::json;

use super::{Case, Table, remove};

const REPORT: &str =
    include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.upload-report.json");
const MERGED: &str =
    include_str!("../../../fixtures/reference/go-telemetry/2024-09-26.merged.ndjson");

/// The server's largest accepted upload (`telemetrygodev`: 100 KiB).
const MAX_REPORT_BYTES: usize = 100 << 10;

pub fn table() -> Table {
    let big = format!("{{\"Week\":\"{}\"}}", "x".repeat(MAX_REPORT_BYTES));
    let bad_line = format!(
        "{}\n{{\"Week\":\"x\"}}\n",
        MERGED.lines().next().expect("a merged line")
    );
    let late_line = format!(
        "{}\n{}\n",
        MERGED.lines().next().expect("a merged line"),
        REPORT
            .replace("\"Week\": \"2024-09-26\"", "\"Week\": \"2099-01-05\"")
            .replace('\n', "")
    );
    Table {
        format: "go-telemetry",
        base: serde_json::from_str(REPORT).expect("the reference report parses"),
        key: |i, rule| format!("2024-09-26/{i:02}-{rule}.json"),
        cases: vec![
            Case::bytes("json", "[1]"),
            Case::bytes("empty", "\n \n"),
            Case::bytes("body.size", big),
            Case::edit("Week.required", |v| remove(v, "/Week")),
            Case::edit("Week.required", |v| v["Week"] = json!(null)),
            Case::edit("Week.date", |v| v["Week"] = json!("2024-13-01")),
            Case::edit("Week.date", |v| v["Week"] = json!("26/09/2024")),
            // A broken line quarantines its merged day; the reason names the line.
            Case::bytes("Week.date", bad_line).message_starts_with("line 2: "),
            Case::edit("Config.semver", |v| v["Config"] = json!("0.31.0")),
            Case::edit("Config.semver", |v| v["Config"] = json!("latest")),
            Case::edit("X.nonzero", |v| v["X"] = json!(0)),
            Case::edit("X.range", |v| v["X"] = json!(2)),
            Case::edit("X.range", |v| v["X"] = json!(-0.5)),
            Case::edit("X.type", |v| v["X"] = json!("0.5")),
            Case::edit("Programs.type", |v| v["Programs"] = json!(3)),
            Case::edit("Programs.type", |v| v["Programs"] = json!({})),
            Case::edit("Programs.GOOS.type", |v| {
                v["Programs"][0]["GOOS"] = json!(1);
            }),
            Case::edit("Programs.GOOS.config", |v| {
                v["Programs"][0]["GOOS"] = json!("beos");
            }),
            Case::edit("Programs.GOARCH.config", |v| {
                v["Programs"][0]["GOARCH"] = json!("z80");
            }),
            Case::edit("Programs.GOARCH.config", |v| {
                v["Programs"][0]["GOARCH"] = json!("vax");
            }),
            Case::edit("Programs.GoVersion.config", |v| {
                v["Programs"][0]["GoVersion"] = json!("go0.1");
            }),
            Case::edit("Programs.GoVersion.config", |v| {
                v["Programs"][0]["GoVersion"] = json!("go1.0");
            }),
            Case::edit("Programs.Program.config", |v| {
                v["Programs"][0]["Program"] = json!("example.com/x");
            }),
            Case::edit("Programs.Program.config", |v| {
                v["Programs"][0]["Program"] = json!("example.com/tool");
            }),
            Case::edit("Programs.Version.config", |v| {
                v["Programs"][0]["Version"] = json!("v9.9.9");
            }),
            Case::edit("Programs.Version.config", |v| {
                v["Programs"][0]["Version"] = json!("v0.0.1");
            }),
            Case::edit("Programs.Counters.type", |v| {
                v["Programs"][0]["Counters"] = json!("x");
            }),
            Case::edit("Programs.Counters.config", |v| {
                v["Programs"][0]["Counters"]["gopls/secret:x"] = json!(1);
            }),
            Case::edit("Programs.Counters.config", |v| {
                v["Programs"][0]["Counters"]["gopls/private:x"] = json!(1);
            }),
            Case::edit("Programs.Counters.value", |v| {
                v["Programs"][0]["Counters"]["gopls/client:vscode"] = json!(-1);
            }),
            Case::edit("Programs.Counters.value", |v| {
                v["Programs"][0]["Counters"]["gopls/client:vscode"] = json!(-3);
            }),
            Case::edit("Programs.Stacks.config", |v| {
                v["Programs"][0]["Stacks"]["other/bug\nmain.main:+1"] = json!(1);
            }),
            Case::edit("Programs.Stacks.config", |v| {
                v["Programs"][0]["Stacks"]["unknown/bug\nmain.main:+1"] = json!(1);
            }),
            Case::edit("Programs.Stacks.value", |v| {
                v["Programs"][0]["Stacks"]["gopls/bug\nmain.main:+1"] = json!(1.5);
            }),
            // Plausible weeks: not before Go telemetry began, not a day past the store's stamp.
            Case::edit("Week.plausible", |v| v["Week"] = json!("2099-01-05"))
                .message_starts_with("Week 2099-01-05T00:00:00Z is more than 24 h after"),
            Case::edit("Week.plausible", |v| v["Week"] = json!("2022-12-26"))
                .message_starts_with("Week 2022-12-26T00:00:00Z is before 2023-05-01"),
            Case::edit("LastWeek.plausible", |v| {
                v["LastWeek"] = json!("2099-01-05")
            }),
            Case::edit("LastWeek.plausible", |v| {
                v["LastWeek"] = json!("1970-01-01")
            }),
            // An implausible line quarantines its merged day like a broken one.
            Case::bytes("Week.plausible", late_line).message_starts_with("line 2: "),
        ],
    }
}
