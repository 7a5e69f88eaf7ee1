//! Build script: embeds the starter dashboards (`queries/`, `reports/`) that `report init`
//! writes, and records the commit `report --version` names.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut files = Vec::new();
    for dir in ["queries", "reports"] {
        println!("cargo:rerun-if-changed={dir}");
        let entries = std::fs::read_dir(Path::new(&root).join(dir)).expect("the folder exists");
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file names")
                .to_string();
            if name.ends_with(".sql") || name.ends_with(".toml") {
                files.push((format!("{dir}/{name}"), path));
            }
        }
    }
    files.sort();
    let mut code = String::from("/// The starter dashboards: (path in the project, text).\n");
    code.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for (rel, path) in &files {
        writeln!(code, "    ({rel:?}, include_str!({:?})),", path.display()).expect("a String");
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("starter.rs"), code).expect("OUT_DIR is writable");

    // The commit: REPORT_COMMIT when a release build sets it, else git's HEAD, else unknown.
    println!("cargo:rerun-if-env-changed=REPORT_COMMIT");
    let commit = std::env::var("REPORT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&root, &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown commit".to_string());
    for file in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&root, &["rev-parse", "--git-path", file]) {
            println!(
                "cargo:rerun-if-changed={}",
                Path::new(&root).join(p).display()
            );
        }
    }
    if let Some(head) = git(&root, &["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&root, &["rev-parse", "--git-path", &head])
    {
        println!(
            "cargo:rerun-if-changed={}",
            Path::new(&root).join(p).display()
        );
    }
    println!("cargo:rustc-env=REPORT_COMMIT={commit}");
}

/// A git command's one-line output in `dir`, or `None` without git or a repository.
fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
