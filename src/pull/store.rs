//! Builds the `ObjectStore` a source URL names, with object_store's own environment-variable
//! conventions for credentials (`AWS_*`, `GOOGLE_*`, `AZURE_*`) plus the source's `options`
//! (handed to the builder's `with_config`, so every key object_store documents works).
//!
//! Cloud stores get an explicit [`RetryConfig`]: every request is retried with exponential
//! backoff on 5xx, 429, timeouts and connection resets (`[pull] retries` times, within a minute).
//! Nothing a user can hold secret is shown: URLs lose their user info and query string, option
//! values of credential keys are never printed, and error texts are scrubbed of both.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreScheme, RetryConfig};
use regex::Regex;
use url::Url;

use super::folder::{self, Found};
use crate::config::{PullSettings, Source, is_secret_option, redact};

/// How a cloud store retries one request: exponential backoff from 100 ms up to 5 s, at most
/// `retries` times and never past a minute after the first try (credentials and signed
/// requests must stay valid, and a dead endpoint must not stall the pull for long).
pub fn retry_config(retries: usize) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: retries,
        retry_timeout: Duration::from_secs(60),
    }
}

/// A source's objects: the store they are fetched from and the prefix they are listed under.
pub struct Bucket {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: Path,
    /// A local folder (the store's root) is listed with a directory walk, not through the store.
    folder: Option<PathBuf>,
}

impl Bucket {
    /// Objects listed and fetched through `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Self {
        Bucket {
            store,
            prefix,
            folder: None,
        }
    }

    /// The local folder the objects are files of, if they are.
    pub fn folder(&self) -> Option<&std::path::Path> {
        self.folder.as_deref()
    }

    /// Every key under the prefix, in no particular order, in chunks. A local folder's keys
    /// are not checked against object_store's path rules here (`Path::parse` does, for the ones
    /// fetched), and its folders that `known` has unchanged are skipped (see [`folder`]).
    pub fn keys(&self, known: folder::Known) -> BoxStream<'static, object_store::Result<Found>> {
        match &self.folder {
            None => self
                .store
                .list(Some(&self.prefix))
                .map_ok(|meta| Found::Keys(vec![meta.location.into()]))
                .boxed(),
            Some(root) => {
                let (root, prefix) = (root.clone(), self.prefix.clone());
                // The walk's threads hand chunks over as they go; a few chunks in flight. A
                // walk that panics ends in an error, not in a listing that looks complete.
                let (tx, rx) = tokio::sync::mpsc::channel(8);
                tokio::task::spawn_blocking(move || {
                    let listed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        folder::list(&root, &prefix, &known, &|found| {
                            let _ = tx.blocking_send(Ok(found));
                        })
                    }))
                    .unwrap_or_else(|_| {
                        Err(object_store::Error::Generic {
                            store: "LocalFileSystem",
                            source: "the folder walk panicked".into(),
                        })
                    });
                    if let Err(e) = listed {
                        let _ = tx.blocking_send(Err(e));
                    }
                });
                futures::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|found| (found, rx))
                })
                .boxed()
            }
        }
    }
}

