use scoreline_core::{
    ApiTokenId, AuditActor, AuditEntryId, AuditRecord, Email, GroupId, PageRequest, PersonName, Role, Scope,
    SessionId, SignInAdmission, SignInAttemptId, TeamId, Timestamp, UnitName, UserId,
};
use scoreline_store::StoreError;
use scoreline_store::model::{
    NewApiToken, NewGroup, NewSession, NewTeam, NewUser, SignInAttempt, SignInLimits,
};
use scoreline_testkit::{TestBackend, TestDatabase, on_both_backends};

pub const T0: Timestamp = Timestamp::from_millis(1_764_000_000_000);

pub fn audit(action: &str) -> AuditRecord {
    AuditRecord {
        id: AuditEntryId::new(),
        at: T0,
        actor: AuditActor::system(),
        action: action.to_owned(),
        target_kind: "test".to_owned(),
        target_id: "-".to_owned(),
        details: serde_json::json!({ "note": action }),
    }
}

pub fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        name: PersonName::parse("Ada Lovelace").unwrap(),
        role,
        password_hash: Some("$argon2id$stub".to_owned()),
        created_at: T0,
    }
}

on_both_backends!(
    users_round_trip_and_page,
    duplicate_email_is_a_conflict_and_writes_no_audit,
    teams_belong_to_existing_groups,
    sessions_expire_and_end,
    api_tokens_resolve_to_active_users,
    sign_in_attempts_are_reserved_per_key,
    audit_log_lists_newest_first,
);

async fn users_round_trip_and_page(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    db.ping().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..7 {
        let user = db
            .create_user(&new_user(&format!("User{n}@Example.com"), Role::Employee), &audit("user.create"))
            .await
            .unwrap();
        assert_eq!(user.email, format!("user{n}@example.com"));
        ids.push(user.id);
    }
    assert_eq!(db.count_users().await.unwrap(), 7);
    let fetched = db.get_user(&Scope::Everything, ids[3]).await.unwrap().unwrap();
    assert_eq!(fetched.role, Role::Employee);
    assert!(fetched.active);
    assert!(db.get_user(&Scope::Everything, UserId::new()).await.unwrap().is_none());

    let credentials = db.find_user_credentials("user2@example.com").await.unwrap().unwrap();
    assert_eq!(credentials.user.id, ids[2]);
    assert_eq!(credentials.password_hash.as_deref(), Some("$argon2id$stub"));

    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let result = db.list_users(&Scope::Everything, page).await.unwrap();
        seen.extend(result.items.iter().map(|u| u.id));
        match result.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    assert_eq!(seen, ids, "keyset paging returns every user once, in creation order");
}

