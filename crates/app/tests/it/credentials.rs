use std::time::Duration;

use scoreline_app::{Actor, AppError, PasswordChange, SecretToken, TokenRequest, UpdateUser};
use scoreline_core::PageRequest;
use scoreline_testkit::{TestBackend, on_both_backends};

use crate::Fixture;

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase";

on_both_backends!(
    tokens_expire_are_listed_and_revoked,
    last_use_is_recorded_at_most_once_a_minute,
    deactivation_revokes_tokens_and_sessions_for_good,
    only_managers_see_someone_elses_tokens,
    changing_the_password_ends_the_other_sessions,
    a_reset_link_works_once_and_expires,
);

fn all() -> PageRequest {
    PageRequest::first(PageRequest::MAX_LIMIT)
}

async fn tokens_expire_are_listed_and_revoked(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let user = fx.user("ada@example.com", "supervisor", Some(PASSWORD)).await;
    let me = fx.app.actor_for(user.clone()).await.unwrap();
    let request = |name: &str, days| TokenRequest { name: name.to_owned(), expires_in_days: days };

    let bad = fx.app.issue_api_token(&me, &user.email, request(" ", Some(0))).await.unwrap_err();
    let AppError::Validation(fields) = bad else { panic!("{bad:?}") };
    assert_eq!(fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["name", "expires_in_days"]);

    let daily = fx.app.issue_api_token(&me, &user.email, request("daily", Some(1))).await.unwrap();
    let forever = fx.app.issue_api_token(&me, &user.email, request("forever", None)).await.unwrap();
    let listed = fx.app.list_api_tokens(&me, user.id, all()).await.unwrap().items;
    assert_eq!(listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["daily", "forever"]);
    assert_eq!(listed[0].expires_at, Some(crate::T0.saturating_add(Duration::from_secs(86_400))));
    assert!(fx.app.api_token_actor(&daily.token).await.unwrap().is_some());

    fx.clock.advance(Duration::from_secs(86_400));
    assert!(fx.app.api_token_actor(&daily.token).await.unwrap().is_none(), "an expired token works");
    assert!(fx.app.api_token_actor(&forever.token).await.unwrap().is_some());
    let listed = fx.app.list_api_tokens(&me, user.id, all()).await.unwrap().items;
    assert!(listed[0].is_expired(fx.clock_now()), "expired tokens stay listed, marked");

    fx.app.revoke_api_token(&me, user.id, forever.listed.id).await.unwrap();
    assert!(fx.app.api_token_actor(&forever.token).await.unwrap().is_none(), "a revoked token works");
    let again = fx.app.revoke_api_token(&me, user.id, forever.listed.id).await.unwrap_err();
    assert!(matches!(again, AppError::NotFound(_)), "{again:?}");
    let names: Vec<_> = fx.app.list_api_tokens(&me, user.id, all()).await.unwrap().items;
    assert_eq!(names.len(), 1, "revoked tokens leave the list");

    let actions = fx.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "api_token.create").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "api_token.revoke").count(), 1);
}

async fn last_use_is_recorded_at_most_once_a_minute(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let user = fx.user("bob@example.com", "employee", None).await;
    let issued = fx.app.create_api_token(&Actor::System, &user.email, "script").await.unwrap();
    let last_used =
        async || fx.app.list_api_tokens(&Actor::System, user.id, all()).await.unwrap().items[0].last_used_at;
    assert_eq!(last_used().await, None);
    fx.app.api_token_actor(&issued.token).await.unwrap().unwrap();
    assert_eq!(last_used().await, Some(crate::T0));
    fx.clock.advance(Duration::from_secs(30));
    fx.app.api_token_actor(&issued.token).await.unwrap().unwrap();
    assert_eq!(last_used().await, Some(crate::T0), "written again within the minute");
    fx.clock.advance(Duration::from_secs(31));
    fx.app.api_token_actor(&issued.token).await.unwrap().unwrap();
    assert_eq!(last_used().await, Some(crate::T0.saturating_add(Duration::from_secs(61))));
}

async fn deactivation_revokes_tokens_and_sessions_for_good(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let user = fx.user("carol@example.com", "employee", Some(PASSWORD)).await;
    let token = fx.app.create_api_token(&Actor::System, &user.email, "script").await.unwrap();
    let session = fx.app.sign_in(&user.email, PASSWORD, "10.0.0.1").await.unwrap();

    let off = UpdateUser { active: Some(false), ..Default::default() };
    fx.app.update_user(&Actor::System, user.id, off).await.unwrap();
    let on = UpdateUser { active: Some(true), ..Default::default() };
    fx.app.update_user(&Actor::System, user.id, on).await.unwrap();

    assert!(fx.app.api_token_actor(&token.token).await.unwrap().is_none(), "the old token revived");
    assert!(fx.app.session_actor(&session.session).await.unwrap().is_none(), "the old session revived");
    assert!(fx.app.list_api_tokens(&Actor::System, user.id, all()).await.unwrap().items.is_empty());
    fx.app.sign_in(&user.email, PASSWORD, "10.0.0.1").await.expect("the password still works");
}

