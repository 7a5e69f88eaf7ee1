//! Builds the `ObjectStore` a source URL names, with object_store's own environment-variable
//! conventions for credentials (`AWS_*`, `GOOGLE_*`, `AZURE_*`) plus the source's `options`.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

use crate::config::Source;

/// The store and the prefix under it that holds the source's objects.
pub fn open(source: &Source) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let shown = redact(&source.url);
    let (store, base): (Arc<dyn ObjectStore>, Path) = if !source.url.contains("://")
        || source.url.starts_with("file://")
    {
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
        let store = LocalFileSystem::new_with_prefix(&dir)
            .with_context(|| format!("source {:?}: cannot open {}", source.name, dir.display()))?;
        (Arc::new(store), Path::default())
    } else {
        let url = Url::parse(&source.url)
            .with_context(|| format!("source {:?}: {shown} is not a URL", source.name))?;
        let (scheme, path) = ObjectStoreScheme::parse(&url)
            .with_context(|| format!("source {:?}: {shown} is not a supported URL", source.name))?;
        let opts = source.options.iter();
        let store: Arc<dyn ObjectStore> = match scheme {
            ObjectStoreScheme::AmazonS3 => {
                let mut b = AmazonS3Builder::from_env().with_url(url.as_str());
                for (k, v) in opts {
                    b = b.with_config(k.parse().with_context(|| bad_option(source, k))?, v);
                }
                Arc::new(b.build().with_context(|| open_failed(source))?)
            }
            ObjectStoreScheme::GoogleCloudStorage => {
                let mut b = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
                for (k, v) in opts {
                    b = b.with_config(k.parse().with_context(|| bad_option(source, k))?, v);
                }
                Arc::new(b.build().with_context(|| open_failed(source))?)
            }
            ObjectStoreScheme::MicrosoftAzure => {
                let mut b = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
                for (k, v) in opts {
                    b = b.with_config(k.parse().with_context(|| bad_option(source, k))?, v);
                }
                Arc::new(b.build().with_context(|| open_failed(source))?)
            }
            ObjectStoreScheme::Http => {
                let mut b = HttpBuilder::new().with_url(url.as_str());
                for (k, v) in opts {
                    b = b.with_config(k.parse().with_context(|| bad_option(source, k))?, v);
                }
                // The URL names the folder; paths are relative to it.
                return Ok((
                    Arc::new(b.build().with_context(|| open_failed(source))?),
                    with_prefix(Path::default(), source),
                ));
            }
            other => bail!(
                "source {:?}: {shown}: {other:?} stores are not supported",
                source.name
            ),
        };
        (store, path)
    };
    Ok((store, with_prefix(base, source)))
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

fn bad_option(source: &Source, key: &str) -> String {
    format!("source {:?}: unknown store option {key:?}", source.name)
}

fn open_failed(source: &Source) -> String {
    format!(
        "source {:?}: cannot open {}",
        source.name,
        redact(&source.url)
    )
}

/// The URL without user info or query string, which may hold credentials.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_shown_urls() {
        assert_eq!(
            redact("https://user:secret@host/path?sig=abc"),
            "https://host/path"
        );
        assert_eq!(redact("fixtures/abacus"), "fixtures/abacus");
    }
}
