//! Golden SVGs: one per chart kind from a small fixed dataset, and the hard cases — empty
//! data, one row, nulls and NaN, negative values, hostile and very long strings. Every SVG
//! must be well-formed XML and carry no markup from the data.

use report::chart::{Chart, Meta};
use report::query::{Column, Kind, Table, Value};

use crate::common::golden;

fn col(name: &str, kind: Kind) -> Column {
    Column {
        name: name.into(),
        kind,
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// 2023-05-01 as days since the epoch.
const DAY0: i32 = 19_478;

fn by_version() -> Table {
    let mut rows = Vec::new();
    for d in 0..6 {
        for (i, v) in ["0.9.0", "0.10.0", "0.84.0"].iter().enumerate() {
            if d >= i as i32 * 2 {
                rows.push(vec![
                    Value::Date(DAY0 + d),
                    text(v),
                    Value::Int(((d + 1) * (3 - i as i32) * 7 % 23 + 1) as i64),
                ]);
            }
        }
    }
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
    let mut rows = Vec::new();
    for i in 0..60i64 {
        let builder = if i % 3 == 0 { "Legacy" } else { "BuildKit" };
        let ms = (i * 37 % 50) as f64 * 1000.0
            + if builder == "Legacy" {
                15_000.0
            } else {
                2_000.0
            };
        rows.push(vec![text(builder), Value::Float(ms)]);
    }
    Table {
        columns: vec![col("builder", Kind::Text), col("duration_ms", Kind::Float)],
        rows,
    }
}

fn prebinned() -> Table {
    let rows = [
        ("<10ms", 4),
        ("<50ms", 12),
        ("<100ms", 7),
        ("<1s", 3),
        (">=1s", 1),
    ]
    .iter()
    .map(|(b, n)| vec![text(b), Value::Int(*n)])
    .collect();
    Table {
        columns: vec![col("bucket", Kind::Text), col("reports", Kind::Int)],
        rows,
    }
}

fn hour_of_week() -> Table {
    let mut rows = Vec::new();
    for (d, day) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .enumerate()
    {
        for h in 0..24i64 {
            if d == 6 && h < 6 {
                continue; // blank cells: no data, not zero
            }
            let v = if d >= 5 { h % 3 } else { 14 - (h - 12).abs() };
            rows.push(vec![Value::Int(h), text(day), Value::Int(v.max(0))]);
        }
    }
    Table {
        columns: vec![
            col("hour", Kind::Int),
            col("weekday", Kind::Text),
            col("sessions", Kind::Int),
        ],
        rows,
    }
}

fn per_day() -> Table {
    let rows = (0..45)
        .filter(|d| d % 11 != 5)
        .map(|d| vec![Value::Date(DAY0 + d), Value::Int(((d * 17) % 29) as i64)])
        .collect();
    Table {
        columns: vec![col("date", Kind::Date), col("sessions", Kind::Int)],
        rows,
    }
}

fn percentiles() -> Table {
    let rows = ["0.10.0", "0.9.0", "0.84.0"]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let b = 100.0 + 40.0 * i as f64;
            vec![
                text(v),
                Value::Float(b * 0.5),
                Value::Float(b * 0.8),
                Value::Float(b),
                Value::Float(b * 1.4),
                Value::Float(b * 2.5),
            ]
        })
        .collect();
    Table {
        columns: vec![
            col("version", Kind::Text),
            col("p5", Kind::Float),
            col("p25", Kind::Float),
            col("p50", Kind::Float),
            col("p75", Kind::Float),
            col("p95", Kind::Float),
        ],
        rows,
    }
}

fn headline() -> Table {
    Table {
        columns: vec![col("sessions", Kind::Int), col("previous", Kind::Int)],
        rows: vec![vec![Value::Int(1234), Value::Int(1100)]],
    }
}

