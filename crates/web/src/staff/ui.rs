//! The Staff page: everyone the viewer may see, adding a person, deactivating and reactivating,
//! and importing from CSV (preview first, then all rows or none).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{CreateUser, ImportPreview, UpdateUser};
use scoreline_core::{PageRequest, Permission, Role, TeamId, User, UserId};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, PageForm, QueryFields};
use crate::page::browse::{Browse, Paged};
use crate::page::form::{FormErrors, answer, done, picked, rejected};
use crate::page::{Layout, PageActor, counted};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/users", get(show).post(create))
        .route("/users/{id}/edit", get(edit))
        .route("/users/{id}", post(update))
        .route("/users/{id}/active", post(set_active))
        .route("/users/{id}/password-reset", post(password_reset))
        .route("/users/import", post(import))
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    /// The page of people the search and filter leave.
    users: Paged<StaffRow>,
    filters: Vec<(&'static str, &'static str)>,
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

/// A person with the teams they are in, as `Group / Team`.
struct StaffRow {
    user: User,
    teams: Vec<String>,
}

impl StaffRow {
    fn finds(&self, browse: &Browse) -> bool {
        let wanted = match browse.show(&SHOW, "all") {
            "all" => true,
            "active" => self.user.active,
            "deactivated" => !self.user.active,
            role => self.user.role.as_str() == role,
        };
        let mut texts = vec![self.user.name.as_str(), self.user.email.as_str()];
        texts.extend(self.teams.iter().map(String::as_str));
        wanted && browse.finds(&texts)
    }
}

const SHOW: [&str; 8] =
    ["all", "active", "deactivated", "global_admin", "group_admin", "team_admin", "supervisor", "employee"];

fn filters() -> Vec<(&'static str, &'static str)> {
    let mut filters = vec![("all", "Everyone"), ("active", "Active"), ("deactivated", "Deactivated")];
    filters.extend(Role::ALL.into_iter().map(|role| (role.as_str(), role.plural_label())));
    filters
}

/// Every team the viewer sees as `(id, "Group / Team")`, by name, with its members.
async fn teams_with_members(
    state: &WebState,
    actor: &scoreline_app::Actor,
) -> Result<Vec<(TeamId, String, Vec<UserId>)>, ApiError> {
    let all = PageRequest::first(PageRequest::MAX_LIMIT);
    let groups = state.app.list_groups(actor, all).await?.items;
    let mut members: HashMap<TeamId, Vec<UserId>> = HashMap::new();
    for membership in state.app.team_memberships(actor).await? {
        members.entry(membership.team_id).or_default().push(membership.user_id);
    }
    let mut teams = Vec::new();
    for team in state.app.list_teams(actor, all).await?.items {
        let group = groups.iter().find(|g| g.id == team.group_id).map_or("", |g| g.name.as_str());
        teams.push((
            team.id,
            format!("{group} / {}", team.name),
            members.remove(&team.id).unwrap_or_default(),
        ));
    }
    teams.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(teams)
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
    browse: &Browse,
    form: &NewUserForm,
    errors: FormErrors,
) -> Result<UsersPage, ApiError> {
    let actor = &page.actor;
    let users = state.app.list_users(actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    let with_members = teams_with_members(state, actor).await?;
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
    let more = users.next_after.is_some();
    let rows: Vec<StaffRow> = users
        .items
        .into_iter()
        .map(|user| {
            let teams =
                with_members.iter().filter(|(_, _, members)| members.contains(&user.id)).map(|t| t.1.clone());
            StaffRow { teams: teams.collect(), user }
        })
        .filter(|row| row.finds(browse))
        .collect();
    let teams = with_members.into_iter().map(|(id, label, _)| (id, label)).collect();
    Ok(UsersPage {
        can_create: actor.can(Permission::ManageStaff),
        teams,
        team_optional: actor.scope().is_everything(),
        layout: page.layout(),
        more,
        users: browse.paginate(rows, "all"),
        filters: filters(),
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

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    QueryFields(browse): QueryFields<Browse>,
) -> Result<Response, ApiError> {
    Ok(users_page(&state, &page, &browse, &NewUserForm::default(), FormErrors::none()).await?.into_response())
}

/// The page one person is edited on: name, email and role.
#[derive(Template, WebTemplate)]
#[template(path = "staff/edit.html")]
struct EditPage {
    layout: Layout,
    user: User,
    teams: Vec<String>,
    form: EditForm,
    roles: Vec<(&'static str, &'static str)>,
    /// Whether the role may change: never one's own.
    role_editable: bool,
    errors: FormErrors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct EditForm {
    name: String,
    email: String,
    role: String,
}

async fn edit_page(
    state: &WebState,
    page: &PageActor,
    id: UserId,
    form: Option<EditForm>,
    errors: FormErrors,
) -> Result<EditPage, ApiError> {
    let actor = &page.actor;
    let user = state.app.get_user(actor, id).await?;
    let may_edit = actor.can(Permission::ManageStaff)
        && (actor.may_grant(user.role) || actor.user().is_some_and(|me| me.id == id));
    if !may_edit {
        return Err(ApiError::not_found("user"));
    }
    let teams = teams_with_members(state, actor)
        .await?
        .into_iter()
        .filter(|(_, _, members)| members.contains(&id))
        .map(|(_, label, _)| label)
        .collect();
    let form = form.unwrap_or_else(|| EditForm {
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role.as_str().to_owned(),
    });
    let role_editable = actor.user().is_none_or(|me| me.id != id);
    let roles = Role::ALL
        .into_iter()
        .filter(|role| actor.may_grant(*role) || *role == user.role)
        .map(|role| (role.as_str(), role.label()))
        .collect();
    Ok(EditPage { layout: page.layout(), user, teams, form, roles, role_editable, errors })
}

async fn edit(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<UserId>,
) -> Result<Response, ApiError> {
    Ok(edit_page(&state, &page, id, None, FormErrors::none()).await?.into_response())
}

/// Saves the edit form.
async fn update(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<UserId>,
    PageForm(form): PageForm<EditForm>,
) -> Result<Response, ApiError> {
    let input = UpdateUser {
        name: Some(form.name.clone()),
        email: Some(form.email.clone()),
        role: Some(form.role.clone()).filter(|role| !role.is_empty()),
        active: None,
    };
    let result = state.app.update_user(&page.actor, id, input).await;
    let saved = |user: User| done(format!("/users/{}/edit", user.id), format!("Saved {}.", user.email));
    let again = async |errors| edit_page(&state, &page, id, Some(form.clone()), errors).await;
    answer("edit-user", result, saved, again).await
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
    let again = async |errors| users_page(&state, &page, &Browse::default(), &form, errors).await;
    answer("new-user", result, created, again).await
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
    let again =
        async |errors| users_page(&state, &page, &Browse::default(), &NewUserForm::default(), errors).await;
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
            let mut shown =
                users_page(&state, &page, &Browse::default(), &NewUserForm::default(), FormErrors::none())
                    .await?;
            let url =
                format!("{}{}", state.config.public_url, crate::credentials::ui::reset_path(&link.token));
            shown.reset_link = Some((link.user.email, url, link.expires_at));
            Ok(shown.into_response())
        }
        Err(error) => {
            let (status, errors) = rejected(&format!("active-{id}"), error)?;
            Ok((
                status,
                users_page(&state, &page, &Browse::default(), &NewUserForm::default(), errors).await?,
            )
                .into_response())
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
        let mut shown =
            users_page(&state, &page, &Browse::default(), &NewUserForm::default(), errors).await?;
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
