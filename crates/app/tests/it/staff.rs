use scoreline_app::{Actor, AppError, CreateGroup, CreateTeam, CreateUser};
use scoreline_core::PageRequest;
use scoreline_testkit::{TestBackend, on_both_backends};

use crate::Fixture;

on_both_backends!(
    invalid_users_get_every_field_error_at_once,
    nobody_grants_a_role_above_their_own,
    employees_are_refused_staff_and_structure,
    groups_and_teams_are_audited,
);

async fn invalid_users_get_every_field_error_at_once(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let input = CreateUser {
        email: "not-an-email".into(),
        name: " ".into(),
        role: "boss".into(),
        password: Some("short".into()),
        team_ids: vec![],
    };
    let AppError::Validation(fields) = fx.app.create_user(&Actor::System, input).await.unwrap_err() else {
        panic!("expected validation")
    };
    let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["email", "name", "role", "password"]);
    assert_eq!(fx.app.count_users().await.unwrap(), 0, "nothing half-created");

    fx.user("dup@example.com", "employee", None).await;
    let dup = CreateUser {
        email: "DUP@example.com".into(),
        name: "Dup".into(),
        role: "employee".into(),
        ..Default::default()
    };
    let AppError::Validation(fields) = fx.app.create_user(&Actor::System, dup).await.unwrap_err() else {
        panic!("expected validation")
    };
    assert_eq!(fields[0].field, "email");
    assert!(fields[0].message.contains("already exists"));
}

async fn nobody_grants_a_role_above_their_own(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let group = fx.app.create_group(&Actor::System, CreateGroup { name: "G".into() }).await.unwrap();
    let team = CreateTeam { group_id: Some(group.id), name: "T".into() };
    let team = fx.app.create_team(&Actor::System, team).await.unwrap();
    let lead = CreateUser {
        email: "ta@example.com".into(),
        name: "Team Admin".into(),
        role: "team_admin".into(),
        team_ids: vec![team.id],
        ..Default::default()
    };
    let lead = fx.app.create_user(&Actor::System, lead).await.unwrap();
    let team_admin = fx.app.actor_for(lead).await.unwrap();
    for role in ["global_admin", "team_admin"] {
        let escalate = CreateUser {
            email: "x@example.com".into(),
            name: "X".into(),
            role: role.into(),
            team_ids: vec![team.id],
            ..Default::default()
        };
        let AppError::Validation(fields) = fx.app.create_user(&team_admin, escalate).await.unwrap_err()
        else {
            panic!("expected refusal of {role}")
        };
        assert_eq!(fields[0].field, "role", "nobody creates someone of their own rank or above");
    }
    let allowed = CreateUser {
        email: "y@example.com".into(),
        name: "Y".into(),
        role: "employee".into(),
        team_ids: vec![team.id],
        ..Default::default()
    };
    fx.app.create_user(&team_admin, allowed).await.unwrap();
}

async fn employees_are_refused_staff_and_structure(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let employee = fx.app.actor_for(fx.user("emp@example.com", "employee", None).await).await.unwrap();
    let page = PageRequest::first(10);
    assert!(matches!(fx.app.list_users(&employee, page).await, Err(AppError::PermissionDenied { .. })));
    assert!(matches!(fx.app.list_teams(&employee, page).await, Err(AppError::PermissionDenied { .. })));
    assert!(matches!(
        fx.app.create_group(&employee, CreateGroup { name: "G".into() }).await,
        Err(AppError::PermissionDenied { .. })
    ));
}

async fn groups_and_teams_are_audited(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let admin = fx.app.actor_for(fx.user("admin@example.com", "global_admin", None).await).await.unwrap();
    let group = fx.app.create_group(&admin, CreateGroup { name: "EMEA".into() }).await.unwrap();
    let team = fx
        .app
        .create_team(&admin, CreateTeam { group_id: Some(group.id), name: "Billing".into() })
        .await
        .unwrap();
    let member = CreateUser {
        email: "m@example.com".into(),
        name: "M".into(),
        role: "employee".into(),
        team_ids: vec![team.id],
        ..Default::default()
    };
    fx.app.create_user(&admin, member).await.unwrap();
    let err =
        fx.app.create_team(&admin, CreateTeam { group_id: Some(group.id), name: "billing ".into() }).await;
    assert!(err.is_ok(), "names differ in case: allowed");
    let actions: Vec<_> = fx
        .store()
        .list_audit(PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| (a.action, a.actor.label))
        .collect();
    for action in ["group.create", "team.create", "user.create", "team.member.add"] {
        assert!(
            actions.iter().any(|(a, who)| a == action && who == "admin@example.com"),
            "{action} not audited: {actions:?}"
        );
    }
}
