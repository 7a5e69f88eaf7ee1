//! `report serve`: the author's loop. Builds the site into memory (never into the output
//! folder), serves it on 127.0.0.1, watches `report.toml`, the files it names, `queries/` and
//! `reports/`, and after each batch of changes rebuilds what they touch ([`build::Built`])
//! and tells the open pages over server-sent events, which reload.
//!
//! The pages are served as `report build` renders them, with one script added before
//! `</body>` ([`RELOAD_JS`]); nothing is added to what `report build` writes. A change that
//! does not build keeps the last good pages and shows, in every open page, the problems as
//! `report check` lists them (`FILE:LINE: MESSAGE`), or the error that stopped the build.

pub mod build;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify_debouncer_full::DebounceEventResult;
use tokio::sync::broadcast;

use crate::config::Overrides;
use crate::messages;
use build::{Built, Counts};

/// The script added to every HTML page served.
pub const RELOAD_JS: &str = include_str!("reload.js");
/// Where the pages listen for new builds.
pub const EVENTS_PATH: &str = "/_report/events";

/// What `report serve` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// 0: any free port (the log says which).
    pub port: u16,
    /// Open the index in the default browser once it is served.
    pub open: bool,
    /// Pull the sources before the first build (and after a change to report.toml).
    pub pull: bool,
    /// Poll the files instead of the system's file watching.
    pub poll: bool,
}

/// What the server shows, shared with its handlers.
struct Shared {
    state: RwLock<Served>,
    changed: broadcast::Sender<()>,
    /// The `Host` headers answered: the server's own address by IP and as `localhost`, so a
    /// page of another site whose name resolves to 127.0.0.1 (DNS rebinding) reads nothing.
    hosts: [String; 2],
    /// How many copies of each page are open.
    open: Mutex<BTreeMap<String, usize>>,
}

impl Shared {
    fn answers(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::HOST).map(|h| h.to_str()) {
            None => true,
            Some(Ok(host)) => self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)),
            Some(Err(_)) => false,
        }
    }
}

struct Served {
    pages: Arc<BTreeMap<String, Vec<u8>>>,
    /// Counts the builds that succeeded.
    version: u64,
    /// For each HTML page, the build that last changed its bytes: with the process id, what
    /// an open copy compares to know it is out of date (so only changed pages reload).
    changed_in: BTreeMap<String, u64>,
    /// Why the last change does not build.
    error: Option<String>,
}

impl Shared {
    /// What the open copies of `page` are told: its build and the error, if any.
    fn state_json(&self, page: &str) -> String {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let build = state.changed_in.get(page).copied().unwrap_or(0);
        serde_json::json!({
            "build": format!("{}-{build}", std::process::id()),
            "error": state.error,
        })
        .to_string()
    }

    /// Serves `built` from now on; gives the HTML pages whose bytes changed (or went).
    fn publish(&self, built: &Built) -> BTreeSet<String> {
        let mut changed = BTreeSet::new();
        {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.version += 1;
            let version = state.version;
            for (path, bytes) in &built.pages {
                if path.ends_with(".html") && state.pages.get(path) != Some(bytes) {
                    changed.insert(path.clone());
                }
            }
            let gone: Vec<String> = state
                .pages
                .keys()
                .filter(|p| p.ends_with(".html") && !built.pages.contains_key(*p))
                .cloned()
                .collect();
            for path in gone {
                state.changed_in.remove(&path);
                changed.insert(path);
            }
            for path in &changed {
                if built.pages.contains_key(path) {
                    state.changed_in.insert(path.clone(), version);
                }
            }
            state.pages = Arc::new(built.pages.clone());
            state.error = None;
        }
        let _ = self.changed.send(());
        changed
    }

    /// The files are back as the last good build had them: no error to show.
    fn recover(&self) {
        let had = self
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .error
            .take();
        if had.is_some() {
            let _ = self.changed.send(());
        }
    }

    fn fail(&self, why: String) {
        self.state.write().unwrap_or_else(|e| e.into_inner()).error = Some(why);
        let _ = self.changed.send(());
    }

    /// How many copies of each page are open (listening for builds) now.
    fn open_pages(&self) -> BTreeMap<String, usize> {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// One open copy of a page, counted in `Shared::open` while its event stream lasts.
struct Listening {
    shared: Arc<Shared>,
    page: String,
}

impl Listening {
    fn new(shared: Arc<Shared>, page: String) -> Listening {
        *shared
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(page.clone())
            .or_default() += 1;
        Listening { shared, page }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.page) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.page);
            }
        }
    }
}

/// Which files the server watches, and what a change to each asks for.
struct Watched {
    config: PathBuf,
    /// Files `report.toml` names (attribute schemas, upload configs).
    named: BTreeSet<PathBuf>,
    queries: PathBuf,
    reports: PathBuf,
}

