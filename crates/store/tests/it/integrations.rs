use std::time::Duration;

use scoreline_core::{
    AuthMethod, Disconnect, IntegrationId, IntegrationSettings, IntegrationState, LastRun, LicenseId,
    PageRequest, RateLimitWait, Retention, SessionId, SyncPhase, Timestamp, UserId,
};
use scoreline_store::Sealer;
use scoreline_store::integrations::{NewCredentials, NewIntegration, OAuthFlow, OAuthTokens};
use scoreline_testkit::{TestBackend, TestDatabase, on_both_backends};
use secrecy::{ExposeSecret, SecretString};

use crate::conformance::{T0, audit, new_user};

const PAT: &str = "dal:canary-PAT-value-0123456789";

fn sealer() -> Sealer {
    Sealer::from_encoded_key(&Sealer::generate_encoded_key()).unwrap()
}

fn settings(label: &str) -> IntegrationSettings {
    IntegrationSettings {
        label: label.to_owned(),
        description: "Brand A".to_owned(),
        retention: Retention::parse(3, "months").unwrap(),
        backfill_days: 7,
    }
}

fn token_integration(label: &str) -> NewIntegration {
    NewIntegration {
        id: IntegrationId::new(),
        settings: settings(label),
        auth_method: AuthMethod::Token,
        account_id: Some("b7eff798-f8df-4364-8059-649c35c9ed0c".to_owned()),
        license_id: Some(LicenseId::new(13_526_557)),
        created_at: T0,
    }
}

fn oauth_tokens(n: u32) -> OAuthTokens {
    OAuthTokens {
        access_token: SecretString::from(format!("dal:access-{n}")),
        refresh_token: Some(SecretString::from(format!("refresh-{n}"))),
        expires_at: Some(T0),
    }
}

on_both_backends!(
    token_credentials_are_sealed_and_shown_only_by_their_last_four,
    refreshed_tokens_are_stored_only_over_the_version_read,
    oauth_flows_are_single_use,
    disconnecting_keeps_or_removes_the_integration,
    the_sync_state_keeps_the_rate_limit_wait_the_backfill_start_and_the_last_run,
    a_license_is_kept_as_connected_and_filled_in_only_where_missing,
);

async fn a_license_is_kept_as_connected_and_filled_in_only_where_missing(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let credentials = NewCredentials::Token(SecretString::from(PAT));
    let known = token_integration("Known");
    let created = db.create_integration(&known, &credentials, &sealer, &audit("connect")).await.unwrap();
    assert_eq!(created.license_id, Some(LicenseId::new(13_526_557)));
    let unknown = NewIntegration { license_id: None, ..token_integration("Unknown") };
    let created = db.create_integration(&unknown, &credentials, &sealer, &audit("connect")).await.unwrap();
    assert_eq!(created.license_id, None);

    assert!(db.fill_integration_license(unknown.id, LicenseId::new(42)).await.unwrap());
    assert!(!db.fill_integration_license(unknown.id, LicenseId::new(43)).await.unwrap(), "filled once");
    assert!(!db.fill_integration_license(known.id, LicenseId::new(44)).await.unwrap());
    let read = |id| async move { db.get_integration(id).await.unwrap().unwrap().license_id };
    assert_eq!(read(unknown.id).await, Some(LicenseId::new(42)));
    assert_eq!(read(known.id).await, Some(LicenseId::new(13_526_557)));
    assert!(!db.fill_integration_license(IntegrationId::new(), LicenseId::new(1)).await.unwrap());
}