/// The store and the prefix under it that holds the source's objects.
pub fn open(source: &Source, pull: &PullSettings) -> Result<Bucket> {
    let shown = redact(&source.url);
    let retry = retry_config(pull.retries);
    if !source.url.contains("://") || source.url.starts_with("file://") {
        let dir = match source.url.strip_prefix("file://") {
            Some(p) => std::path::PathBuf::from(p),
            None => std::path::PathBuf::from(&source.url),
        };
        if !dir.is_dir() {
            bail!(
                "source {:?}: {} is not a folder",
                source.name,
                dir.display()
            );
        }
        if let Some(k) = source.options.keys().next() {
            bail!(
                "source {:?}: option {k:?} does not apply to a local folder",
                source.name
            );
        }
        let store = LocalFileSystem::new_with_prefix(&dir)
            .with_context(|| format!("source {:?}: cannot open {}", source.name, dir.display()))?;
        return Ok(Bucket {
            store: Arc::new(store),
            prefix: with_prefix(Path::default(), source),
            folder: Some(dir),
        });
    }
    let url = Url::parse(&source.url)
        .with_context(|| format!("source {:?}: {shown} is not a URL", source.name))?;
    let (scheme, path) = ObjectStoreScheme::parse(&url)
        .with_context(|| format!("source {:?}: {shown} is not a supported URL", source.name))?;
    // Every builder takes the source's options by object_store's config keys, then builds.
    macro_rules! build {
        ($builder:expr) => {{
            let mut b = $builder.with_url(url.as_str()).with_retry(retry);
            for (k, v) in &source.options {
                b = b.with_config(k.parse().map_err(|_| bad_option(source, k))?, v);
            }
            Arc::new(b.build().map_err(|e| open_failed(source, &e))?)
        }};
    }
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => build!(AmazonS3Builder::from_env()),
        ObjectStoreScheme::GoogleCloudStorage => build!(GoogleCloudStorageBuilder::from_env()),
        ObjectStoreScheme::MicrosoftAzure => build!(MicrosoftAzureBuilder::from_env()),
        // The URL names the folder; paths are relative to it.
        ObjectStoreScheme::Http => {
            let store = build!(HttpBuilder::new());
            return Ok(Bucket::new(store, with_prefix(Path::default(), source)));
        }
        other => bail!(
            "source {:?}: {shown}: {other:?} stores are not supported",
            source.name
        ),
    };
    Ok(Bucket::new(store, with_prefix(path, source)))
}

fn with_prefix(base: Path, source: &Source) -> Path {
    match &source.prefix {
        None => base,
        Some(p) => p
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(base, |acc, part| acc.clone().join(part)),
    }
}

fn bad_option(source: &Source, key: &str) -> anyhow::Error {
    anyhow!(
        "source {:?}: unknown store option {key:?} for {} (see object_store's config keys)",
        source.name,
        redact(&source.url)
    )
}

fn open_failed(source: &Source, e: &object_store::Error) -> anyhow::Error {
    anyhow!(
        "source {:?}: cannot open {}: {}",
        source.name,
        redact(&source.url),
        scrub(&e.to_string(), source)
    )
}

static URL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by the tests
    Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>()]+"#).unwrap()
});

/// An error text (from object_store, reqwest, a server) made safe to show: URLs in it are
/// redacted and the values of the source's credential options are masked.
pub fn scrub(text: &str, source: &Source) -> String {
    let mut out = URL_IN_TEXT
        .replace_all(text, |c: &regex::Captures| {
            redact(c.get(0).map_or("", |m| m.as_str()))
        })
        .into_owned();
    let from_options = source
        .options
        .iter()
        .filter(|(k, _)| is_secret_option(k))
        .map(|(_, v)| v);
    for v in from_options.chain(ENV_SECRETS.iter()) {
        if v.len() >= 4 {
            out = out.replace(v.as_str(), "***");
        }
    }
    out
}

