//! A store whose every request gives up at one instant: what bounds a pull's writes to the
//! warehouse, as the pull's deadline bounds its waiting on the sources. A request that has not
//! answered by then, a body that is still arriving, a listing still running, all end with an
//! error that says why (`why`); nothing retries past it.

use std::fmt;
use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result, UploadPart,
};
use tokio::time::Instant;

#[derive(Debug)]
pub struct Deadline {
    inner: Arc<dyn ObjectStore>,
    at: Instant,
    why: Arc<str>,
}

impl Deadline {
    /// `inner`, every request of which ends at `at` with an error saying `why`.
    pub fn new(inner: Arc<dyn ObjectStore>, at: Instant, why: String) -> Deadline {
        Deadline {
            inner,
            at,
            why: why.into(),
        }
    }
}

fn expired(why: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "deadline",
        source: why.to_string().into(),
    }
}

async fn bounded<T>(
    at: Instant,
    why: &str,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout_at(at, f).await {
        Ok(r) => r,
        Err(_) => Err(expired(why)),
    }
}

/// `s`, ending with an error when its next item has not come by `at`.
fn bounded_stream<T: Send + 'static>(
    s: BoxStream<'static, Result<T>>,
    at: Instant,
    why: Arc<str>,
) -> BoxStream<'static, Result<T>> {
    futures::stream::unfold(Some(s), move |state| {
        let why = why.clone();
        async move {
            let mut s = state?;
            match tokio::time::timeout_at(at, s.next()).await {
                Ok(Some(item)) => Some((item, Some(s))),
                Ok(None) => None,
                Err(_) => Some((Err(expired(&why)), None)),
            }
        }
    })
    .boxed()
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deadline({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Deadline {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        bounded(
            self.at,
            &self.why,
            self.inner.put_opts(location, payload, opts),
        )
        .await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let upload = bounded(
            self.at,
            &self.why,
            self.inner.put_multipart_opts(location, opts),
        )
        .await?;
        Ok(Box::new(Upload {
            inner: upload,
            at: self.at,
            why: self.why.clone(),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let mut got = bounded(self.at, &self.why, self.inner.get_opts(location, options)).await?;
        got.payload = match got.payload {
            GetResultPayload::Stream(s) => {
                GetResultPayload::Stream(bounded_stream(s, self.at, self.why.clone()))
            }
            local => local,
        };
        Ok(got)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        bounded_stream(
            self.inner.delete_stream(locations),
            self.at,
            self.why.clone(),
        )
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        bounded_stream(self.inner.list(prefix), self.at, self.why.clone())
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        bounded(self.at, &self.why, self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        bounded(self.at, &self.why, self.inner.copy_opts(from, to, options)).await
    }
}

#[derive(Debug)]
struct Upload {
    inner: Box<dyn MultipartUpload>,
    at: Instant,
    why: Arc<str>,
}

#[async_trait::async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let part = self.inner.put_part(data);
        let (at, why) = (self.at, self.why.clone());
        Box::pin(async move { bounded(at, &why, part).await })
    }

    async fn complete(&mut self) -> Result<PutResult> {
        bounded(self.at, &self.why, self.inner.complete()).await
    }

    async fn abort(&mut self) -> Result<()> {
        bounded(self.at, &self.why, self.inner.abort()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;
    use object_store::memory::InMemory;
    use std::time::Duration;

    /// A store that never answers a write.
    #[derive(Debug)]
    struct Silent(InMemory);

    impl fmt::Display for Silent {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Silent")
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for Silent {
        async fn put_opts(&self, _: &Path, _: PutPayload, _: PutOptions) -> Result<PutResult> {
            std::future::pending().await
        }
        async fn put_multipart_opts(
            &self,
            l: &Path,
            o: PutMultipartOptions,
        ) -> Result<Box<dyn MultipartUpload>> {
            self.0.put_multipart_opts(l, o).await
        }
        async fn get_opts(&self, l: &Path, o: GetOptions) -> Result<GetResult> {
            self.0.get_opts(l, o).await
        }
        fn delete_stream(
            &self,
            l: BoxStream<'static, Result<Path>>,
        ) -> BoxStream<'static, Result<Path>> {
            self.0.delete_stream(l)
        }
        fn list(&self, p: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
            futures::stream::pending()
                .boxed()
                .chain(self.0.list(p))
                .boxed()
        }
        async fn list_with_delimiter(&self, p: Option<&Path>) -> Result<ListResult> {
            self.0.list_with_delimiter(p).await
        }
        async fn copy_opts(&self, f: &Path, t: &Path, o: CopyOptions) -> Result<()> {
            self.0.copy_opts(f, t, o).await
        }
    }

    #[tokio::test]
    async fn requests_and_listings_end_at_the_deadline_saying_why() {
        let start = Instant::now();
        let limit = Duration::from_millis(300);
        let store = Deadline::new(
            Arc::new(Silent(InMemory::new())),
            start + limit,
            "the warehouse did not answer in time".to_string(),
        );
        let err = store
            .put(&Path::from("a"), "x".into())
            .await
            .expect_err("a write that is never answered ends");
        assert!(
            err.to_string()
                .contains("the warehouse did not answer in time"),
            "{err}"
        );
        let waited = start.elapsed();
        assert!(waited >= limit && waited < limit * 10, "{waited:?}");
        // Past the deadline, a listing that does not answer ends at once with the same error.
        let listed: Vec<Result<ObjectMeta>> = store.list(None).collect().await;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].is_err());
        assert!(start.elapsed() < limit * 10);
        // A request that answers is untouched.
        assert!(matches!(
            store.get(&Path::from("missing")).await,
            Err(object_store::Error::NotFound { .. })
        ));
    }
}
