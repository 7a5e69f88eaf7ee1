//! Builds the `ObjectStore` a URL names (a source's, the warehouse's), with object_store's own environment-variable
//! conventions for credentials (`AWS_*`, `GOOGLE_*`, `AZURE_*`) plus the source's `options`
//! (handed to the builder's `with_config`, so every key object_store documents works). A local
//! folder is object_store's `LocalFileSystem`: one path for every store.
//!
//! Cloud stores get an explicit [`RetryConfig`]: every request is retried with exponential
//! backoff on 5xx, 429, timeouts and connection resets (`[pull] retries` times, within a minute).
//! Nothing a user can hold secret is shown: URLs lose their user info and query string, option
//! values of credential keys are never printed, and error texts are scrubbed of both.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreScheme, RetryConfig};
use regex::Regex;
use url::Url;

use crate::config::{PullSettings, Source, is_secret_option, redact};

mod deadline;
pub mod s3_list;
pub use deadline::Deadline;

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

/// A bucket: the store, the prefix its objects are under, and the URL DataFusion knows the
/// store by (`s3://bucket`, `file://`).
#[derive(Clone)]
pub struct Bucket {
    pub store: Arc<dyn ObjectStore>,
    /// What keys are relative to: a local folder's path, the warehouse URL's path; nothing
    /// for a source in a cloud bucket, whose keys are the bucket's own.
    pub root: Path,
    /// Where the listing starts: the root and the place's `prefix`.
    pub prefix: Path,
    pub url: ObjectStoreUrl,
    /// The store lists in key order (S3, GCS, Azure promise it), so a listing can be split in
    /// ranges of keys; a local folder's listing comes in no order.
    pub ordered: bool,
    /// The local folder the bucket is, when it is one.
    pub folder: Option<std::path::PathBuf>,
    /// An S3 bucket's own list client, for the pages object_store cannot read.
    pub lister: Option<Arc<s3_list::Lister>>,
}

impl Bucket {
    /// Objects under `prefix` of `store`, listed as a whole (tests hand over wrapped or
    /// in-memory stores).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Bucket {
        Bucket {
            store,
            root: Path::default(),
            prefix,
            url: ObjectStoreUrl::local_filesystem(),
            ordered: false,
            folder: None,
            lister: None,
        }
    }

    /// The full path of `rel` (a `/`-separated key below the root), as the listing gave it;
    /// parts a path cannot hold as they are come percent-encoded.
    pub fn path(&self, rel: &str) -> Path {
        let full = match self.root.as_ref() {
            "" => rel.to_string(),
            root => format!("{root}/{rel}"),
        };
        Path::parse(&full).unwrap_or_else(|_| {
            rel.split('/')
                .filter(|s| !s.is_empty())
                .fold(self.root.clone(), |acc, part| acc.join(part))
        })
    }

    /// `path` relative to the root: the key.
    pub fn rel<'a>(&self, path: &'a Path) -> Option<&'a str> {
        let p = path.as_ref();
        let root = self.root.as_ref();
        if root.is_empty() {
            Some(p)
        } else {
            p.strip_prefix(root)?.strip_prefix('/')
        }
    }
}

/// What a bucket is opened for: messages name it (`source "batect"`, `warehouse`).
pub struct Place<'a> {
    pub what: String,
    pub url: &'a str,
    pub options: &'a BTreeMap<String, String>,
    pub prefix: Option<&'a str>,
    /// A warehouse: keys are relative to the URL's path (a source's keys in a cloud bucket
    /// are the bucket's own).
    pub warehouse: bool,
    /// A local folder that does not exist is created, not an error (a warehouse to write).
    pub create: bool,
}

/// The bucket of a source.
pub fn open(source: &Source, pull: &PullSettings) -> Result<Bucket> {
    open_place(
        &Place {
            what: format!("source {:?}", source.name),
            url: &source.url,
            options: &source.options,
            prefix: source.prefix.as_deref(),
            warehouse: false,
            create: false,
        },
        pull.retries,
    )
}

