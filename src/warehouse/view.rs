//! The store queries read the warehouse through: reads go to the bucket, listings are answered
//! from the committed files alone. DataFusion's `ListingTable` lists a table's folder to find
//! its files; through this view it finds exactly the files the commits name, never a file a
//! running pull has written but not committed, and never asks the bucket for a listing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// What a commit says of one file.
#[derive(Debug, Clone)]
pub struct File {
    pub size: u64,
    pub table: String,
    /// Relative to the warehouse, as the commit names it.
    pub path: String,
}

/// Committed files over the store that holds them.
#[derive(Debug)]
pub struct Committed {
    inner: Arc<dyn ObjectStore>,
    /// Full path → what its commit says.
    files: BTreeMap<Path, File>,
    /// The warehouse, for messages.
    shown: String,
}

impl Committed {
    pub fn new(
        inner: Arc<dyn ObjectStore>,
        files: impl IntoIterator<Item = (Path, File)>,
        shown: &str,
    ) -> Self {
        Committed {
            inner,
            files: files.into_iter().collect(),
            shown: shown.to_string(),
        }
    }

    /// A committed file that is missing or of another size than its commit says: an error
    /// naming the file and its table.
    fn damaged(&self, file: &File, problem: String) -> object_store::Error {
        object_store::Error::Generic {
            store: "warehouse",
            source: format!(
                "{}: committed file {} of table {} {problem}: the warehouse is damaged (`report verify` lists every damaged commit)",
                self.shown, file.path, file.table
            )
            .into(),
        }
    }

    fn meta(location: &Path, size: u64) -> ObjectMeta {
        ObjectMeta {
            location: location.clone(),
            last_modified: chrono::DateTime::UNIX_EPOCH,
            size,
            e_tag: None,
            version: None,
        }
    }

    /// Committed files below `prefix` (whole segments: `a/b` holds `a/b/c`, not `a/bc`).
    fn below<'a>(&'a self, prefix: Option<&'a Path>) -> impl Iterator<Item = (&'a Path, u64)> {
        self.files
            .iter()
            .filter(move |(p, _)| match prefix {
                None => true,
                Some(pre) => p.prefix_matches(pre) && *p != pre,
            })
            .map(|(p, f)| (p, f.size))
    }

    fn read_only() -> object_store::Error {
        object_store::Error::NotSupported {
            source: "the committed view of the warehouse is read-only".into(),
        }
    }
}

impl fmt::Display for Committed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Committed({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Committed {
    async fn put_opts(&self, _: &Path, _: PutPayload, _: PutOptions) -> Result<PutResult> {
        Err(Self::read_only())
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        Err(Self::read_only())
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let got = self.inner.get_opts(location, options).await;
        let Some(file) = self.files.get(location) else {
            return got;
        };
        match got {
            Ok(r) if r.meta.size != file.size => Err(self.damaged(
                file,
                format!(
                    "is {} bytes, not the {} its commit says",
                    r.meta.size, file.size
                ),
            )),
            Err(object_store::Error::NotFound { .. }) => {
                Err(self.damaged(file, "is missing".to_string()))
            }
            other => other,
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        locations.map(|_| Err(Self::read_only())).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let found: Vec<Result<ObjectMeta>> = self
            .below(prefix)
            .map(|(p, size)| Ok(Self::meta(p, size)))
            .collect();
        stream::iter(found).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let depth = prefix.map_or(0, |p| p.parts().count());
        let mut common_prefixes = Vec::new();
        let mut objects = Vec::new();
        for (p, size) in self.below(prefix) {
            let parts: Vec<_> = p.parts().collect();
            if parts.len() == depth + 1 {
                objects.push(Self::meta(p, size));
            } else {
                let folder = Path::from_iter(parts.into_iter().take(depth + 1));
                if common_prefixes.last() != Some(&folder) {
                    common_prefixes.push(folder);
                }
            }
        }
        common_prefixes.dedup();
        Ok(ListResult {
            common_prefixes,
            objects,
        })
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> Result<()> {
        Err(Self::read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn listings_hold_the_committed_files_only() {
        let inner = Arc::new(InMemory::new());
        for p in [
            "w/t/date=1/a",
            "w/t/date=1/b",
            "w/t/date=2/c",
            "w/t/stray",
            "w/tx/d",
        ] {
            object_store::ObjectStoreExt::put(inner.as_ref(), &Path::from(p), "x".into())
                .await
                .expect("put");
        }
        let view = Committed::new(
            inner,
            ["w/t/date=1/a", "w/t/date=2/c", "w/tx/d", "w/t/date=3/gone"]
                .into_iter()
                .map(|p| {
                    let file = File {
                        size: 1,
                        table: "t".into(),
                        path: p.into(),
                    };
                    (Path::from(p), file)
                }),
            "w",
        );
        // A committed file that is missing is an error naming it and its table.
        let gone = object_store::ObjectStoreExt::get(&view, &Path::from("w/t/date=3/gone"))
            .await
            .expect_err("missing");
        assert!(
            gone.to_string()
                .contains("committed file w/t/date=3/gone of table t is missing"),
            "{gone}"
        );
        let listed: Vec<String> = view
            .list(Some(&Path::from("w/t")))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .expect("list");
        assert_eq!(listed, ["w/t/date=1/a", "w/t/date=2/c", "w/t/date=3/gone"]);
        let top = view
            .list_with_delimiter(Some(&Path::from("w/t")))
            .await
            .expect("list");
        let folders: Vec<String> = top.common_prefixes.iter().map(|p| p.to_string()).collect();
        assert_eq!(folders, ["w/t/date=1", "w/t/date=2", "w/t/date=3"]);
        assert!(top.objects.is_empty());
        let day = view
            .list_with_delimiter(Some(&Path::from("w/t/date=1")))
            .await
            .expect("list");
        assert_eq!(day.objects.len(), 1);
        assert_eq!(day.objects[0].size, 1);
        assert!(
            object_store::ObjectStoreExt::put(&view, &Path::from("w/x"), "y".into())
                .await
                .is_err()
        );
    }
}