/// What a batch of changes asks for.
#[derive(Debug, Default)]
struct Changes {
    /// `report.toml` or a file it names changed: everything is loaded again.
    full: bool,
    /// The changed files, relative to the current folder where they are below it.
    files: BTreeSet<String>,
    /// A watched folder was made or removed: the folders are watched again.
    folders: bool,
}

impl Watched {
    fn of(config: &Path, settings: Option<&crate::config::Settings>) -> Watched {
        let config = absolute(config);
        let root = config.parent().map(Path::to_path_buf).unwrap_or_default();
        let (queries, reports) = match settings {
            Some(s) => (absolute(&s.queries), absolute(&s.reports)),
            None => (root.join("queries"), root.join("reports")),
        };
        Watched {
            named: named_files(&config, &root),
            config,
            queries,
            reports,
        }
    }

    /// The folders to watch.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        for f in self.named.iter().chain(std::iter::once(&self.config)) {
            if let Some(d) = f.parent() {
                dirs.insert(d.to_path_buf());
            }
        }
        dirs.insert(self.queries.clone());
        dirs.insert(self.reports.clone());
        dirs.into_iter().filter(|d| d.is_dir()).collect()
    }

    /// Adds what a change of `path` asks for; an editor's swap and backup files ask nothing.
    fn add(&self, path: &Path, changes: &mut Changes) {
        let path = absolute(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parent = path.parent();
        let full = path == self.config || self.named.contains(&path);
        let folder = path == self.queries || path == self.reports;
        changes.folders |= folder;
        let definition = folder
            || (parent == Some(self.queries.as_path())
                && (name.ends_with(".sql") || name.ends_with(crate::expect::FILE_SUFFIX)))
            || (parent == Some(self.reports.as_path()) && name.ends_with(".toml"));
        if !(full || definition) || name.starts_with('.') {
            return;
        }
        changes.full |= full;
        let cwd = std::env::current_dir().unwrap_or_default();
        let shown = path.strip_prefix(&cwd).unwrap_or(&path);
        changes.files.insert(shown.display().to_string());
    }
}

fn absolute(p: &Path) -> PathBuf {
    let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    // Without `.` parts, as the watcher gives paths.
    p.components().collect()
}

/// The files the sources of `report.toml` name: every string of a `[[source]]` that is the
/// path of a file (relative to the project's folder).
fn named_files(config: &Path, root: &Path) -> BTreeSet<PathBuf> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return BTreeSet::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return BTreeSet::new();
    };
    let mut out = BTreeSet::new();
    let sources = table.get("source").and_then(|s| s.as_array());
    for source in sources.into_iter().flatten() {
        for value in source.as_table().into_iter().flat_map(|t| t.values()) {
            let mut strings = Vec::new();
            match value {
                toml::Value::String(s) => strings.push(s.as_str()),
                toml::Value::Array(a) => strings.extend(a.iter().filter_map(|v| v.as_str())),
                _ => {}
            }
            for s in strings {
                let path = root.join(s);
                if path.is_file() {
                    out.insert(absolute(&path));
                }
            }
        }
    }
    out
}

