//! The Staff page: everyone the viewer may see, adding a person, deactivating and reactivating,
//! and importing from CSV (preview first, then all rows or none).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{CreateUser, ImportPreview};
use scoreline_core::{PageRequest, Permission, Role, TeamId, User, UserId};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, PageForm};
use crate::page::form::{FormErrors, answer, done, picked, rejected};
use crate::page::{Layout, PageActor, counted};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/users", get(show).post(create))
        .route("/users/{id}/active", post(set_active))
        .route("/users/{id}/password-reset", post(password_reset))
        .route("/users/import", post(import))
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    more: bool,
    can_create: bool,
    roles: Vec<(&'static str, &'static str)>,
    /// The teams a new person may join: `(id, "Group / Team")`, by name.
    teams: Vec<(TeamId, String)>,
    /// Whether a new person may be in no team (global admins only: anyone else would lose sight
    /// of them).
    team_optional: bool,
    form: NewUserForm,
    errors: FormErrors,
    /// Users whose active state the viewer may change.
    changeable: Vec<UserId>,
    /// The CSV being imported, and its preview once checked.
    import_csv: String,
    import: Option<ImportPreview>,
    /// Whether Import (not only Preview) was pressed.
    import_attempted: bool,
    /// A password reset link just made: for whom, the link, and when it expires. Shown on this
    /// one page only.
    reset_link: Option<(String, String, scoreline_core::Timestamp)>,
}

impl UsersPage {
    fn can_change(&self, id: &UserId) -> bool {
        self.changeable.contains(id)
    }
}

/// The "Add a person" form as posted; the password is never sent back.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
    team_ids: String,
}

impl Default for NewUserForm {
    fn default() -> Self {
        Self {
            email: String::new(),
            name: String::new(),
            role: "employee".to_owned(),
            password: String::new(),
            team_ids: String::new(),
        }
    }
}

async fn users_page(
    state: &WebState,
    page: &PageActor,
    form: &NewUserForm,
    errors: FormErrors,
) -> Result<UsersPage, ApiError> {
    let actor = &page.actor;
    let users = state.app.list_users(actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    let me = actor.user().map(|user| user.id);
    let changeable = users
        .items
        .iter()
        .filter(|user| {
            actor.can(Permission::ManageStaff) && actor.may_grant(user.role) && Some(user.id) != me
        })
        .map(|user| user.id)
        .collect();
    let roles = Role::ALL
        .into_iter()
        .filter(|role| actor.may_grant(*role))
        .map(|role| (role.as_str(), role.label()))
        .collect();
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let groups = state.app.list_groups(actor, all).await?.items;
    let mut teams: Vec<(TeamId, String)> = state
        .app
        .list_teams(actor, all)
        .await?
        .items
        .into_iter()
        .map(|team| {
            let group = groups.iter().find(|g| g.id == team.group_id).map_or("", |g| g.name.as_str());
            (team.id, format!("{group} / {}", team.name))
        })
        .collect();
    teams.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(UsersPage {
        can_create: actor.can(Permission::ManageStaff),
        teams,
        team_optional: actor.scope().is_everything(),
        layout: page.layout(),
        more: users.next_after.is_some(),
        users: users.items,
        roles,
        form: NewUserForm { password: String::new(), ..form.clone() },
        errors,
        changeable,
        import_csv: String::new(),
        import: None,
        import_attempted: false,
        reset_link: None,
    })
}

async fn show(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    Ok(users_page(&state, &page, &NewUserForm::default(), FormErrors::none()).await?.into_response())
}

/// "Add a person".
async fn create(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<NewUserForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let team = picked::<TeamId>("team_ids", &form.team_ids, "Choose a team from the list.")?;
        let input = CreateUser {
            email: form.email.clone(),
            name: form.name.clone(),
            role: form.role.clone(),
            password: Some(form.password.clone()).filter(|p| !p.is_empty()),
            team_ids: team.into_iter().collect(),
        };
        state.app.create_user(&page.actor, input).await
    }
    .await;
    let created = |user: User| done("/users", format!("Created {}.", user.email));
    answer("new-user", result, created, async |errors| users_page(&state, &page, &form, errors).await).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActiveForm {
    active: String,
}

/// Deactivate or Reactivate on the staff list.
async fn set_active(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<UserId>,
    PageForm(form): PageForm<ActiveForm>,
) -> Result<Response, ApiError> {
    let active = form.active == "true";
    let result = state.app.set_user_active(&page.actor, id, active).await;
    let changed = |user: User| {
        done("/users", format!("{} {}.", if active { "Reactivated" } else { "Deactivated" }, user.email))
    };
    let again = async |errors| users_page(&state, &page, &NewUserForm::default(), errors).await;
    answer(&format!("active-{id}"), result, changed, again).await
}

/// "Reset link" on the staff list: a one-time link for the admin to pass on, shown once here.
async fn password_reset(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<UserId>,
) -> Result<Response, ApiError> {
    match state.app.create_password_reset(&page.actor, id).await {
        Ok(link) => {
            let mut shown = users_page(&state, &page, &NewUserForm::default(), FormErrors::none()).await?;
            let url =
                format!("{}{}", state.config.public_url, crate::credentials::ui::reset_path(&link.token));
            shown.reset_link = Some((link.user.email, url, link.expires_at));
            Ok(shown.into_response())
        }
        Err(error) => {
            let (status, errors) = rejected(&format!("active-{id}"), error)?;
            Ok((status, users_page(&state, &page, &NewUserForm::default(), errors).await?).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImportForm {
    csv: String,
    /// `preview` or `import`.
    action: String,
}

/// "Import from CSV": Preview shows every row with its problems; Import creates all or nothing.
async fn import(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<ImportForm>,
) -> Result<Response, ApiError> {
    let shown = async |errors| {
        let mut shown = users_page(&state, &page, &NewUserForm::default(), errors).await?;
        shown.import = Some(state.app.preview_staff_import(&page.actor, &form.csv).await?);
        shown.import_csv = form.csv.clone();
        shown.import_attempted = form.action == "import";
        Ok::<_, ApiError>(shown)
    };
    if form.action != "import" {
        return Ok(shown(FormErrors::none()).await?.into_response());
    }
    let result = state.app.import_staff(&page.actor, &form.csv).await;
    let imported = |users: Vec<User>| {
        done("/users", format!("Imported {}.", counted(users.len(), "staff member", "staff members")))
    };
    answer("import-form", result, imported, shown).await
}