fn hostile() -> Table {
    let long = "an-extremely-long-shell-name-that-goes-on-and-on-and-on-forever-and-ever";
    let rows = [
        ("<script>alert(1)</script>", 5),
        ("\"><svg onload=alert(1)>", 3),
        ("=HYPERLINK(\"http://x\")", 2),
        ("bash & zsh ' \"quoted\"", 1),
        (long, 4),
    ]
    .iter()
    .map(|(s, n)| {
        vec![
            text(s),
            Value::Int(*n),
            Value::Date(DAY0 + *n as i32),
            text(s),
        ]
    })
    .collect();
    Table {
        columns: vec![
            col("shell", Kind::Text),
            col("sessions", Kind::Int),
            col("date", Kind::Date),
            col("series", Kind::Text),
        ],
        rows,
    }
}

fn spec(toml_text: &str) -> Chart {
    let report = report::definition::Report::parse(
        &format!("title = \"t\"\n[[panel]]\ntitle = \"p\"\nquery = \"q\"\n{toml_text}"),
        std::path::Path::new("reports/golden.toml"),
    )
    .expect("spec parses");
    report.panels.into_iter().next().expect("one panel").chart
}

fn render(name: &str, chart: &Chart, table: &Table) -> String {
    let meta = Meta {
        id: name.into(),
        title: format!("{name} <title> & \"quotes\""),
        description: format!("Golden chart {name}"),
        data_range: None,
        canvas: report::chart::style::WIDE,
    };
    let svg = chart
        .render(table, &meta)
        .expect("renders")
        .expect("an SVG");
    check_xml(name, &svg);
    assert!(
        !svg.contains("<script"),
        "{name}: raw <script> from the data"
    );
    assert!(
        !svg.contains("<svg onload"),
        "{name}: raw markup from the data"
    );
    assert!(
        svg.contains(&format!("<title id=\"{name}-title\">")),
        "{name}: no <title>"
    );
    assert!(
        svg.contains(&format!("<desc id=\"{name}-desc\">")),
        "{name}: no <desc>"
    );
    check_legible_and_titled(name, &svg);
    // The same chart drawn for a phone holds to the same rules.
    let narrow = Meta {
        id: format!("{name}-narrow"),
        canvas: report::chart::style::NARROW,
        ..meta
    };
    let phone = chart
        .render(table, &narrow)
        .expect("renders narrow")
        .expect("an SVG");
    check_xml(name, &phone);
    check_legible_and_titled(&format!("{name} (narrow)"), &phone);
    svg
}

/// The content width a page gives a chart where it shows (style.css): a wide chart shows from
/// a 52rem viewport (832 px, less 2 × 24 px of padding and a 15 px scroll bar); a narrow one,
/// and a chart of one size, on a 390 px phone (less 2 × 16 px of padding).
const WIDE_SHOWN_IN: f64 = 769.0;
const PHONE_CONTENT: f64 = 358.0;

/// Fails on chart text under 12 px at the size the page shows the SVG, and on a mark (every
/// `rect` and `circle`: plotters draws neither for axes, grids or lines) outside a group that
/// holds a `<title>`.
pub fn check_legible_and_titled(name: &str, svg: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let attr = |e: &quick_xml::events::BytesStart, key: &str| -> Option<String> {
        e.try_get_attribute(key)
            .ok()
            .flatten()
            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
    };
    // Per open element: its name, and whether it holds a <title>.
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut scale = 1.0;
    loop {
        let (e, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e.into_owned(), false),
            Ok(Event::Empty(e)) => (e.into_owned(), true),
            Ok(Event::End(_)) => {
                open.pop();
                continue;
            }
            Ok(Event::Eof) => break,
            Ok(_) => continue,
            Err(e) => panic!("{name}: {e}"),
        };
        let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        match tag.as_str() {
            "svg" => {
                let width: f64 = attr(&e, "width")
                    .and_then(|w| w.parse().ok())
                    .expect("width");
                let class = attr(&e, "class").unwrap_or_default();
                let room = if class.contains("wide") && width > PHONE_CONTENT {
                    WIDE_SHOWN_IN
                } else {
                    PHONE_CONTENT
                };
                scale = (room / width).min(1.0);
            }
            "text" => {
                let size: f64 = attr(&e, "font-size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("{name}: a <text> without a font-size"));
                assert!(
                    size * scale >= 12.0 - 1e-9,
                    "{name}: text at {:.1} px (font-size {size} × scale {scale:.2})",
                    size * scale
                );
            }
            "title" => {
                if let Some(parent) = open.last_mut() {
                    parent.1 = true;
                }
            }
            "rect" | "circle" => {
                let titled = open.iter().any(|(t, titled)| t == "g" && *titled);
                assert!(
                    titled,
                    "{name}: a <{tag}> mark without a <title>: {}",
                    String::from_utf8_lossy(&e)
                );
            }
            _ => {}
        }
        if !empty {
            open.push((tag, false));
        }
    }
}