async fn the_sync_state_keeps_the_rate_limit_wait_the_backfill_start_and_the_last_run(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let new = token_integration("HelpDesk");
    db.create_integration(&new, &NewCredentials::Token(SecretString::from(PAT)), &sealer, &audit("connect"))
        .await
        .unwrap();
    let id = new.id;
    let fresh = db.sync_state(id, T0).await.unwrap();
    assert_eq!(
        (fresh.running, fresh.rate_limit, fresh.backfill_resumed, fresh.last_run),
        (false, None, None, None)
    );

    let until = T0.saturating_add(Duration::from_secs(60));
    assert!(db.acquire_sync_lease(id, "server-a", until, T0).await.unwrap());
    let wait = RateLimitWait::RetryAfter { until: T0.saturating_add(Duration::from_secs(3)) };
    db.note_rate_limit(id, Some(wait)).await.unwrap();
    db.note_backfill_resumed(id, 125_000, T0).await.unwrap();
    let running = db.sync_state(id, T0).await.unwrap();
    assert!(running.running, "a live lease is a run under way");
    assert_eq!((running.rate_limit, running.backfill_resumed), (Some(wait), Some((T0, 125_000))));
    assert!(
        !db.sync_state(id, until.saturating_add(Duration::from_secs(1))).await.unwrap().running,
        "expired"
    );
    db.note_rate_limit(id, Some(RateLimitWait::Pacing)).await.unwrap();
    assert_eq!(db.sync_state(id, T0).await.unwrap().rate_limit, Some(RateLimitWait::Pacing));

    let done_at = T0.saturating_add(Duration::from_secs(9));
    db.record_sync_success(id, 42, done_at).await.unwrap();
    let done = db.sync_state(id, done_at).await.unwrap();
    assert_eq!(done.last_run, Some(LastRun { at: done_at, written: Some(42) }));
    assert_eq!(done.rate_limit, None, "a finished run waits for nothing");

    db.record_sync_failure(id, SyncPhase::Error, "HelpDesk answered 500", done_at).await.unwrap();
    let failed = db.sync_state(id, done_at).await.unwrap();
    assert_eq!(failed.last_run, Some(LastRun { at: done_at, written: None }));
    assert_eq!(
        (failed.phase, failed.last_error.as_deref()),
        (SyncPhase::Error, Some("HelpDesk answered 500"))
    );
}

async fn token_credentials_are_sealed_and_shown_only_by_their_last_four(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let new = token_integration("HelpDesk EU");
    let created = db
        .create_integration(&new, &NewCredentials::Token(SecretString::from(PAT)), &sealer, &audit("connect"))
        .await
        .unwrap();
    assert_eq!(created.state, IntegrationState::Connected);
    assert!(created.credential_set);
    assert_eq!(created.token_last4.as_deref(), Some("6789"));
    assert_eq!(created.retention, Retention::parse(3, "months").unwrap());

    let stored = db.load_credentials(new.id, &sealer).await.unwrap().unwrap();
    assert_eq!(stored.token.unwrap().expose_secret(), PAT);
    assert!(db.load_credentials(new.id, &self::sealer()).await.is_err(), "another key cannot unseal");

    // Same account, other label: allowed.
    let second = token_integration("HelpDesk US");
    db.create_integration(
        &second,
        &NewCredentials::Token(SecretString::from(PAT)),
        &sealer,
        &audit("connect"),
    )
    .await
    .unwrap();
    assert_eq!(db.list_integrations(PageRequest::first(10)).await.unwrap().items.len(), 2);

    let mut changed = settings("Renamed");
    changed.backfill_days = 14;
    assert!(db.update_integration_settings(new.id, &changed, T0, &audit("edit")).await.unwrap());
    let updated = db.get_integration(new.id).await.unwrap().unwrap();
    assert_eq!((updated.label.as_str(), updated.backfill_days), ("Renamed", 14));

    if let Some(path) = test.sqlite_path() {
        if let scoreline_store::Db::Sqlite(store) = db {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await.unwrap();
        }
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.windows(PAT.len()).any(|w| w == PAT.as_bytes()), "PAT stored in the clear");
    }
}