/// Runs `report serve` until the process is stopped.
pub async fn serve(config: &Path, overrides: &Overrides, options: &Options) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (another server on the port? try --port)")
    })?;
    let addr = listener.local_addr().context("the server's address")?;
    let shared = Arc::new(Shared {
        state: RwLock::new(Served {
            pages: Arc::default(),
            version: 0,
            changed_in: BTreeMap::new(),
            error: None,
        }),
        changed: broadcast::channel(16).0,
        hosts: [
            format!("127.0.0.1:{}", addr.port()),
            format!("localhost:{}", addr.port()),
        ],
        open: Mutex::default(),
    });

    // Watching starts first, so a save during the first build is seen after it.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<DebounceEventResult>();
    let settings = crate::config::Settings::load(config, overrides).ok();
    let mut watched = Watched::of(config, settings.as_ref());
    let mut watcher = watch::start(&watched.dirs(), options.poll, tx.clone())?;

    // Serving starts first too: an open page shows the build's outcome when it comes.
    let app = axum::Router::new()
        .route(EVENTS_PATH, get(events))
        .fallback(get(page))
        .with_state(shared.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/");
    messages::status(format_args!(
        "serve: {url} ({} {} folders; Ctrl-C stops)",
        watcher.how(),
        watched.dirs().len()
    ));
    if options.open {
        open_browser(&url);
    }

    let started = Instant::now();
    let mut built = match Built::full(config, overrides, options.pull).await {
        Ok((built, counts)) => {
            shared.publish(&built);
            log_built("built", &counts, started);
            Some(built)
        }
        Err(e) => {
            let why = explain(config, overrides, &e).await;
            messages::warn(format_args!(
                "serve: the project does not build (the pages say why until it does):\n{why}"
            ));
            shared.fail(why);
            None
        }
    };

    let mut stale = false;
    while let Some(batch) = rx.recv().await {
        let mut changes = Changes::default();
        let mut take = |batch: DebounceEventResult| match batch {
            Ok(events) => {
                // Reading a file is no change (and the rebuild reads them all).
                let changed = events.iter().filter(|e| !e.kind.is_access());
                for e in changed {
                    for p in &e.paths {
                        watched.add(p, &mut changes);
                    }
                }
            }
            Err(errors) => {
                for e in errors {
                    messages::warn(format_args!("serve: watching: {e}"));
                }
            }
        };
        take(batch);
        // A burst of saves (save all, a checkout) is one rebuild: wait for the files to be
        // quiet a while.
        while let Ok(Some(more)) = tokio::time::timeout(watcher.settle(), rx.recv()).await {
            take(more);
        }
        if changes.files.is_empty() {
            continue;
        }
        let mut shown: Vec<String> = changes.files.iter().take(3).cloned().collect();
        if changes.files.len() > 3 {
            shown.push(format!("{} more", changes.files.len() - 3));
        }
        let what = shown.join(", ");
        let started = Instant::now();
        let full = changes.full || stale;
        // Ok(None): the files are as the last good build had them.
        let result = match (built.as_mut(), full) {
            (Some(b), false) => b.update().await.map(|c| c.map(|c| (None, c))),
            _ => Built::full(config, overrides, options.pull && full)
                .await
                .map(|(b, c)| Some((Some(b), c))),
        };
        match result {
            Ok(Some((fresh, counts))) => {
                stale = false;
                if let Some(fresh) = fresh {
                    built = Some(fresh);
                }
                if let Some(b) = built.as_ref() {
                    let changed = shared.publish(b);
                    log_built(&format!("{what} changed: rebuilt"), &counts, started);
                    log_reloading(&changed, &shared.open_pages());
                }
            }
            Ok(None) => {
                messages::status(format_args!(
                    "serve: {what} changed: nothing to rebuild (the same queries and reports as the last good build)"
                ));
                shared.recover();
            }
            Err(e) => {
                // A report.toml that does not load: every change builds anew until it does.
                stale = full;
                let why = explain(config, overrides, &e).await;
                messages::warn(format_args!(
                    "serve: {what} changed: does not build; the last good build is served and the pages say why:\n{why}"
                ));
                shared.fail(why);
            }
        }
        if changes.full || changes.folders {
            // report.toml may name other files or folders now, or a folder was made again.
            let now = Watched::of(config, built.as_ref().map(|b| &b.settings));
            if changes.folders || now.dirs() != watched.dirs() || now.named != watched.named {
                drop(watcher);
                watcher = watch::start(&now.dirs(), options.poll, tx.clone())?;
            }
            watched = now;
        }
        if server.is_finished() {
            break;
        }
    }
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e).context("the server stopped"),
        Err(e) => Err(e).context("the server stopped"),
    }
}

/// Which open pages reload: those whose bytes changed.
fn log_reloading(changed: &BTreeSet<String>, open: &BTreeMap<String, usize>) {
    let reloading: Vec<String> = open
        .iter()
        .filter(|(page, _)| changed.contains(*page))
        .map(|(page, n)| match n {
            1 => page.clone(),
            n => format!("{page} ×{n}"),
        })
        .collect();
    let all: usize = open.values().sum();
    let copies: usize = open
        .iter()
        .filter(|(page, _)| changed.contains(*page))
        .map(|(_, n)| n)
        .sum();
    messages::status(format_args!(
        "serve: {} HTML page{} changed; reloading {copies} of {all} open page{}{}",
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        if all == 1 { "" } else { "s" },
        if reloading.is_empty() {
            String::new()
        } else {
            format!(" ({})", reloading.join(", "))
        }
    ));
}

fn log_built(what: &str, counts: &Counts, started: Instant) {
    messages::status(format_args!(
        "serve: {what} {counts} in {:.2} s",
        started.elapsed().as_secs_f64()
    ));
}

/// Why a build failed, as the pages show it: the problems `report check` finds, one
/// `FILE:LINE: MESSAGE` a line, or else the error and its causes.
async fn explain(config: &Path, overrides: &Overrides, err: &anyhow::Error) -> String {
    let checked = crate::check::check(config, overrides).await;
    if !checked.problems.is_empty() {
        return checked
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut lines = vec![err.to_string()];
    lines.extend(err.chain().skip(1).map(|c| format!("  caused by: {c}")));
    lines.join("\n")
}

fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    if let Err(e) = std::process::Command::new(program)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        messages::warn(format_args!(
            "serve: cannot open a browser ({program}: {e}); open {url}"
        ));
    }
}