/// The store and the prefix under it that a URL (or a local path) names.
pub fn open_place(place: &Place, retries: usize) -> Result<Bucket> {
    let what = &place.what;
    let shown = redact(place.url);
    let retry = retry_config(retries);
    if !place.url.contains("://") || place.url.starts_with("file://") {
        let dir = match place.url.strip_prefix("file://") {
            Some(p) => std::path::PathBuf::from(p),
            None => std::path::PathBuf::from(place.url),
        };
        if place.create {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{what}: cannot create {}", dir.display()))?;
        }
        if !dir.is_dir() {
            bail!("{what}: {} is not a folder", dir.display());
        }
        if let Some(k) = place.options.keys().next() {
            bail!("{what}: option {k:?} does not apply to a local folder");
        }
        let abs = std::path::absolute(&dir)
            .with_context(|| format!("{what}: cannot resolve {}", dir.display()))?;
        let root = Path::from_absolute_path(&abs)
            .with_context(|| format!("{what}: {} is not a path a store can hold", abs.display()))?;
        return Ok(Bucket {
            store: Arc::new(LocalFileSystem::new()),
            prefix: with_prefix(root.clone(), place.prefix),
            root,
            url: ObjectStoreUrl::local_filesystem(),
            ordered: false,
            folder: Some(abs),
            lister: None,
        });
    }
    let url = Url::parse(place.url).with_context(|| format!("{what}: {shown} is not a URL"))?;
    let (scheme, path) = ObjectStoreScheme::parse(&url)
        .with_context(|| format!("{what}: {shown} is not a supported URL"))?;
    let store_url = ObjectStoreUrl::parse(format!("{}://{}", url.scheme(), url.authority()))
        .with_context(|| format!("{what}: {shown} is not a supported URL"))?;
    // A SAS in an Azure URL's query string (`az://container?sv=…&sig=…`) is the credential
    // (object_store's `with_url` would drop it), unless the options give one.
    let mut options = place.options.clone();
    if let (ObjectStoreScheme::MicrosoftAzure, Some(query)) = (&scheme, url.query()) {
        if options
            .keys()
            .any(|k| k.to_ascii_lowercase().contains("sas"))
        {
            bail!(
                "{what}: {shown} carries a SAS in its query string and the options give another; keep one"
            );
        }
        options.insert("azure_storage_sas_key".into(), query.to_string());
    }
    register(&options);
    let bad_option = |key: &str| {
        anyhow!("{what}: unknown store option {key:?} for {shown} (see object_store's config keys)")
    };
    let open_failed = |e: &object_store::Error| {
        anyhow!(
            "{what}: cannot open {shown}: {}",
            scrub(&e.to_string(), &options)
        )
    };
    // Every builder takes the options by object_store's config keys, then builds.
    macro_rules! configured {
        ($builder:expr) => {{
            let mut b = $builder.with_url(url.as_str()).with_retry(retry);
            for (k, v) in &options {
                b = b.with_config(k.parse().map_err(|_| bad_option(k))?, v);
            }
            b
        }};
    }
    macro_rules! build {
        ($builder:expr) => {{ Arc::new($builder.build().map_err(|e| open_failed(&e))?) }};
    }
    let set_var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // object_store's own variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`), as each builder's
    // `from_env` reads them, except that an empty one counts as unset: a workflow passes
    // `${{ vars.AWS_REGION }}` whether or not the repository defines it.
    macro_rules! from_env {
        ($builder:ty, $prefix:literal) => {{
            let mut b = <$builder>::default();
            for (key, value) in std::env::vars() {
                if key.starts_with($prefix) && !value.is_empty() {
                    if let Ok(config_key) = key.to_ascii_lowercase().parse() {
                        b = b.with_config(config_key, value);
                    }
                }
            }
            b
        }};
    }
    let mut lister = None;
    let (store, path): (Arc<dyn ObjectStore>, Path) = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let b = configured!(from_env!(AmazonS3Builder, "AWS_"));
            s3_credentials_given(&b).with_context(|| format!("{what}: {shown}"))?;
            let s3 = b.clone().build().map_err(|e| open_failed(&e))?;
            lister = Some(Arc::new(
                s3_list::Lister::new(&b, &s3, &url).with_context(|| format!("{what}: {shown}"))?,
            ));
            (Arc::new(s3), path)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let b = from_env!(GoogleCloudStorageBuilder, "GOOGLE_");
            let b = match set_var("SERVICE_ACCOUNT") {
                Some(file) => b.with_service_account_path(file),
                None => b,
            };
            (build!(configured!(b)), path)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let b = from_env!(MicrosoftAzureBuilder, "AZURE_");
            let b = match set_var("IDENTITY_ENDPOINT") {
                Some(msi) => b.with_msi_endpoint(msi),
                None => b,
            };
            (build!(configured!(b)), path)
        }
        // The URL names the folder; paths are relative to it.
        ObjectStoreScheme::Http => (build!(configured!(HttpBuilder::new())), Path::default()),
        other => bail!("{what}: {shown}: {other:?} stores are not supported"),
    };
    Ok(Bucket {
        store,
        root: if place.warehouse {
            path.clone()
        } else {
            Path::default()
        },
        prefix: with_prefix(path, place.prefix),
        url: store_url,
        ordered: !matches!(scheme, ObjectStoreScheme::Http),
        folder: None,
        lister,
    })
}