fn check_xml(name: &str, svg: &str) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name}: SVG is not well-formed XML: {e}\n{svg}"),
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced SVG");
    // quick-xml does not check characters: XML 1.0 allows no C0 control but tab and newlines.
    if let Some(c) = svg
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        panic!("{name}: SVG holds {c:?}, which XML does not allow");
    }
}

/// (golden name, spec, data)
fn cases() -> Vec<(&'static str, &'static str, Table)> {
    vec![
        (
            "line",
            "chart = \"line\"\nx = \"date\"\ny = \"sessions\"\nseries = \"version\"\ny_title = \"Sessions\"",
            by_version(),
        ),
        (
            "bar_grouped",
            "chart = \"bar\"\nx = \"date\"\ny = \"sessions\"\nseries = \"version\"",
            by_version(),
        ),
        (
            "bar_stacked",
            "chart = \"bar\"\nx = \"version\"\ny = \"sessions\"\nseries = \"date\"\nstack = true",
            by_version(),
        ),
        (
            "area_percent",
            "chart = \"area\"\nx = \"date\"\ny = \"sessions\"\nseries = \"version\"\nstack = \"percent\"",
            by_version(),
        ),
        (
            "histogram_overlay",
            "chart = \"histogram\"\nvalue = \"duration_ms\"\ngroup = \"builder\"\nbin_width = 5000.0\nmax = 45000.0\nx_format = \"duration_ms\"",
            durations(),
        ),
        (
            "histogram_log",
            "chart = \"histogram\"\nvalue = \"duration_ms\"\nlog = true",
            durations(),
        ),
        (
            "histogram_prebinned",
            "chart = \"histogram\"\nbucket = \"bucket\"\ncount = \"reports\"",
            prebinned(),
        ),
        (
            "heatmap",
            "chart = \"heatmap\"\nx = \"hour\"\ny = \"weekday\"\nvalue = \"sessions\"\ny_order = \"query\"",
            hour_of_week(),
        ),
        (
            "heatmap_log",
            "chart = \"heatmap\"\nx = \"hour\"\ny = \"weekday\"\nvalue = \"sessions\"\nscale = \"log\"\ny_order = \"query\"",
            hour_of_week(),
        ),
        (
            "calendar",
            "chart = \"calendar\"\ndate = \"date\"\nvalue = \"sessions\"",
            per_day(),
        ),
        (
            "box",
            "chart = \"box\"\ngroup = \"version\"\ny_format = \"duration_ms\"",
            percentiles(),
        ),
        (
            "number",
            "chart = \"number\"\nvalue = \"sessions\"\nprevious = \"previous\"\nlabel = \"sessions in the last 7 days\"",
            headline(),
        ),
        (
            "hostile_bar",
            "chart = \"bar\"\nx = \"shell\"\ny = \"sessions\"\nseries = \"series\"",
            hostile(),
        ),
        (
            "hostile_line",
            "chart = \"line\"\nx = \"date\"\ny = \"sessions\"\nseries = \"series\"",
            hostile(),
        ),
        (
            "hostile_heatmap",
            "chart = \"heatmap\"\nx = \"date\"\ny = \"shell\"\nvalue = \"sessions\"",
            hostile(),
        ),
    ]
}

