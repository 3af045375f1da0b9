//! Connecting a HelpDesk account that is connected already asks for confirmation. The account is
//! its license, which every person of it shares; integrations whose license is not known are
//! compared by Account ID.

use reqwest::StatusCode;
use scoreline_core::{LicenseId, PageRequest};
use scoreline_helpdesk_sim::{Fault, ScriptedFault};
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::integrations::{
    follow_callback, helpdesk, integration_count, person_body, post_connect_form, post_integration,
    start_oauth_with,
};

on_both_backends!(
    a_second_person_of_one_license_is_warned_and_connects_once_confirmed,
    another_license_is_not_warned_even_for_the_same_account_id,
    integrations_without_a_license_compare_account_ids_until_a_sync_reads_it,
    a_license_helpdesk_does_not_name_does_not_keep_anyone_from_connecting,
    an_oauth_authorization_is_compared_by_its_license,
);

/// The connect form of a token, as the page posts it.
async fn post_form(
    test: &TestApp,
    cookie: &str,
    account_id: &str,
    token: &str,
    confirm: bool,
) -> reqwest::Response {
    let token_fields = [("auth_method", "token"), ("account_id", account_id), ("token", token)];
    post_connect_form(test, cookie, "HelpDesk US", confirm, &token_fields).await
}

/// The error of a refused connection, which must be `already_connected` on `confirm_duplicate`.
async fn already_connected(answer: reqwest::Response) -> String {
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(
        (&error["code"], &error["fields"][0]["field"]),
        (&json!("already_connected"), &json!("confirm_duplicate"))
    );
    error["message"].as_str().unwrap().to_owned()
}

async fn license_of(test: &TestApp, id: &str) -> Option<LicenseId> {
    let integrations = test.store().list_integrations(PageRequest::first(100)).await.unwrap().items;
    integrations.into_iter().find(|i| i.id.to_string() == id).unwrap().license_id
}

