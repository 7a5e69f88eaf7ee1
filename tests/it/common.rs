use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use report::config::{Overrides, Settings};

/// The repository root (the fixture project).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings of the fixture project with the warehouse and site in `tmp`, pulling `sources`
/// (name, folder) instead of the configured one when given.
pub fn settings(tmp: &Path, sources: &[(&str, &Path)]) -> Settings {
    let mut text = format!(
        "warehouse = {:?}\noutput = {:?}\nqueries = {:?}\nreports = {:?}\n[pull]\nbatch_size = 700\n",
        tmp.join("warehouse"),
        tmp.join("site"),
        repo().join("queries"),
        repo().join("reports"),
    );
    for (name, dir) in sources {
        text.push_str(&format!(
            "[[source]]\nname = {name:?}\nformat = \"abacus\"\napplication_ids = [\"batect\", \"test-app\", \"smoke-test-app\"]\nurl = {:?}\n",
            dir
        ));
    }
    Settings::parse(
        &text,
        &tmp.join("report.toml"),
        &BTreeMap::new(),
        &Overrides::default(),
    )
    .expect("test config parses")
}

/// The project's definitions of `s`, which must load without a problem.
pub fn defs(s: &Settings) -> report::project::Definitions {
    let (defs, problems) = report::project::load_definitions(&s.queries, &s.reports);
    assert!(problems.is_empty(), "{problems:?}");
    defs
}

/// Writes generated objects under `dir` by key.
pub fn write_objects(dir: &Path, objects: &[report::formats::generate::Object]) {
    let files = objects
        .iter()
        .map(|o| (Path::new(&o.key), o.bytes.as_slice()));
    report::output::write_files(dir, files).expect("objects written");
}

pub fn fixtures() -> PathBuf {
    repo().join("fixtures/abacus")
}

pub fn invalid_fixtures() -> PathBuf {
    repo().join("fixtures/invalid")
}

/// Every file below `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("below dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The warehouse of `s`, opened.
pub async fn open(s: &Settings) -> report::warehouse::Warehouse {
    report::pipeline::open_warehouse(s, true)
        .await
        .expect("warehouse opens")
}

/// The warehouse in the local folder `dir`.
pub async fn open_dir(dir: &Path) -> report::warehouse::Warehouse {
    let bucket = report::store::open_place(
        &report::store::Place {
            what: "warehouse".into(),
            url: &dir.to_string_lossy(),
            options: &BTreeMap::new(),
            prefix: None,
            warehouse: true,
            create: false,
        },
        0,
    )
    .expect("warehouse folder");
    report::warehouse::Warehouse::open(bucket, &dir.to_string_lossy())
        .await
        .expect("warehouse opens")
}

/// Runs `f` to its end on a runtime of its own (for tests that are not async).
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The local folder of the warehouse of `s`.
pub fn warehouse_dir(s: &Settings) -> PathBuf {
    PathBuf::from(&s.warehouse)
}

/// Asserts that the local warehouses of `a` and `b` hold the same files, byte for byte
/// (commits included: a pull writes no clock and no random name).
pub fn same_warehouse(a: &Settings, b: &Settings) {
    let (wa, wb) = (warehouse_dir(a), warehouse_dir(b));
    let names = files(&wa);
    assert_eq!(names, files(&wb));
    for f in &names {
        let same = std::fs::read(wa.join(f)).ok() == std::fs::read(wb.join(f)).ok();
        assert!(same, "{} differs", f.display());
    }
}

/// Compares `actual` with the golden file `tests/expected/<name>`; `REPORT_BLESS=1` rewrites
/// goldens (review the diff before committing it).
pub fn golden(name: &str, actual: &[u8]) {
    let path = repo().join("tests/expected").join(name);
    if std::env::var_os("REPORT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden {}; run with REPORT_BLESS=1 and review it",
            path.display()
        )
    });
    if expected != actual {
        let got = path.with_extension(format!(
            "{}.actual",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        std::fs::write(&got, actual).expect("write actual");
        panic!(
            "{} differs from its golden; the output is in {} (diff them; REPORT_BLESS=1 accepts)",
            path.display(),
            got.display()
        );
    }
}

/// Compares the site built in `site` with the golden set `tests/expected/<dir>`: the same
/// files (a missing or an extra one fails), each HTML page on its `<main>` only (mdBook's
/// habit: the page's frame is the template's, not the data's), every other file whole.
/// `REPORT_BLESS=1` rewrites the set, removing goldens the build no longer writes.
pub fn golden_site(dir: &str, site: &Path) {
    let expected = repo().join("tests/expected").join(dir);
    let built = files(site);
    let goldens: Vec<PathBuf> = if expected.exists() {
        files(&expected)
            .into_iter()
            .filter(|f| !f.to_string_lossy().ends_with(".actual"))
            .collect()
    } else {
        Vec::new()
    };
    if std::env::var_os("REPORT_BLESS").is_some() {
        for stale in goldens.iter().filter(|g| !built.contains(g)) {
            std::fs::remove_file(expected.join(stale)).expect("remove a stale golden");
        }
    } else {
        assert_eq!(
            goldens,
            built,
            "the site's files differ from {}",
            expected.display()
        );
    }
    for f in &built {
        let bytes = std::fs::read(site.join(f)).expect("read");
        let compared = if f.extension().is_some_and(|e| e == "html") {
            main_of(&bytes)
        } else {
            bytes
        };
        golden(&format!("{dir}/{}", f.display()), &compared);
    }
}

/// The `<main>…</main>` region of a page.
pub fn main_of(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let start = text.find("<main>").expect("a page has <main>");
    let end = text.find("</main>").expect("a page has </main>") + "</main>".len();
    let mut out = text[start..end].as_bytes().to_vec();
    out.push(b'\n');
    out
}

/// A command's stdout and stderr, as one text.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
