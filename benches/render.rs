//! Chart rendering speed: 200 charts (every kind, realistic sizes) rendered to SVG strings as
//! a site does, wide and (for kinds that have one) narrow. `cargo bench --bench render` prints
//! the time per round of 200 charts; not part of the tests.

use std::hint::black_box;
use std::time::Instant;

use report::chart::{Chart, Meta};
use report::definition::Report;
use report::query::{Column, Kind, Table, Value};

fn col(name: &str, kind: Kind) -> Column {
    Column {
        name: name.into(),
        kind,
    }
}

/// 120 days × 8 versions, like the fixture site's busiest panel.
fn daily_by_version() -> Table {
    let versions = [
        "0.77.0", "0.78.0", "0.79.0", "0.80.0", "0.81.0", "0.82.0", "0.83.0", "0.84.0",
    ];
    let rows = (0..120)
        .flat_map(|d| versions.iter().enumerate().map(move |(i, v)| (d, i, v)))
        .map(|(d, i, v)| {
            vec![
                Value::Date(19_478 + d),
                Value::Text(v.to_string()),
                Value::Int(((d as usize * 7 + i * 13) % 40) as i64),
            ]
        })
        .collect();
    Table {
        columns: vec![
            col("date", Kind::Date),
            col("version", Kind::Text),
            col("sessions", Kind::Int),
        ],
        rows,
    }
}

fn durations() -> Table {
    let rows = (0..2000)
        .map(|i: i64| {
            vec![
                Value::Text(if i % 3 == 0 { "Legacy" } else { "BuildKit" }.into()),
                Value::Float(((i * 7919) % 90_000) as f64),
            ]
        })
        .collect();
    Table {
        columns: vec![col("builder", Kind::Text), col("duration_ms", Kind::Float)],
        rows,
    }
}

fn hour_of_week() -> Table {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let rows = (0..24i64)
        .flat_map(|h| {
            days.iter().map(move |d| {
                vec![
                    Value::Int(h),
                    Value::Text(d.to_string()),
                    Value::Int((h * 5) % 17),
                ]
            })
        })
        .collect();
    Table {
        columns: vec![
            col("hour", Kind::Int),
            col("weekday", Kind::Text),
            col("sessions", Kind::Int),
        ],
        rows,
    }
}

fn percentiles() -> Table {
    let rows = (0..8)
        .map(|i| {
            let b = 100.0 + i as f64 * 10.0;
            let mut r = vec![Value::Text(format!("0.{}.0", 77 + i))];
            r.extend(
                [0.5, 0.8, 1.0, 1.4, 2.5]
                    .iter()
                    .map(|f| Value::Float(b * f)),
            );
            r
        })
        .collect();
    let mut columns = vec![col("version", Kind::Text)];
    columns.extend(
        ["p5", "p25", "p50", "p75", "p95"]
            .iter()
            .map(|c| col(c, Kind::Float)),
    );
    Table { columns, rows }
}

fn chart(spec: &str) -> Chart {
    let text = format!("title = \"bench\"\n[[panel]]\ntitle = \"p\"\nquery = \"q\"\n{spec}");
    Report::parse(&text, std::path::Path::new("reports/bench.toml"))
        .expect("spec parses")
        .panels
        .remove(0)
        .chart
}

fn main() {
    let cases = [
        (
            chart("chart = \"line\"\nx = \"date\"\ny = \"sessions\"\nseries = \"version\""),
            daily_by_version(),
        ),
        (
            chart(
                "chart = \"area\"\nx = \"date\"\ny = \"sessions\"\nseries = \"version\"\nstack = \"percent\"",
            ),
            daily_by_version(),
        ),
        (
            chart("chart = \"bar\"\nx = \"version\"\ny = \"sessions\""),
            daily_by_version(),
        ),
        (
            chart(
                "chart = \"histogram\"\nvalue = \"duration_ms\"\ngroup = \"builder\"\nbin_width = 5000.0\nmax = 60000.0",
            ),
            durations(),
        ),
        (
            chart("chart = \"heatmap\"\nx = \"hour\"\ny = \"weekday\"\nvalue = \"sessions\""),
            hour_of_week(),
        ),
        (
            chart("chart = \"calendar\"\ndate = \"date\"\nvalue = \"sessions\""),
            daily_by_version(),
        ),
        (chart("chart = \"box\"\ngroup = \"version\""), percentiles()),
        (
            chart("chart = \"number\"\nvalue = \"sessions\""),
            daily_by_version(),
        ),
    ];
    let meta = Meta {
        id: "b".into(),
        title: "bench".into(),
        description: "bench".into(),
        data_range: None,
        canvas: report::chart::style::WIDE,
    };
    let narrow = Meta {
        canvas: report::chart::style::NARROW,
        ..meta.clone()
    };
    let round = || {
        let start = Instant::now();
        let mut bytes = 0;
        for i in 0..200 {
            let (c, t) = &cases[i % cases.len()];
            bytes += black_box(c.render(t, &meta).expect("renders")).map_or(0, |s| s.len());
            if c.has_narrow_layout() {
                let svg = c.render(t, &narrow).expect("renders narrow");
                bytes += black_box(svg).map_or(0, |s| s.len());
            }
        }
        (start.elapsed(), bytes)
    };
    round(); // warm-up
    let mut times: Vec<f64> = (0..7).map(|_| round().0.as_secs_f64()).collect();
    times.sort_by(f64::total_cmp);
    let (_, bytes) = round();
    println!(
        "render: 200 charts ({} kinds, {:.1} MB of SVG) in {:.3} s median of 7 rounds (min {:.3} s, max {:.3} s)",
        cases.len(),
        bytes as f64 / 1e6,
        times[3],
        times[0],
        times[6]
    );
}
