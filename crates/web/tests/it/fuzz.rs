//! The API against its own OpenAPI document: schemathesis generates requests from the document
//! (valid and invalid ones) and fails on any 5xx, undocumented status, wrong content type or a
//! body that does not match its schema. Required when `SCORELINE_TEST_FUZZ=1` (CI sets it and
//! installs schemathesis); skipped with a message otherwise.

use std::time::Duration;

use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};

/// Requests per operation and phase: enough to find a crash, small enough for about a minute
/// per backend.
const EXAMPLES: &str = "25";
/// A fixed seed, so a failure seen in CI replays the same way here.
const SEED: &str = "20261201";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance";

on_both_backends!(the_api_conforms_to_its_openapi_document);

async fn the_api_conforms_to_its_openapi_document(backend: TestBackend) {
    if std::env::var("SCORELINE_TEST_FUZZ").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set SCORELINE_TEST_FUZZ=1 (with `pip install schemathesis==4.32.5`) to fuzz the API against its OpenAPI document"
        );
        return;
    }
    // Real data to reach past 404s: an integration with cases, agents matched to staff, a team.
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 30, ..SimConfig::default() }).await;
    test.connected_with_matched_agents().await;
    let (_, token) = test.api_user("global_admin").await;

    let run = tokio::process::Command::new("schemathesis")
        .arg("run")
        .arg(test.url("/api/v1/openapi.json"))
        .args(["--url", &test.base_url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", EXAMPLES, "--seed", SEED, "--checks", CHECKS])
        // One worker: hypothesis parses sources with `ast`, which on some Python 3.11 releases fails
        // when threads do it at once.
        .args(["--workers", "1", "--request-timeout", "20"])
        // Disconnecting would take the data the other operations are tested against.
        .args(["--exclude-operation-id", "delete_integration"])
        // Nor may it revoke the token it calls with.
        .args(["--exclude-path-regex", r"^.*/me/tokens/\{[^}]+\}$"])
        // Its body is a TOML file, which schemathesis cannot generate; `scorecards.rs` tests it.
        .args(["--exclude-operation-id", "import_scorecard"])
        .env("NO_COLOR", "1")
        // Its cache of past crashes goes with the build, not into the source tree.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("schemathesis finished within 4 minutes")
        .expect("schemathesis runs (pip install schemathesis==4.32.5)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found non-conforming answers:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "no test case ran:\n{report}");
}
