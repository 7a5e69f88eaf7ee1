//! Watching the project's files: the folders that hold them, through `notify`'s debouncer, so
//! a save by rename (vi, emacs: a new file moved over the old one) is seen like a write, and a
//! burst of saves arrives as one batch. Where the system's watching fails (no inotify watches
//! left, a network file system), the folders are polled instead.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use notify_debouncer_full::notify::{self, PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    DebounceEventResult, Debouncer, FileIdMap, RecommendedCache, new_debouncer, new_debouncer_opt,
};
use tokio::sync::mpsc::UnboundedSender;

use crate::messages;

/// How long a file must be quiet before its changes are handed on.
pub const QUIET: Duration = Duration::from_millis(50);
/// How long no file may change before a batch of changes is rebuilt.
pub const SETTLE: Duration = Duration::from_millis(100);
/// How often the polling fallback looks at the files.
pub const POLL: Duration = Duration::from_millis(300);

/// A running watcher: dropping it stops the watching.
pub enum Watcher {
    Native(Debouncer<RecommendedWatcher, RecommendedCache>),
    Poll(Debouncer<PollWatcher, FileIdMap>),
}

impl Watcher {
    /// How long no file may change before a batch is rebuilt: longer when polling, whose
    /// rounds can split a burst.
    pub fn settle(&self) -> Duration {
        match self {
            Watcher::Native(_) => SETTLE,
            Watcher::Poll(_) => SETTLE.max(POLL * 2),
        }
    }

    /// How it watches, for the log.
    pub fn how(&self) -> &'static str {
        match self {
            Watcher::Native(_) => "watching",
            Watcher::Poll(_) => "polling",
        }
    }
}

/// Watches every folder of `dirs` (not below it), sending each batch of changes to `tx`;
/// polls when `poll` or when the system's watching cannot start.
pub fn start(
    dirs: &[PathBuf],
    poll: bool,
    tx: UnboundedSender<DebounceEventResult>,
) -> Result<Watcher> {
    if !poll {
        let sender = tx.clone();
        let native = new_debouncer(QUIET, None, move |batch| {
            let _ = sender.send(batch);
        })
        .map_err(anyhow::Error::from)
        .and_then(|mut d| {
            for dir in dirs {
                d.watch(dir, RecursiveMode::NonRecursive)
                    .with_context(|| format!("cannot watch {}", dir.display()))?;
            }
            Ok(d)
        });
        match native {
            Ok(d) => return Ok(Watcher::Native(d)),
            Err(e) => messages::warn(format_args!(
                "serve: the system's file watching failed ({e:#}); polling every {} ms instead",
                POLL.as_millis()
            )),
        }
    }
    let config = notify::Config::default()
        .with_poll_interval(POLL)
        .with_compare_contents(true);
    let mut d = new_debouncer_opt::<_, PollWatcher, FileIdMap>(
        QUIET,
        None,
        move |batch| {
            let _ = tx.send(batch);
        },
        FileIdMap::new(),
        config,
    )
    .context("cannot start polling the project's files")?;
    for dir in dirs {
        d.watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot poll {}", dir.display()))?;
    }
    Ok(Watcher::Poll(d))
}