/// Credentials object_store reads from the environment, masked in error texts too.
static ENV_SECRETS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::env::vars()
        .filter(|(k, _)| {
            ["AWS_", "AZURE_", "GOOGLE_"]
                .iter()
                .any(|p| k.starts_with(p))
                && is_secret_option(k)
        })
        .map(|(_, v)| v)
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn source(url: &str, options: &[(&str, &str)]) -> Source {
        let format = crate::formats::by_name("abacus").expect("abacus");
        Source {
            name: "batect".into(),
            format,
            url: url.into(),
            prefix: Some("v1/batect".into()),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            spec: format
                .configure(toml::Table::new(), std::path::Path::new("."))
                .expect("defaults"),
        }
    }

    fn open_err(s: &Source) -> String {
        match open(s, &PullSettings::default()) {
            Ok(_) => panic!("{} opened", s.url),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn credentials_are_removed_from_shown_urls() {
        assert_eq!(
            redact("https://user:secret@host/path?sig=abc"),
            "https://host/path"
        );
        assert_eq!(redact("fixtures/abacus"), "fixtures/abacus");
    }

    #[test]
    fn error_texts_lose_signed_urls_and_secret_option_values() {
        let s = source(
            "az://telemetry",
            &[
                ("azure_storage_account_key", "c2VjcmV0LWtleQ=="),
                ("azure_storage_account_name", "acct"),
            ],
        );
        let text = "error sending request for url \
            (https://acct.blob.core.windows.net/telemetry/x.json?sig=SIGNATURE&se=2030): \
            key c2VjcmV0LWtleQ== refused for acct";
        let shown = scrub(text, &s);
        assert!(!shown.contains("SIGNATURE"), "{shown}");
        assert!(!shown.contains("c2VjcmV0LWtleQ=="), "{shown}");
        assert!(
            shown.contains("https://acct.blob.core.windows.net/telemetry/x.json"),
            "{shown}"
        );
        // Names are not secrets: they stay readable.
        assert!(shown.contains("for acct"), "{shown}");
        assert!(is_secret_option("aws_secret_access_key"));
        assert!(is_secret_option("AZURE_STORAGE_SAS_KEY"));
        assert!(!is_secret_option("aws_endpoint"));
        assert!(!is_secret_option("azure_storage_account_name"));
    }

    #[test]
    fn s3_sources_take_endpoint_region_and_allow_http_options() {
        let s = source(
            "s3://telemetry-sessions/raw",
            &[
                ("aws_endpoint", "http://127.0.0.1:9000"),
                ("aws_region", "eu-west-1"),
                ("allow_http", "true"),
                ("aws_access_key_id", "AKIDEXAMPLE"),
                ("aws_secret_access_key", "wJalrXUtnFEMI-secret"),
            ],
        );
        let bucket = open(&s, &PullSettings::default()).expect("s3 store");
        assert_eq!(bucket.prefix.as_ref(), "raw/v1/batect");
        let shown = bucket.store.to_string();
        assert!(shown.contains("telemetry-sessions"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI-secret"), "{shown}");
    }

    #[test]
    fn unknown_options_are_errors_naming_the_key_but_not_the_value() {
        let s = source("s3://b", &[("aws_secret_acess_key", "hunter2-secret")]);
        let err = open_err(&s);
        assert!(err.contains("aws_secret_acess_key"), "{err}");
        assert!(!err.contains("hunter2-secret"), "{err}");
        let local = source("fixtures", &[("aws_region", "x")]);
        assert!(open_err(&local).contains("aws_region"));
    }

    #[test]
    fn gcs_sources_are_configured_from_the_url_and_options() {
        let s = source(
            "gs://telemetry-sessions/raw",
            &[(
                "google_service_account_key",
                r#"{"private_key": "hunter2-secret"}"#,
            )],
        );
        // A malformed key is refused when the store is built, and not echoed.
        let err = open_err(&s);
        assert!(
            err.contains("cannot open gs://telemetry-sessions/raw"),
            "{err}"
        );
        assert!(!err.contains("hunter2-secret"), "{err}");
        let s = source(
            "gs://telemetry-sessions/raw",
            &[("google_application_credentials", "/nonexistent/adc.json")],
        );
        let err = open_err(&s);
        assert!(err.contains("source \"batect\""), "{err}");
        let ok = source("gs://telemetry-sessions", &[]);
        let bucket = open(&ok, &PullSettings::default()).expect("gcs store");
        assert_eq!(bucket.prefix.as_ref(), "v1/batect");
        assert!(bucket.store.to_string().contains("telemetry-sessions"));
    }

    #[test]
    fn azure_sources_take_account_endpoint_and_emulator_options() {
        for url in [
            "az://telemetry/raw",
            "abfs://telemetry@acct.dfs.core.windows.net/raw",
        ] {
            let s = source(
                url,
                &[
                    ("azure_storage_account_name", "acct"),
                    ("azure_storage_account_key", "c2VjcmV0LWtleQ=="),
                    ("azure_storage_endpoint", "http://127.0.0.1:10000/acct"),
                    ("allow_http", "true"),
                ],
            );
            let bucket = open(&s, &PullSettings::default()).expect("azure store");
            assert_eq!(bucket.prefix.as_ref(), "raw/v1/batect", "{url}");
        }
        let emulator = source("az://telemetry", &[("azure_storage_use_emulator", "true")]);
        open(&emulator, &PullSettings::default()).expect("emulator store");
    }

    #[test]
    fn unsupported_schemes_are_named() {
        let err = open_err(&source("ftp://host/x", &[]));
        assert!(err.contains("ftp://host/x"), "{err}");
    }
}
