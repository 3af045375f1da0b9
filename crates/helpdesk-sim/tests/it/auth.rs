//! Basic `account_id:PAT` (the PAT holds a colon) and Bearer tokens; 401s in HelpDesk's shape.

use std::time::Duration;

use scoreline_helpdesk_sim::AuthKind;
use serde_json::Value;

use crate::common::spawn_default;

async fn status_with(api: &crate::common::Api, auth: Option<(&str, &str)>, bearer: Option<&str>) -> u16 {
    let mut request = api.http.get(api.url("/v1/tickets"));
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn basic_auth_splits_at_the_first_colon() {
    let api = spawn_default().await;
    let (account, pat) = (api.sim.account_id(), api.sim.pat());
    assert!(pat.contains(':'), "PATs carry a region prefix: {pat}");
    assert_eq!(status_with(&api, Some((&account, &pat)), None).await, 200);
    assert_eq!(status_with(&api, Some((&account, "dal:wrong")), None).await, 401);
    assert_eq!(status_with(&api, Some(("b7eff798-f8df-4364-8059-649c35c9ed0c", &pat)), None).await, 401);
    // A PAT is not a Bearer token.
    assert_eq!(status_with(&api, None, Some(&pat)).await, 401);
    let response = api.http.get(api.url("/v1/agents")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "Unauthorized");
    assert!(body["details"].is_string());
}

#[tokio::test]
async fn revoked_pats_stop_working_and_new_ones_work() {
    let api = spawn_default().await;
    let account = api.sim.account_id();
    let second = api.sim.issue_pat();
    assert!(api.sim.revoke(&api.sim.pat()));
    assert_eq!(status_with(&api, Some((&account, &api.sim.pat())), None).await, 401);
    assert_eq!(status_with(&api, Some((&account, &second)), None).await, 200);
    assert!(!api.sim.revoke("dal:never-issued"));
}

#[tokio::test]
async fn another_person_of_the_license_signs_in_with_their_own_account_id() {
    let api = spawn_default().await;
    let (person, pat) = api.sim.add_person();
    assert_ne!(person, api.sim.account_id());
    let agents = api.json("/v1/agents").await;
    let accounts: Vec<&str> =
        agents.as_array().unwrap().iter().filter_map(|a| a["accountID"].as_str()).collect();
    assert!(accounts.contains(&person.as_str()), "an agent of the license: {accounts:?}");
    assert_eq!(status_with(&api, Some((&person, &pat)), None).await, 200);
    // A token belongs to its person only.
    assert_eq!(status_with(&api, Some((&api.sim.account_id(), &pat)), None).await, 401);
    assert_eq!(status_with(&api, Some((&person, &api.sim.pat())), None).await, 401);
    let as_person = api.http.get(api.url("/v1/licenses")).basic_auth(&person, Some(&pat));
    let licenses: Value = as_person.send().await.unwrap().json().await.unwrap();
    assert_eq!(licenses[0]["ID"].as_i64(), Some(api.sim.license_id()), "the same license: {licenses}");
}

#[tokio::test]
async fn bearer_tokens_work_until_revoked_or_eight_hours_old() {
    let api = spawn_default().await;
    let first = api.sim.issue_tokens();
    let second = api.sim.issue_tokens();
    assert_eq!(first.expires_in, 28_800);
    assert_eq!(status_with(&api, None, Some(&first.access_token)).await, 200);
    assert!(api.sim.revoke(&first.access_token));
    assert_eq!(status_with(&api, None, Some(&first.access_token)).await, 401);
    api.sim.clock().advance(Duration::from_secs(8 * 3600 - 1));
    assert_eq!(status_with(&api, None, Some(&second.access_token)).await, 200);
    api.sim.clock().advance(Duration::from_secs(1));
    assert_eq!(status_with(&api, None, Some(&second.access_token)).await, 401);
}

#[tokio::test]
async fn the_request_log_records_the_auth_kind() {
    let api = spawn_default().await;
    let token = api.sim.issue_tokens().access_token;
    status_with(&api, Some((&api.sim.account_id(), &api.sim.pat())), None).await;
    status_with(&api, None, Some(&token)).await;
    status_with(&api, None, None).await;
    let log = api.sim.requests();
    let kinds: Vec<(AuthKind, u16)> = log.iter().map(|r| (r.auth, r.status)).collect();
    assert_eq!(kinds, vec![(AuthKind::Basic, 200), (AuthKind::Bearer, 200), (AuthKind::None, 401)]);
    assert!(log.iter().all(|r| r.method == "GET" && r.uri == "/v1/tickets" && r.service == "api"));
    assert_eq!(log[0].at_millis, api.sim.now().as_millis());
}