/// Whether an S3 builder has a way to sign requests other than asking the instance metadata
/// endpoint (which, off EC2, answers nothing or a misleading error after a wait): keys, a web
/// identity, container credentials, unsigned requests, or a metadata endpoint set on purpose
/// (`aws_metadata_endpoint`, `AWS_METADATA_ENDPOINT`: an EC2 runner's instance role).
fn s3_credentials_given(b: &AmazonS3Builder) -> Result<()> {
    use object_store::aws::AmazonS3ConfigKey as K;
    let given = [
        K::AccessKeyId,
        K::WebIdentityTokenFile,
        K::ContainerCredentialsRelativeUri,
        K::ContainerCredentialsFullUri,
        K::MetadataEndpoint,
    ]
    .iter()
    .any(|k| b.get_config_value(k).is_some_and(|v| !v.is_empty()))
        || b.get_config_value(&K::SkipSignature)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if given {
        return Ok(());
    }
    bail!(
        "no credentials found for s3:// (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or aws_access_key_id and aws_secret_access_key in the options; aws_skip_signature = \"true\" for a public bucket; on EC2, aws_metadata_endpoint for the instance's role)"
    )
}

fn with_prefix(base: Path, prefix: Option<&str>) -> Path {
    match prefix {
        None => base,
        Some(p) => p
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(base, |acc, part| acc.clone().join(part)),
    }
}

static URL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by the tests
    Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>()]+"#).unwrap()
});

/// Query parameters that carry a credential, wherever they appear in a text (a URL, an XML
/// error body that echoes the request): their values are masked.
static SECRET_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by the tests
    Regex::new(
        r#"(?i)\b(sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|token|access_token|sas|password|secret|code)(=|%3D)([^&\s"'<>;]+)"#,
    )
    .unwrap()
});

/// An error text (from object_store, reqwest, a server) made safe to show: URLs in it are
/// redacted, credential query parameters (`sig=`, `token=`, …) masked wherever they appear,
/// and the values of credential options (and of credentials in the environment) masked as they
/// are, percent-encoded or decoded, and for a SAS (`sv=…&sig=…`) each of its credential
/// parameters' values.
pub fn scrub(text: &str, options: &BTreeMap<String, String>) -> String {
    let out = URL_IN_TEXT.replace_all(text, |c: &regex::Captures| {
        redact(c.get(0).map_or("", |m| m.as_str()))
    });
    let mut out = SECRET_PARAM
        .replace_all(&out, |c: &regex::Captures| format!("{}{}***", &c[1], &c[2]))
        .into_owned();
    let from_options = options
        .iter()
        .filter(|(k, _)| is_secret_option(k))
        .map(|(_, v)| v.clone());
    let registered = REGISTERED.lock().map(|r| r.clone()).unwrap_or_default();
    let mut secrets = Vec::new();
    for v in from_options
        .chain(ENV_SECRETS.iter().cloned())
        .chain(registered)
    {
        secrets.extend(secret_forms(&v));
    }
    // Longer forms first, so a value is not half masked by a shorter one inside it.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for v in secrets {
        if v.len() >= 4 {
            out = out.replace(v.as_str(), "***");
        }
    }
    out
}

