//! File storage for tests that need it to fail or to be slow: content in memory, and knobs that
//! make writes or deletes fail, or hold writes until released (a remote bucket that answers
//! slowly).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures_util::stream::BoxStream;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// What a [`TestStore`] does with writes and deletes; shared with the test that drives it.
#[derive(Debug, Default)]
pub struct Knobs {
    /// Writes fail ("storage unavailable").
    pub refuse_puts: AtomicBool,
    /// Deletes fail ("deletes are refused").
    pub refuse_deletes: AtomicBool,
    hold_puts: AtomicBool,
    held: AtomicUsize,
    released: tokio::sync::Notify,
}

impl Knobs {
    /// Holds every write from now on until [`Knobs::release`].
    pub fn hold(&self) {
        self.hold_puts.store(true, Ordering::SeqCst);
    }

    /// Lets the held writes and every later one go through.
    pub fn release(&self) {
        self.hold_puts.store(false, Ordering::SeqCst);
        self.released.notify_waiters();
    }

    /// Writes waiting now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Waits (up to 10 s) until `n` writes are held.
    pub async fn until_held(&self, n: usize) {
        let wait = async {
            while self.held() < n {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), wait)
            .await
            .expect("the writes reach the storage");
    }

    fn refused(what: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "test",
            source: what.into(),
        }
    }
}

/// An in-memory object store driven by its [`Knobs`].
#[derive(Debug)]
pub struct TestStore {
    inner: InMemory,
    /// The knobs.
    pub knobs: Arc<Knobs>,
}

impl TestStore {
    /// The store and its knobs, as the file storage of a test app
    /// ([`crate::TestApp::with_storage`]).
    pub fn storage() -> (flexportal_app::files::FileStorage, Arc<Knobs>) {
        let knobs = Arc::new(Knobs::default());
        let store = TestStore {
            inner: InMemory::new(),
            knobs: knobs.clone(),
        };
        (
            flexportal_app::files::FileStorage::over(Arc::new(store)),
            knobs,
        )
    }
}

impl std::fmt::Display for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestStore")
    }
}

#[async_trait::async_trait]
impl ObjectStore for TestStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let k = &self.knobs;
        if k.hold_puts.load(Ordering::SeqCst) {
            k.held.fetch_add(1, Ordering::SeqCst);
            loop {
                let released = k.released.notified();
                if !k.hold_puts.load(Ordering::SeqCst) {
                    break;
                }
                released.await;
            }
            k.held.fetch_sub(1, Ordering::SeqCst);
        }
        if k.refuse_puts.load(Ordering::SeqCst) {
            return Err(Knobs::refused("storage unavailable"));
        }
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }
    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        if self.knobs.refuse_deletes.load(Ordering::SeqCst) {
            return Err(Knobs::refused("deletes are refused"));
        }
        self.inner.delete(location).await
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy(from, to).await
    }
    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await
    }
}