#[test]
fn a_nul_or_an_escape_in_a_label_still_makes_well_formed_xml() {
    for (name, toml_text, mut table) in cases() {
        for row in &mut table.rows {
            for v in row.iter_mut() {
                if let Value::Text(s) = v {
                    *s = format!("a\0b\u{1b}[31m{s}\u{7}");
                }
            }
        }
        render(&format!("{name}-nul"), &spec(toml_text), &table);
    }
}

#[test]
fn every_kind_matches_its_golden_svg() {
    for (name, toml_text, table) in cases() {
        let svg = render(name, &spec(toml_text), &table);
        golden(&format!("charts/{name}.svg"), svg.as_bytes());
    }
}

#[test]
fn hard_data_renders_and_says_what_it_shows() {
    for (name, toml_text, table) in cases() {
        let chart = spec(toml_text);
        // Empty: says so.
        let empty = Table {
            columns: table.columns.clone(),
            rows: vec![],
        };
        let svg = render(&format!("{name}-empty"), &chart, &empty);
        assert!(
            svg.contains("no data for this period"),
            "{name}: empty chart does not say so"
        );
        // One row.
        let one = Table {
            columns: table.columns.clone(),
            rows: table.rows[..1].to_vec(),
        };
        render(&format!("{name}-one"), &chart, &one);
        // Nulls and NaN in every column, negative numbers.
        let mut holes = table.clone();
        for (i, row) in holes.rows.iter_mut().enumerate() {
            let c = i % row.len();
            row[c] = if i % 2 == 0 {
                Value::Null
            } else {
                Value::Float(f64::NAN)
            };
            for v in row.iter_mut() {
                if let Value::Int(n) = v
                    && i % 5 == 0
                {
                    *v = Value::Int(-*n);
                }
            }
        }
        render(&format!("{name}-holes"), &chart, &holes);
    }
}

#[test]
fn goldens_of_the_hard_cases() {
    let chart = spec("chart = \"line\"\nx = \"date\"\ny = \"sessions\"");
    let empty = Table {
        columns: per_day().columns,
        rows: vec![],
    };
    golden(
        "charts/empty.svg",
        render("empty", &chart, &empty).as_bytes(),
    );
    let one = Table {
        columns: per_day().columns,
        rows: per_day().rows[..1].to_vec(),
    };
    golden(
        "charts/one_row.svg",
        render("one_row", &chart, &one).as_bytes(),
    );
    let mut nulls = per_day();
    for (i, r) in nulls.rows.iter_mut().enumerate() {
        if i % 4 == 1 {
            r[1] = Value::Null;
        }
    }
    golden(
        "charts/nulls.svg",
        render("nulls", &chart, &nulls).as_bytes(),
    );
}

#[test]
fn versions_order_by_semver_on_axes_and_series() {
    let svg = render(
        "order",
        &spec("chart = \"bar\"\nx = \"version\"\ny = \"p50\""),
        &percentiles(),
    );
    let (a, b, c) = (
        svg.find(">\n0.9.0").or(svg.find(">0.9.0")),
        svg.find("0.10.0"),
        svg.find("0.84.0"),
    );
    assert!(
        a.is_some() && a < b && b < c,
        "versions not in semver order"
    );
}

#[test]
fn columns_the_query_does_not_return_are_errors_naming_them() {
    let meta = Meta {
        id: "x".into(),
        title: "t".into(),
        description: "d".into(),
        data_range: None,
        canvas: report::chart::style::WIDE,
    };
    let err = spec("chart = \"heatmap\"\nx = \"hour\"\ny = \"day\"\nvalue = \"sessions\"")
        .render(&hour_of_week(), &meta)
        .expect_err("missing column");
    let text = format!("{err:#}");
    assert!(
        text.contains("\"day\"") && text.contains("weekday"),
        "{text}"
    );
}