async fn refreshed_tokens_are_stored_only_over_the_version_read(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let new =
        NewIntegration { auth_method: AuthMethod::Oauth, account_id: None, ..token_integration("OAuth") };
    db.create_integration(&new, &NewCredentials::OAuth(oauth_tokens(1)), &sealer, &audit("connect"))
        .await
        .unwrap();
    let first = db.load_credentials(new.id, &sealer).await.unwrap().unwrap();

    let later = Timestamp::from_millis(T0.as_millis() + 1000);
    assert!(db.try_lock_refresh(new.id, "a", later, T0).await.unwrap());
    assert!(!db.try_lock_refresh(new.id, "b", later, T0).await.unwrap(), "held by a");
    let rotated = OAuthTokens { refresh_token: None, ..oauth_tokens(2) };
    assert!(db.store_refreshed_tokens(new.id, first.version, &rotated, &sealer, T0).await.unwrap());
    assert!(
        !db.store_refreshed_tokens(new.id, first.version, &oauth_tokens(3), &sealer, T0).await.unwrap(),
        "stale version"
    );
    db.unlock_refresh(new.id, "a").await.unwrap();
    assert!(db.try_lock_refresh(new.id, "b", later, T0).await.unwrap());
    assert!(
        db.try_lock_refresh(new.id, "c", later, later.saturating_add(std::time::Duration::from_millis(1)))
            .await
            .unwrap(),
        "an expired lock can be taken over"
    );

    let now = db.load_credentials(new.id, &sealer).await.unwrap().unwrap().oauth.unwrap();
    assert_eq!(now.access_token.expose_secret(), "dal:access-2");
    assert_eq!(
        now.refresh_token.unwrap().expose_secret(),
        "refresh-1",
        "an absent refresh token keeps the stored one"
    );
}

async fn oauth_flows_are_single_use(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let user = db
        .create_user(&new_user("admin@example.com", scoreline_core::Role::GlobalAdmin), &audit("user"))
        .await
        .unwrap();
    let flow = OAuthFlow {
        allow_duplicate: false,
        state_digest: [3u8; 32],
        user_id: user.id,
        session_id: Some(SessionId::new()),
        integration_id: IntegrationId::new(),
        reconnect: false,
        settings: settings("Pending"),
        pkce_verifier: SecretString::from("verifier-secret"),
        redirect_uri: "http://127.0.0.1/cb".to_owned(),
        created_at: T0,
        expires_at: T0.saturating_add(std::time::Duration::from_secs(600)),
    };
    db.create_oauth_flow(&flow, &sealer).await.unwrap();
    let other = db
        .create_user(&new_user("other@example.com", scoreline_core::Role::GlobalAdmin), &audit("user"))
        .await
        .unwrap();
    for (who, session) in [(other.id, flow.session_id), (user.id, Some(SessionId::new())), (user.id, None)] {
        assert!(db.take_oauth_flow(&[3u8; 32], who, session, &sealer).await.unwrap().is_none());
    }
    let taken = db.take_oauth_flow(&[3u8; 32], user.id, flow.session_id, &sealer).await.unwrap().unwrap();
    assert_eq!(taken.settings, flow.settings);
    assert_eq!(taken.pkce_verifier.expose_secret(), "verifier-secret");
    assert_eq!(taken.session_id, flow.session_id);
    let again = db.take_oauth_flow(&[3u8; 32], user.id, flow.session_id, &sealer).await.unwrap();
    assert!(again.is_none(), "second use");
    assert_eq!(db.count_integrations().await.unwrap(), 0, "a pending flow creates no integration");
    let _ = UserId::new();
}

async fn disconnecting_keeps_or_removes_the_integration(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let (db, sealer) = (&test.db, sealer());
    let keep = token_integration("Keep");
    let remove = token_integration("Remove");
    for new in [&keep, &remove] {
        db.create_integration(
            new,
            &NewCredentials::Token(SecretString::from(PAT)),
            &sealer,
            &audit("connect"),
        )
        .await
        .unwrap();
    }
    db.disconnect_integration(keep.id, Disconnect::KeepCases, T0, &audit("disconnect")).await.unwrap();
    db.disconnect_integration(remove.id, Disconnect::RemoveEverything, T0, &audit("remove")).await.unwrap();
    let kept = db.get_integration(keep.id).await.unwrap().unwrap();
    assert_eq!(kept.state, IntegrationState::Disconnected);
    assert!(!kept.credential_set && kept.token_last4.is_none());
    assert!(db.load_credentials(keep.id, &sealer).await.unwrap().is_none());
    assert!(db.get_integration(remove.id).await.unwrap().is_none());
}