async fn only_managers_see_someone_elses_tokens(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let admin = fx.user("admin@example.com", "global_admin", None).await;
    let admin = fx.app.actor_for(admin).await.unwrap();
    let boss = fx.user("boss@example.com", "global_admin", None).await;
    let supervisor = fx.user("sup@example.com", "supervisor", None).await;
    let supervisor_actor = fx.app.actor_for(supervisor.clone()).await.unwrap();
    let employee = fx.user("emp@example.com", "employee", None).await;
    let token = fx.app.create_api_token(&Actor::System, &employee.email, "script").await.unwrap();

    let listed = fx.app.list_api_tokens(&admin, employee.id, all()).await.unwrap().items;
    assert_eq!(listed.len(), 1);
    let refused = fx.app.list_api_tokens(&supervisor_actor, employee.id, all()).await.unwrap_err();
    assert!(matches!(refused, AppError::PermissionDenied { .. }), "{refused:?}");
    let refused = fx.app.revoke_api_token(&supervisor_actor, employee.id, token.listed.id).await.unwrap_err();
    assert!(matches!(refused, AppError::PermissionDenied { .. }), "{refused:?}");
    // A global admin may manage another global admin; nobody else manages a peer.
    fx.app.list_api_tokens(&admin, boss.id, all()).await.unwrap();
    let peer = fx.app.create_password_reset(&supervisor_actor, employee.id).await.unwrap_err();
    assert!(matches!(peer, AppError::PermissionDenied { .. }), "{peer:?}");

    fx.app.revoke_api_token(&admin, employee.id, token.listed.id).await.unwrap();
    assert!(fx.app.api_token_actor(&token.token).await.unwrap().is_none());
}

async fn changing_the_password_ends_the_other_sessions(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let user = fx.user("dan@example.com", "employee", Some(PASSWORD)).await;
    let here = fx.app.sign_in(&user.email, PASSWORD, "10.0.0.1").await.unwrap();
    let elsewhere = fx.app.sign_in(&user.email, PASSWORD, "10.0.0.2").await.unwrap();
    let (here_id, me) = fx.app.session(&here.session).await.unwrap().unwrap();
    let change = |current: &str, new: &str| PasswordChange {
        current_password: current.into(),
        new_password: new.into(),
    };

    let wrong =
        fx.app.change_password(&me, Some(here_id), "10.0.0.1", change("not it at all", NEW_PASSWORD)).await;
    let Err(AppError::Validation(fields)) = wrong else { panic!("{wrong:?}") };
    assert_eq!(fields[0].field, "current_password");
    let short = fx.app.change_password(&me, Some(here_id), "10.0.0.1", change(PASSWORD, "short")).await;
    let Err(AppError::Validation(fields)) = short else { panic!("{short:?}") };
    assert_eq!(fields[0].field, "new_password");
    assert!(
        fx.app.session_actor(&elsewhere.session).await.unwrap().is_some(),
        "a refused change ends nothing"
    );

    fx.app.change_password(&me, Some(here_id), "10.0.0.1", change(PASSWORD, NEW_PASSWORD)).await.unwrap();
    assert!(
        fx.app.session_actor(&here.session).await.unwrap().is_some(),
        "the session that changed it stays"
    );
    assert!(fx.app.session_actor(&elsewhere.session).await.unwrap().is_none(), "the other session stayed");
    let old = fx.app.sign_in(&user.email, PASSWORD, "10.0.0.3").await.unwrap_err();
    assert!(matches!(old, AppError::InvalidCredentials), "{old:?}");
    fx.app.sign_in(&user.email, NEW_PASSWORD, "10.0.0.3").await.unwrap();
    assert!(fx.audit_actions().await.contains(&"user.password.change".to_owned()));
}

async fn a_reset_link_works_once_and_expires(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let admin = fx.user("admin@example.com", "global_admin", None).await;
    let admin = fx.app.actor_for(admin).await.unwrap();
    let user = fx.user("eve@example.com", "employee", Some(PASSWORD)).await;
    let session = fx.app.sign_in(&user.email, PASSWORD, "10.0.0.1").await.unwrap();

    let first = fx.app.create_password_reset(&admin, user.id).await.unwrap();
    let link = fx.app.create_password_reset(&admin, user.id).await.unwrap();
    assert!(!format!("{link:?}").contains(link.token.expose()), "the link's secret in Debug");
    assert!(
        fx.app.password_reset_user(&first.token).await.unwrap().is_none(),
        "a newer link replaces the older"
    );
    assert_eq!(fx.app.password_reset_user(&link.token).await.unwrap().unwrap().id, user.id);

    let short = fx.app.reset_password(&link.token, "short").await.unwrap_err();
    assert!(matches!(short, AppError::Validation(_)), "{short:?}");
    fx.app.reset_password(&link.token, NEW_PASSWORD).await.unwrap();
    assert!(fx.app.session_actor(&session.session).await.unwrap().is_none(), "sessions end on a reset");
    fx.app.sign_in(&user.email, NEW_PASSWORD, "10.0.0.1").await.unwrap();
    let twice = fx.app.reset_password(&link.token, "yet another passphrase").await.unwrap_err();
    assert!(matches!(twice, AppError::NotFound(_)), "a link works twice: {twice:?}");

    let late = fx.app.create_password_reset(&admin, user.id).await.unwrap();
    fx.clock.advance(Duration::from_secs(24 * 3600));
    let expired = fx.app.reset_password(&late.token, "yet another passphrase").await.unwrap_err();
    assert!(matches!(expired, AppError::NotFound(_)), "an expired link works: {expired:?}");
    let forged = SecretToken::from_presented("slr_not-a-real-link");
    assert!(fx.app.password_reset_user(&forged).await.unwrap().is_none());
    let actions = fx.audit_actions().await;
    assert!(
        actions.contains(&"user.password.reset_link".to_owned())
            && actions.contains(&"user.password.reset".to_owned())
    );
}
