use std::time::Duration;

use scoreline_app::AppError;
use scoreline_testkit::{TestBackend, on_both_backends};

use crate::Fixture;

const PASSWORD: &str = "correct horse battery staple";

on_both_backends!(sign_in_starts_a_session_that_ends, wrong_passwords_are_throttled_per_email);

async fn sign_in_starts_a_session_that_ends(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let user = fx.user("Ada@Example.com", "global_admin", Some(PASSWORD)).await;
    let signed_in = fx.app.sign_in(" ada@example.COM ", PASSWORD, "127.0.0.1").await.unwrap();
    assert_eq!(signed_in.user.id, user.id);
    assert!(!format!("{signed_in:?}").contains(signed_in.session.expose()), "session secret leaked in Debug");

    let actor = fx.app.session_actor(&signed_in.session).await.unwrap().unwrap();
    assert_eq!(actor.user().unwrap().id, user.id);

    fx.clock.advance(signed_in.expires_in);
    assert!(fx.app.session_actor(&signed_in.session).await.unwrap().is_none(), "expired session accepted");

    let again = fx.app.sign_in("ada@example.com", PASSWORD, "127.0.0.1").await.unwrap();
    fx.app.sign_out(&again.session).await.unwrap();
    assert!(fx.app.session_actor(&again.session).await.unwrap().is_none(), "signed-out session accepted");
}

async fn wrong_passwords_are_throttled_per_email(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    fx.user("bob@example.com", "supervisor", Some(PASSWORD)).await;
    for _ in 0..5 {
        let err = fx.app.sign_in("bob@example.com", "wrong password!", "10.0.0.1").await.unwrap_err();
        assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    }
    let unknown = fx.app.sign_in("nobody@example.com", PASSWORD, "10.0.0.1").await.unwrap_err();
    assert!(matches!(unknown, AppError::InvalidCredentials), "unknown users get the same answer");

    let throttled = fx.app.sign_in("bob@example.com", PASSWORD, "10.0.0.2").await.unwrap_err();
    assert!(matches!(throttled, AppError::Throttled { .. }), "{throttled:?}");

    fx.clock.advance(Duration::from_secs(15 * 60 + 1));
    fx.app.sign_in("bob@example.com", PASSWORD, "10.0.0.2").await.unwrap();
}
