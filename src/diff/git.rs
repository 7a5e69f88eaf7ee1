//! The few git commands `report diff` needs, run as a program (git is on PATH).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

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

/// Every file of the folder `dir` at `commit`, by path relative to `dir`, with its blob id.
pub fn files_at(dir: &Path, commit: &str) -> Result<BTreeMap<String, String>> {
    check_rev(commit)?;
    let listing = git(dir, &["ls-tree", "-r", "-z", commit, "--", "."])?;
    let mut files = BTreeMap::new();
    for entry in listing.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let entry =
            std::str::from_utf8(entry).context("a file name at the revision is not UTF-8")?;
        // `<mode> blob <id>\t<path>`; submodules (`commit`) hold no file of ours.
        let Some((meta, path)) = entry.split_once('\t') else {
            bail!("git ls-tree printed {entry:?}, which is not `<mode> <type> <id>\\t<path>`");
        };
        let mut parts = meta.split(' ');
        if let (Some(_), Some("blob"), Some(id)) = (parts.next(), parts.next(), parts.next()) {
            files.insert(path.to_string(), id.to_string());
        }
    }
    Ok(files)
}

/// Writes the blobs `files` (path relative to `out` → blob id) into `out`, with one
/// `git cat-file --batch` run in `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)], out: &Path) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run git (is it on PATH?) in {}", dir.display()))?;
    let ids: String = files.iter().map(|(_, id)| format!("{id}\n")).collect();
    let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
    // Written from a thread: git answers while it reads, and a full pipe would stall both.
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let output = child
        .wait_with_output()
        .context("git cat-file --batch did not finish")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to git cat-file panicked"))?
        .context("cannot write to git cat-file")?;
    if !output.status.success() {
        bail!(
            "git cat-file --batch failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut rest = output.stdout.as_slice();
    for (path, id) in files {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .with_context(|| format!("git cat-file ended before {path}"))?;
        let header = String::from_utf8_lossy(&rest[..end]).to_string();
        let size: usize = match header.split(' ').collect::<Vec<_>>().as_slice() {
            [got, "blob", size] if got == id => size
                .parse()
                .with_context(|| format!("git cat-file: {header:?}"))?,
            _ => bail!("git cat-file gave {header:?} for {path} ({id})"),
        };
        let body = rest
            .get(end + 1..end + 1 + size)
            .with_context(|| format!("git cat-file cut {path} short"))?;
        let target = out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, body)
            .with_context(|| format!("cannot write {}", target.display()))?;
        rest = rest.get(end + 2 + size..).unwrap_or_default();
    }
    Ok(())
}
