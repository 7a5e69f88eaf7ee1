//! (g) Listing 100,000 keys from s3rver through a proxy that adds 20 ms to every request:
//! `report`'s split listing (`pull::list::keys`) against object_store's plain sequential
//! `list`, on the same server in the same run. Run by `bench/listing.sh`, which starts the
//! servers and the proxy and sets REPORT_BENCH_S3 (s3rver) and REPORT_BENCH_SLOW (the proxy).

use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

const KEYS: usize = 100_000;
const VERSIONS: [&str; 8] = [
    "0.77.0", "0.78.0", "0.79.0", "0.80.0", "0.81.0", "0.82.0", "0.83.0", "0.84.0",
];

fn store(endpoint: &str) -> Arc<dyn ObjectStore> {
    // s3rver's fixed credentials, or REPORT_BENCH_KEY's (moto: "testing").
    let key = std::env::var("REPORT_BENCH_KEY").unwrap_or_else(|_| "S3RVER".into());
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name("telemetry")
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id(&key)
            .with_secret_access_key(&key)
            .build()
            .expect("s3 store"),
    )
}

/// The key of object `i`: a version folder and a hex name, as Abacus lays sessions out.
fn key(i: usize) -> String {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "bench-list/v1/batect/{}/{h:016x}.json",
        VERSIONS[i % VERSIONS.len()]
    )
}

#[tokio::main]
async fn main() {
    let (Ok(direct), Ok(slow)) = (
        std::env::var("REPORT_BENCH_S3"),
        std::env::var("REPORT_BENCH_SLOW"),
    ) else {
        eprintln!(
            "listing: REPORT_BENCH_S3 and REPORT_BENCH_SLOW are not set (bench/listing.sh sets them); skipped"
        );
        return;
    };
    let up = store(&direct);
    let prefix = Path::from("bench-list/v1/batect");
    let have = up
        .list(Some(&prefix))
        .try_collect::<Vec<_>>()
        .await
        .expect("list")
        .len();
    if have < KEYS {
        let started = Instant::now();
        futures::stream::iter((0..KEYS).map(|i| {
            let up = up.clone();
            async move {
                up.put(&Path::from(key(i)), PutPayload::from_static(b"{}"))
                    .await
            }
        }))
        .buffer_unordered(64)
        .try_collect::<Vec<_>>()
        .await
        .expect("uploads");
        eprintln!(
            "listing: {KEYS} keys uploaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let slow_store = store(&slow);
    let started = Instant::now();
    let plain: Vec<_> = slow_store
        .list(Some(&prefix))
        .try_collect()
        .await
        .expect("plain list");
    let sequential = started.elapsed().as_secs_f64();

    let mut bucket = report::store::Bucket::new(slow_store, prefix.clone());
    bucket.ordered = true;
    let started = Instant::now();
    let listed = report::pull::list::keys(&bucket, 32, &indicatif::ProgressBar::hidden())
        .await
        .expect("split list");
    let split = started.elapsed().as_secs_f64();
    assert_eq!(
        listed.keys.len(),
        plain.len(),
        "both listings find every key"
    );
    let mut want: Vec<String> = plain.iter().map(|m| m.location.to_string()).collect();
    want.sort_unstable();
    assert!(
        listed.keys == want,
        "the split listing is the plain one, in order"
    );
    println!(
        "listing {} keys through a 20 ms proxy: sequential {sequential:.2} s, split {split:.2} s ({:.1}x)",
        plain.len(),
        sequential / split
    );
}