/// The pages' event stream: the state now, then again after every build or failure.
/// `?page=PATH` names the page listening (its `location.pathname`).
async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    if !shared.answers(&headers) {
        return (StatusCode::FORBIDDEN, "not this server's host\n").into_response();
    }
    let asked = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .unwrap_or("/");
    let asked = percent_encoding::percent_decode_str(asked).decode_utf8_lossy();
    let listening = Listening::new(shared.clone(), site_path(&asked));
    let rx = shared.changed.subscribe();
    let stream = futures::stream::unfold(
        (listening, rx, true),
        |(listening, mut rx, first)| async move {
            if !first && let Err(broadcast::error::RecvError::Closed) = rx.recv().await {
                return None;
            }
            let state = listening.shared.state_json(&listening.page);
            let event = Event::default().event("state").data(state);
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (listening, rx, false),
            ))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A file of the site from memory; HTML pages with the reload script.
async fn page(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    if !shared.answers(&headers) {
        return (StatusCode::FORBIDDEN, "not this server's host\n").into_response();
    }
    let path = site_path(uri.path());
    let (pages, building) = {
        let state = shared.state.read().unwrap_or_else(|e| e.into_inner());
        (state.pages.clone(), state.version == 0)
    };
    let html = path.ends_with(".html");
    let (status, bytes) = match pages.get(&path) {
        Some(bytes) => (StatusCode::OK, bytes.clone()),
        None if html => {
            let text = if building {
                "The site is not built yet: this page reloads when it is, or says why it is not."
            } else {
                "No such page in the site (yet): this page reloads when a build makes it."
            };
            let page = format!(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>report serve</title></head>\n<body>\n<p>{text} <a href=\"/\">The index</a>.</p>\n</body>\n</html>\n"
            );
            (StatusCode::NOT_FOUND, page.into_bytes())
        }
        None => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let bytes = if html { with_reload(&bytes) } else { bytes };
    (
        status,
        [
            (header::CONTENT_TYPE, content_type(&path)),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// The site's path of a URL's path: `/` and folders are their `index.html`.
fn site_path(url_path: &str) -> String {
    let mut path = url_path.trim_start_matches('/').to_string();
    if path.is_empty() || path.ends_with('/') {
        path.push_str("index.html");
    }
    path
}

/// `html` with the reload script before its last `</body>` (at its end when it has none).
pub fn with_reload(html: &[u8]) -> Vec<u8> {
    let script = format!("<script>\n{RELOAD_JS}</script>\n");
    let at = html
        .windows(7)
        .rposition(|w| w == b"</body>")
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + script.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(script.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        let page = b"<html><body><p>&lt;/body&gt;</p></body></html>";
        let out = String::from_utf8(with_reload(page)).expect("utf-8");
        assert!(out.starts_with("<html><body><p>&lt;/body&gt;</p><script>\n"));
        assert!(out.ends_with("</script>\n</body></html>"));
        assert!(out.contains(EVENTS_PATH));
    }

    #[test]
    fn swap_files_and_other_folders_ask_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = absolute(tmp.path());
        std::fs::write(root.join("schema.json"), "[]").expect("write");
        std::fs::write(
            root.join("report.toml"),
            "[[source]]\nname = 'a'\nformat = 'abacus'\nurl = 'fixtures'\nsession_attributes = 'schema.json'\n",
        )
        .expect("write");
        let w = Watched::of(&root.join("report.toml"), None);
        assert_eq!(w.named, BTreeSet::from([root.join("schema.json")]));
        let asks = |p: &Path| {
            let mut c = Changes::default();
            w.add(p, &mut c);
            (c.full, c.files.len())
        };
        assert_eq!(asks(&root.join("queries/a.sql")), (false, 1));
        assert_eq!(asks(&root.join("queries/a.expect.toml")), (false, 1));
        assert_eq!(asks(&root.join("reports/a.toml")), (false, 1));
        assert_eq!(asks(&root.join("report.toml")), (true, 1));
        assert_eq!(asks(&root.join("schema.json")), (true, 1));
        assert_eq!(asks(&root.join("queries")), (false, 1));
        for ignored in [
            "queries/.a.sql.swp",
            "queries/a.sql~",
            "queries/4913",
            "reports/a.toml.bak",
            "site/index.html",
            "other.toml",
        ] {
            assert_eq!(asks(&root.join(ignored)), (false, 0), "{ignored}");
        }
    }
}
