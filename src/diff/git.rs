//! The few git commands `report diff` needs, run as a program (git is on PATH).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::check_rev;

/// Runs `git ARGS` in `dir` and returns its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run git (is it on PATH?) in {}", dir.display()))?;
    if !out.status.success() {
        bail!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// The commit a revision names.
pub fn commit_of(dir: &Path, rev: &str) -> Result<String> {
    check_rev(rev)?;
    let spec = format!("{rev}^{{commit}}");
    git(dir, &["rev-parse", "--verify", "--quiet", &spec])
        .map(text)
        .with_context(|| {
            format!(
                "{rev:?} is not a commit of the repository at {}",
                dir.display()
            )
        })
}

/// The merge base of `head` (or HEAD) with the default branch: `origin/HEAD`, `origin/main`,
/// `origin/master`, `main` or `master`, the first that exists.
/// Returns a label (`merge base of HEAD and main`) and the commit.
pub fn default_base(dir: &Path, head: Option<&str>) -> Result<(String, String)> {
    let head = head.unwrap_or("HEAD");
    check_rev(head)?;
    for branch in [
        "origin/HEAD",
        "origin/main",
        "origin/master",
        "main",
        "master",
    ] {
        if commit_of(dir, branch).is_ok() {
            let commit = git(dir, &["merge-base", head, branch])
                .map(text)
                .with_context(|| format!("no merge base of {head} and {branch}"))?;
            return Ok((format!("merge base of {head} and {branch}"), commit));
        }
    }
    bail!(
        "no default branch (origin/main, main, …) to compare with; name the base revision: report diff REV"
    )
}

/// Writes the files under `paths` (relative to `dir`) at `commit` into `out`, keeping their
/// relative paths. A path absent at that commit gives no files.
pub fn materialise(dir: &Path, commit: &str, paths: &[&Path], out: &Path) -> Result<()> {
    check_rev(commit)?;
    let mut args = vec!["ls-tree", "-r", "-z", "--name-only", commit, "--"];
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(shown.iter().map(String::as_str));
    let listing = git(dir, &args)?;
    for name in listing.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).context("a file name at the revision is not UTF-8")?;
        let bytes = git(dir, &["show", &format!("{commit}:./{name}")])?;
        let target = out.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}