async fn duplicate_email_is_a_conflict_and_writes_no_audit(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    db.create_user(&new_user("ada@example.com", Role::GlobalAdmin), &audit("first")).await.unwrap();
    let err =
        db.create_user(&new_user("ADA@example.com ", Role::Employee), &audit("second")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let log = db.list_audit(PageRequest::first(10)).await.unwrap();
    assert_eq!(log.items.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["first"]);
}

async fn teams_belong_to_existing_groups(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    let group = db
        .create_group(
            &NewGroup { id: GroupId::new(), name: UnitName::parse("Support EU").unwrap(), created_at: T0 },
            &audit("group"),
        )
        .await
        .unwrap();
    assert_eq!(db.get_group(&Scope::Everything, group.id).await.unwrap().unwrap().name, "Support EU");
    let team = NewTeam {
        id: TeamId::new(),
        group_id: group.id,
        name: UnitName::parse("Tier 1").unwrap(),
        created_at: T0,
    };
    db.create_team(&team, &audit("team")).await.unwrap();
    let again = NewTeam { id: TeamId::new(), ..team.clone() };
    assert!(matches!(db.create_team(&again, &audit("team")).await, Err(StoreError::Conflict(_))));
    let orphan = NewTeam { id: TeamId::new(), group_id: GroupId::new(), ..team.clone() };
    assert!(matches!(db.create_team(&orphan, &audit("team")).await, Err(StoreError::MissingReference)));

    let user = db.create_user(&new_user("bob@example.com", Role::Employee), &audit("user")).await.unwrap();
    db.add_team_member(team.id, user.id, T0, &audit("member")).await.unwrap();
    db.add_team_member(team.id, user.id, T0, &audit("member again")).await.unwrap();
    assert_eq!(db.get_team(&Scope::Everything, team.id).await.unwrap().unwrap().member_count, 1);
    assert_eq!(db.list_team_members(team.id).await.unwrap()[0].id, user.id);
    let teams = db.list_teams(&Scope::Everything, PageRequest::first(10)).await.unwrap();
    assert_eq!(teams.items.len(), 1);
    let actions: Vec<_> =
        db.list_audit(PageRequest::first(10)).await.unwrap().items.into_iter().map(|a| a.action).collect();
    assert!(!actions.contains(&"member again".to_owned()), "an idempotent no-op is not audited");
}

async fn sessions_expire_and_end(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    let user =
        db.create_user(&new_user("carol@example.com", Role::Supervisor), &audit("user")).await.unwrap();
    let digest = [7u8; 32];
    let expires_at = T0.saturating_add(std::time::Duration::from_secs(3600));
    db.create_session(&NewSession {
        id: SessionId::new(),
        token_digest: digest,
        user_id: user.id,
        created_at: T0,
        expires_at,
    })
    .await
    .unwrap();
    let (_, found) = db.find_session_user(&digest, T0).await.unwrap().unwrap();
    assert_eq!(found.id, user.id);
    assert!(db.find_session_user(&[8u8; 32], T0).await.unwrap().is_none());
    assert!(
        db.find_session_user(&digest, expires_at).await.unwrap().is_none(),
        "expired at its expiry instant"
    );
    assert_eq!(db.delete_expired_sessions(expires_at).await.unwrap(), 1);

    db.create_session(&NewSession {
        id: SessionId::new(),
        token_digest: digest,
        user_id: user.id,
        created_at: T0,
        expires_at,
    })
    .await
    .unwrap();
    db.delete_session(&digest).await.unwrap();
    assert!(db.find_session_user(&digest, T0).await.unwrap().is_none());
}

async fn api_tokens_resolve_to_active_users(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    let user = db.create_user(&new_user("dan@example.com", Role::GlobalAdmin), &audit("user")).await.unwrap();
    let digest = [9u8; 32];
    let token = NewApiToken {
        id: ApiTokenId::new(),
        token_digest: digest,
        user_id: user.id,
        name: "ci".to_owned(),
        created_at: T0,
        expires_at: None,
    };
    db.create_api_token(&token, &audit("token")).await.unwrap();
    assert_eq!(db.use_api_token(&digest, T0).await.unwrap().unwrap().id, user.id);
    assert!(db.use_api_token(&[1u8; 32], T0).await.unwrap().is_none());
}

/// A reservation counts until a success clears its email and address; each limit refuses
/// with its own verdict, and the email's limit only while attempts come close together.
async fn sign_in_attempts_are_reserved_per_key(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    let minute = |m: u64| T0.saturating_add(std::time::Duration::from_secs(60 * m));
    let attempt = |email: &str, client: &str, at| SignInAttempt {
        id: SignInAttemptId::new(),
        email_key: email.to_owned(),
        client_key: client.to_owned(),
        at,
    };
    let limits = |at: Timestamp| SignInLimits {
        since: T0,
        per_pair: 2,
        per_client: 3,
        per_email: 4,
        spaced_since: at.saturating_sub(std::time::Duration::from_secs(30)),
    };
    for m in 0..2 {
        let verdict =
            db.reserve_sign_in(&attempt("e:eve", "c:a", minute(m)), &limits(minute(m))).await.unwrap();
        assert_eq!(verdict, SignInAdmission::Granted);
    }
    let verdict = db.reserve_sign_in(&attempt("e:eve", "c:a", minute(2)), &limits(minute(2))).await.unwrap();
    assert_eq!(verdict, SignInAdmission::PairLocked);
    db.reserve_sign_in(&attempt("e:other", "c:a", minute(2)), &limits(minute(2))).await.unwrap();
    let verdict =
        db.reserve_sign_in(&attempt("e:third", "c:a", minute(2)), &limits(minute(2))).await.unwrap();
    assert_eq!(verdict, SignInAdmission::ClientLocked);
    for client in ["c:b", "c:c"] {
        db.reserve_sign_in(&attempt("e:eve", client, minute(3)), &limits(minute(3))).await.unwrap();
    }
    let verdict = db.reserve_sign_in(&attempt("e:eve", "c:d", minute(3)), &limits(minute(3))).await.unwrap();
    assert_eq!(verdict, SignInAdmission::EmailSlowed);
    let later = db.reserve_sign_in(&attempt("e:eve", "c:d", minute(4)), &limits(minute(4))).await.unwrap();
    assert_eq!(later, SignInAdmission::Granted, "spaced out, not locked");

    db.clear_sign_in("e:eve", "c:a").await.unwrap();
    let verdict = db.reserve_sign_in(&attempt("e:eve", "c:a", minute(6)), &limits(minute(6))).await.unwrap();
    assert_eq!(verdict, SignInAdmission::Granted, "a success clears its pair");
    let removed = db.delete_stale_credentials(minute(60), minute(60)).await.unwrap();
    assert!(removed >= 8, "stale attempts and lock rows go: {removed}");
}

async fn audit_log_lists_newest_first(backend: TestBackend) {
    let test = TestDatabase::fresh(backend).await;
    let db = &test.db;
    for n in 0..5 {
        db.append_audit(&audit(&format!("action.{n}"))).await.unwrap();
    }
    let first = db.list_audit(PageRequest::first(3)).await.unwrap();
    assert_eq!(
        first.items.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["action.4", "action.3", "action.2"]
    );
    assert_eq!(first.items[0].details["note"], "action.4");
    let rest = db.list_audit(PageRequest { after: first.next_after, limit: 3 }).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_after.is_none());
}