/// The texts a credential may show as: itself, percent-encoded (upper- and lower-case hex,
/// `+` or `%20` for a space), percent-decoded; for a query string (a SAS token), the same for
/// the value of each credential parameter.
fn secret_forms(value: &str) -> Vec<String> {
    let mut parts = vec![value.to_string()];
    let query = value.strip_prefix('?').unwrap_or(value);
    if query.contains('=') {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=')
                && (is_secret_option(k) || k.eq_ignore_ascii_case("sig"))
            {
                parts.push(v.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for p in parts {
        let decoded = url::form_urlencoded::parse(format!("x={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned());
        let form: String = url::form_urlencoded::byte_serialize(p.as_bytes()).collect();
        out.extend([form, percent_encode(&p, false), percent_encode(&p, true)]);
        out.extend(decoded);
        out.push(p);
    }
    out.sort();
    out.dedup();
    out
}

/// `text` with every byte outside RFC 3986's unreserved set as `%XX` (upper- or lower-case
/// hex digits).
fn percent_encode(text: &str, upper: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            });
        }
    }
    out
}

/// Credentials of every store opened so far (option values, a SAS from a URL): every line
/// `messages` prints is scrubbed of them, whatever store or stage its text came from.
static REGISTERED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn register(options: &BTreeMap<String, String>) {
    if let Ok(mut r) = REGISTERED.lock() {
        for (k, v) in options {
            if is_secret_option(k) && !r.contains(v) {
                r.push(v.clone());
            }
        }
    }
}

/// A line for stderr made safe to show: [`scrub`] with the credentials of every store opened.
pub fn scrub_line(text: &str) -> String {
    scrub(text, &BTreeMap::new())
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
        let shown = scrub(text, &s.options);
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
    fn a_url_that_does_not_parse_loses_its_password_too() {
        for url in [
            "s3://user:hunter2-pw@bucket name/x?sig=abc",
            "https://user:hunter2-pw@[::1/x",
            "az://acct:hunter2-pw/with/slash@container/p#frag",
        ] {
            assert!(url::Url::parse(url).is_err() || !redact(url).contains('@'));
            let shown = redact(url);
            assert!(!shown.contains("hunter2"), "{url} → {shown}");
            assert!(!shown.contains("sig="), "{url} → {shown}");
        }
        assert_eq!(
            redact("s3://user:pw@bucket name/raw"),
            "s3://bucket name/raw"
        );
    }

    #[test]
    fn an_echoed_request_loses_its_signature_percent_encoded_or_not() {
        let sas = "sv=2022-11-02&ss=b&sig=Ab+cD/ef=";
        let options: BTreeMap<String, String> =
            [("azure_storage_sas_key".to_string(), sas.to_string())].into();
        let text = "403 AuthenticationFailed: <Message>Signature mismatch for \
            GET /acct/c?restype=container&sig=Ab%2BcD%2Fef%3D&comp=list; \
            lower-case Ab%2bcD%2fef%3d; decoded Ab+cD/ef=; \
            other token=t0k3n-value, X-Amz-Signature=f00dfeed</Message>";
        let shown = scrub(text, &options);
        for secret in [
            "Ab%2BcD%2Fef%3D",
            "Ab%2bcD%2fef%3d",
            "Ab+cD/ef=",
            "t0k3n-value",
            "f00dfeed",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // What is not a credential stays readable.
        assert!(shown.contains("restype=container"), "{shown}");
        assert!(
            shown.contains("2022-11-02") || !shown.contains("sv="),
            "{shown}"
        );
    }

    #[test]
    fn a_sas_in_an_azure_url_is_the_credential() {
        let s = source(
            "az://telemetry/raw?sv=2022-11-02&sig=SECRETSIG",
            &[("azure_storage_account_name", "acct")],
        );
        let bucket = open(&s, &PullSettings::default()).expect("azure store with a SAS");
        assert_eq!(bucket.prefix.as_ref(), "raw/v1/batect");
        assert!(!bucket.store.to_string().contains("SECRETSIG"));
        let both = source(
            "az://telemetry/raw?sv=2022-11-02&sig=SECRETSIG",
            &[
                ("azure_storage_account_name", "acct"),
                ("azure_storage_sas_key", "sv=1&sig=OTHER"),
            ],
        );
        let err = open_err(&both);
        assert!(err.contains("keep one"), "{err}");
        assert!(
            !err.contains("SECRETSIG") && !err.contains("OTHER"),
            "{err}"
        );
    }

    #[test]
    fn s3_without_credentials_says_so_before_any_request() {
        // The environment of the test run may hold AWS_* variables: only a builder with none is
        // judged here.
        let bare = AmazonS3Builder::new().with_bucket_name("b");
        let err = format!(
            "{:#}",
            s3_credentials_given(&bare).expect_err("no credentials")
        );
        assert!(err.contains("no credentials found for s3://"), "{err}");
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
        let keys = bare
            .clone()
            .with_access_key_id("AKID")
            .with_secret_access_key("secret");
        s3_credentials_given(&keys).expect("keys");
        let public = bare.clone().with_skip_signature(true);
        s3_credentials_given(&public).expect("unsigned");
        let role = bare.with_metadata_endpoint("http://127.0.0.1:1");
        s3_credentials_given(&role).expect("instance role asked for");
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
