//! The retention purge beside other writers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use scoreline_core::Clock;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_store::sync::Checkpoint;
use scoreline_testkit::{SeedCase, TestApp, TestBackend};

/// SQLite lets one transaction write at a time, and a writer waiting for its lock sleeps between
/// tries; a purge going batch after batch used to keep a sync page out for hundreds of batches.
/// This process's writers now take turns, first come first served: the page waits for the batch
/// that holds the lock, and perhaps one that asked just before it, never for the purge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_sync_page_waits_for_a_purge_batch_not_for_the_purge() {
    let test =
        TestApp::with_helpdesk(TestBackend::Sqlite, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let now = test.clock.now();
    let ago = move |hours: u64| now.saturating_sub(std::time::Duration::from_secs(hours * 3600));
    let old: Vec<SeedCase> =
        (0..3000).map(|i| SeedCase::new(format!("old-{i}"), Some("ann"), ago(24 * 40 + i % 500))).collect();
    test.seed_cases(integration, &old).await;

    let batches = Arc::new(AtomicU64::new(0));
    let purge = {
        let (db, batches) = (test.store().clone(), batches.clone());
        tokio::spawn(async move {
            while db.purge_batch(integration, ago(24 * 30), 1, now).await.unwrap() > 0 {
                batches.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let checkpoint = Checkpoint::Cursor { updated_at: now };
    let mut waits = Vec::new();
    for page in 0..20 {
        while batches.load(Ordering::SeqCst) < 10 * (page + 1) {
            tokio::task::yield_now().await;
        }
        let case = SeedCase::new(format!("new-{page}"), Some("ann"), now).record();
        let before = batches.load(Ordering::SeqCst);
        test.store().store_page(integration, &[case], &checkpoint, now).await.unwrap();
        waits.push(batches.load(Ordering::SeqCst) - before);
    }
    assert!(!purge.is_finished(), "the purge outlasts the pages, or the test shows nothing");
    purge.abort();
    // Counted around the call: the batch holding the lock, one that asked just before the page,
    // and one that ended before the page began but was counted after; on a busy machine a page
    // whose thread was set aside a while waits for a few more. Without turns, pages waited for
    // more than 100 batches in all.
    let total: u64 = waits.iter().sum();
    assert!(total <= 50, "sync pages waited for these numbers of purge batches: {waits:?}");
}
