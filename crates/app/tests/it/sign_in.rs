use std::time::Duration;

use scoreline_app::AppError;
use scoreline_testkit::{TestBackend, on_both_backends};

use crate::Fixture;

const PASSWORD: &str = "correct horse battery staple";

on_both_backends!(
    sign_in_starts_a_session_that_ends,
    wrong_passwords_lock_the_email_and_address_pair,
    concurrent_guesses_cannot_outrun_the_limit,
    guesses_from_elsewhere_slow_the_email_down_without_locking_it,
);

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

/// Five failures from one address lock that address out of the email, whatever the case and
/// spaces of the email typed; the owner still signs in from another address.
async fn wrong_passwords_lock_the_email_and_address_pair(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    fx.user("bob@example.com", "supervisor", Some(PASSWORD)).await;
    for typed in
        ["bob@example.com", " BOB@example.com", "Bob@Example.COM ", "bob@EXAMPLE.com", "  bob@example.com"]
    {
        let err = fx.app.sign_in(typed, "wrong password!", "10.0.0.1").await.unwrap_err();
        assert!(matches!(err, AppError::InvalidCredentials), "{err:?}");
    }
    let unknown = fx.app.sign_in("nobody@example.com", PASSWORD, "10.0.0.1").await.unwrap_err();
    assert!(matches!(unknown, AppError::InvalidCredentials), "unknown users get the same answer");

    let locked = fx.app.sign_in("BOB@example.com", PASSWORD, "10.0.0.1").await.unwrap_err();
    assert!(
        matches!(locked, AppError::Throttled { .. }),
        "the pair is locked even for the right password: {locked:?}"
    );

    fx.app.sign_in("bob@example.com", PASSWORD, "10.0.0.2").await.expect("the owner signs in from elsewhere");

    fx.clock.advance(Duration::from_secs(15 * 60 + 1));
    fx.app.sign_in("bob@example.com", PASSWORD, "10.0.0.1").await.expect("the lock ends with its window");
}

/// Fifty guesses at once from one address: only the limit's worth reach a password check, and
/// the right password sent after them is refused.
async fn concurrent_guesses_cannot_outrun_the_limit(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    fx.user("carol@example.com", "employee", Some(PASSWORD)).await;
    let guesses = (0..50).map(|i| {
        let app = fx.app.clone();
        tokio::spawn(async move {
            app.sign_in("carol@example.com", &format!("guess number {i}"), "10.0.0.9").await
        })
    });
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            Err(AppError::InvalidCredentials) => checked += 1,
            Err(AppError::Throttled { .. }) => {}
            other => panic!("unexpected answer to a guess: {other:?}"),
        }
    }
    assert_eq!(checked, 5, "exactly the limit's worth of guesses were checked");
    let after = fx.app.sign_in("carol@example.com", PASSWORD, "10.0.0.9").await.unwrap_err();
    assert!(matches!(after, AppError::Throttled { .. }), "{after:?}");
}

/// Failures from many addresses never lock the email; past a budget its attempts are spaced out.
async fn guesses_from_elsewhere_slow_the_email_down_without_locking_it(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    fx.user("dan@example.com", "employee", Some(PASSWORD)).await;
    for address in 0..10 {
        let err = fx.app.sign_in("dan@example.com", "wrong password!", &format!("10.1.0.{address}")).await;
        assert!(matches!(err, Err(AppError::InvalidCredentials)), "{err:?}");
    }
    let slowed = fx.app.sign_in("dan@example.com", PASSWORD, "10.2.0.1").await.unwrap_err();
    let AppError::Throttled { retry_after_secs } = slowed else { panic!("{slowed:?}") };
    assert!(retry_after_secs <= 10, "slowed down for seconds, not locked: {retry_after_secs}");

    fx.clock.advance(Duration::from_secs(11));
    fx.app
        .sign_in("dan@example.com", PASSWORD, "10.2.0.1")
        .await
        .expect("the owner gets through after the pause");
}