async fn a_second_person_of_one_license_is_warned_and_connects_once_confirmed(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let license = test.sim().license_id();
    let first = post_integration(
        &test,
        &admin,
        &person_body("HelpDesk EU", &test.sim().account_id(), &test.sim().pat()),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["license_id"], license, "{first}");
    let page =
        test.get_text(&admin, &format!("/interactions/integrations/{}", first["id"].as_str().unwrap())).await;
    assert!(page.contains(&format!(r#"<dd id="license-id"><code>{license}</code></dd>"#)), "{page}");

    // A colleague of the same HelpDesk account, with an Account ID and a token of their own.
    let (colleague, colleague_pat) = test.sim().add_person();
    assert_ne!(colleague, test.sim().account_id());
    let message = already_connected(
        post_integration(&test, &admin, &person_body("HelpDesk US", &colleague, &colleague_pat)).await,
    )
    .await;
    assert_eq!(
        message,
        format!(
            "This HelpDesk account (License ID {license}) is already connected as “HelpDesk EU” (connected). A second integration fetches the same tickets again; confirm to connect it anyway."
        )
    );
    assert_eq!(integration_count(&test).await, 1);

    // The form says the same beside the box that connects anyway, and never shows the token.
    let refused = post_form(&test, &admin, &colleague, &colleague_pat, false).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(&format!("(License ID {license}) is already connected as “HelpDesk EU”")),
        "{page}"
    );
    assert!(page.contains(r#"name="confirm_duplicate""#) && page.contains("Connect anyway"), "{page}");
    assert!(!page.contains(&colleague_pat));
    assert_eq!(integration_count(&test).await, 1);

    let confirmed = post_form(&test, &admin, &colleague, &colleague_pat, true).await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let integrations = test.store().list_integrations(PageRequest::first(10)).await.unwrap().items;
    let second = integrations.iter().find(|i| i.label == "HelpDesk US").expect("connected once confirmed");
    assert_eq!(second.account_id.as_deref(), Some(colleague.as_str()));
    assert_eq!(second.license_id, Some(LicenseId::new(license)));
    let mut by_api = person_body("HelpDesk APAC", &colleague, &colleague_pat);
    by_api["confirm_duplicate"] = json!(true);
    assert_eq!(post_integration(&test, &admin, &by_api).await.status(), StatusCode::CREATED);
    assert_eq!(integration_count(&test).await, 3);
}

async fn another_license_is_not_warned_even_for_the_same_account_id(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    // The same person also works for another HelpDesk account, connected already.
    let other = LicenseId::new(test.sim().license_id() + 1);
    test.store_integration("Other brand", &test.sim().account_id(), Some(other)).await;
    let created = post_integration(
        &test,
        &admin,
        &person_body("HelpDesk", &test.sim().account_id(), &test.sim().pat()),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().await.unwrap());
    assert_eq!(integration_count(&test).await, 2);
}

async fn integrations_without_a_license_compare_account_ids_until_a_sync_reads_it(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let owner = test.sim().account_id();
    // Stored before licenses were read.
    let old = test.store_integration("Old", &owner, None).await;
    let message = already_connected(
        post_integration(&test, &admin, &person_body("Again", &owner, &test.sim().pat())).await,
    )
    .await;
    assert!(
        message.starts_with(&format!(
            "This HelpDesk account (Account ID {owner}) is already connected as “Old”"
        )),
        "{message}"
    );
    let page = test.get_text(&admin, &format!("/interactions/integrations/{old}")).await;
    assert!(page.contains("not read yet — the next sync reads it from HelpDesk"), "{page}");

    // Its credentials are the simulator's owner's (the stored token is not), so sync as the owner.
    let token = test.sim().pat();
    test.app.replace_token(&scoreline_app::Actor::System, old, &owner, token.into()).await.unwrap();
    test.clock.set(test.sim().now());
    test.app.sync_integration(old, None).await.unwrap();
    assert_eq!(license_of(&test, &old.to_string()).await, Some(LicenseId::new(test.sim().license_id())));
    // From then on a colleague, whose Account ID differs, is recognised too.
    let (colleague, colleague_pat) = test.sim().add_person();
    let colleague_body = person_body("Colleague", &colleague, &colleague_pat);
    let message = already_connected(post_integration(&test, &admin, &colleague_body).await).await;
    assert!(message.contains(&format!("(License ID {})", test.sim().license_id())), "{message}");

    // Read once: later syncs do not ask again.
    test.sim().clear_requests();
    test.app.sync_integration(old, None).await.unwrap();
    let paths: Vec<String> = test.sim().requests().into_iter().map(|r| r.uri).collect();
    assert!(!paths.is_empty() && !paths.iter().any(|p| p.starts_with("/v1/licenses")), "{paths:?}");
}

async fn a_license_helpdesk_does_not_name_does_not_keep_anyone_from_connecting(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let owner = test.sim().account_id();
    let (colleague, colleague_pat) = test.sim().add_person();
    // Every attempt of the quick retry fails: a 503, then garbage with a 200.
    for fault in [Fault::Status { status: 503 }, Fault::HtmlBody { status: 200 }] {
        test.sim().clear_faults();
        test.sim().script_fault(ScriptedFault::new("/v1/licenses", 10, fault.clone()));
        let label = format!("{fault:?}");
        let created = post_integration(&test, &admin, &person_body(&label, &owner, &test.sim().pat())).await;
        assert_eq!(created.status(), StatusCode::CREATED, "{fault:?}: {}", created.text().await.unwrap());
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["license_id"], Value::Null);
        let id = created["id"].as_str().unwrap();
        let page = test.get_text(&admin, &format!("/interactions/integrations/{id}/connected")).await;
        assert!(
            page.contains(r#"id="license-unknown""#) && page.contains("could only compare the Account ID"),
            "{page}"
        );
        assert_eq!(integration_count(&test).await, 1, "{fault:?}");
        // The Account ID is still compared.
        let again = post_integration(&test, &admin, &person_body("Again", &owner, &test.sim().pat())).await;
        assert!(already_connected(again).await.contains(&format!("(Account ID {owner})")));
        let path = format!("/api/v1/integrations/{id}?cases=remove");
        let (removed, _) = test.call(&admin, reqwest::Method::DELETE, &path, None).await;
        assert_eq!(removed, StatusCode::NO_CONTENT);
    }

    // Known on one side only: the colleague's Account ID differs, so nothing is said.
    test.sim().clear_faults();
    let first = post_integration(&test, &admin, &person_body("Owner", &owner, &test.sim().pat())).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    test.sim().script_fault(ScriptedFault::new("/v1/licenses", 10, Fault::Status { status: 500 }));
    let colleague_connects =
        post_integration(&test, &admin, &person_body("Colleague", &colleague, &colleague_pat)).await;
    assert_eq!(colleague_connects.status(), StatusCode::CREATED);
    let page = test.get_text(&admin, "/interactions/integrations").await;
    assert!(page.contains("Owner") && page.contains("Colleague"));
}

async fn an_oauth_authorization_is_compared_by_its_license(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    // A colleague connected by token; the OAuth authorization names the owner's Account ID.
    let (colleague, colleague_pat) = test.sim().add_person();
    let created = post_integration(&test, &admin, &person_body("By token", &colleague, &colleague_pat)).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let authorize_url = start_oauth_with(&test, &admin, "By OAuth", false).await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let duplicate = follow_callback(&admin, &callback).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let page = duplicate.text().await.unwrap();
    let license = test.sim().license_id();
    assert!(page.contains(&format!("(License ID {license}) is already connected as “By token”")), "{page}");
    assert_eq!(integration_count(&test).await, 1);

    let authorize_url = start_oauth_with(&test, &admin, "By OAuth", true).await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let connected = follow_callback(&admin, &callback).await;
    assert_eq!(connected.status(), StatusCode::SEE_OTHER);
    let integrations = test.store().list_integrations(PageRequest::first(10)).await.unwrap().items;
    let oauth = integrations.iter().find(|i| i.label == "By OAuth").expect("connected once confirmed");
    assert_eq!(oauth.license_id, Some(LicenseId::new(license)));
    assert_eq!(oauth.account_id.as_deref(), Some(test.sim().account_id().as_str()));
    let page = test.get_text(&admin, &format!("/interactions/integrations/{}", oauth.id)).await;
    assert!(
        page.contains(&test.sim().account_id()) && page.contains(&format!("<code>{license}</code>")),
        "{page}"
    );
}
