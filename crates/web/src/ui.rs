//! The HTML pages. Plain forms that work without JavaScript; htmx is vendored for the pages
//! that refresh parts of themselves.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use scoreline_app::{Actor, AppError, CreateUser, ImportPreview, SignedIn};
use scoreline_core::{FieldError, PageRequest, Permission, Role, User, UserId};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{ClientAddress, PageActor, PageForm, SESSION_COOKIE, session_cookie};

/// What the layout needs to draw the navigation for the signed-in user.
pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub can_manage_integrations: bool,
    pub can_view_staff: bool,
}

impl Layout {
    pub fn for_actor(actor: &Actor) -> Self {
        let (user_name, role_label) = match actor.user() {
            Some(user) => (user.name.clone(), user.role.label()),
            None => ("system".to_owned(), "Operator"),
        };
        Self {
            user_name,
            role_label,
            can_manage_integrations: actor.can(Permission::ManageIntegrations),
            can_view_staff: actor.can(Permission::ViewStaff),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
    pub request_id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

/// Only same-site paths are followed after sign-in, never another host.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next } else { "/" }
}

pub async fn show_sign_in(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<SignInQuery>,
) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers)
        && state.app.session_actor(&session).await?.is_some()
    {
        return Ok(Redirect::to(safe_next(&query.next)).into_response());
    }
    Ok(SignInPage { email: String::new(), next: query.next, error: None }.into_response())
}

pub async fn sign_in(
    State(state): State<WebState>,
    ClientAddress(client): ClientAddress,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, ApiError> {
    let refused = |status: StatusCode, message: &str| {
        let page = SignInPage {
            email: form.email.clone(),
            next: form.next.clone(),
            error: Some(message.to_owned()),
        };
        Ok((status, page).into_response())
    };
    match state.app.sign_in(&form.email, &form.password, &client).await {
        Ok(signed_in) => {
            let mut response = Redirect::to(safe_next(&form.next)).into_response();
            let cookie = session_cookie_header(&state, &signed_in);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(AppError::InvalidCredentials) => {
            refused(StatusCode::UNAUTHORIZED, "That email and password do not match an active account.")
        }
        Err(AppError::Throttled { retry_after_secs }) => refused(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many failed attempts. Try again in {} minutes.", retry_after_secs.div_ceil(60)),
        ),
        Err(other) => Err(other.into()),
    }
}

fn session_cookie_header(state: &WebState, signed_in: &SignedIn) -> HeaderValue {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        signed_in.session.expose(),
        signed_in.expires_in.as_secs()
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn sign_out(State(state): State<WebState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers) {
        state.app.sign_out(&session).await?;
    }
    let mut response = Redirect::to("/sign-in").into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Sends each role to the first page it can use.
pub async fn home(PageActor(actor): PageActor) -> Response {
    if actor.can(Permission::ManageIntegrations) {
        Redirect::to("/interactions/integrations").into_response()
    } else if actor.can(Permission::ViewStaff) {
        Redirect::to("/users").into_response()
    } else {
        HomePage { layout: Layout::for_actor(&actor) }.into_response()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    more: bool,
    can_create: bool,
    roles: Vec<(&'static str, &'static str)>,
    form: NewUserForm,
    errors: Vec<FieldError>,
    created: Option<String>,
    /// Users whose active state the viewer may change.
    changeable: Vec<UserId>,
    notice: Option<String>,
    /// The CSV being imported, and its preview once checked.
    import_csv: String,
    import: Option<ImportPreview>,
}

impl UsersPage {
    fn can_change(&self, id: &UserId) -> bool {
        self.changeable.contains(id)
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    created: Option<String>,
    imported: Option<usize>,
    deactivated: Option<String>,
    reactivated: Option<String>,
}

async fn users_page(
    state: &WebState,
    actor: Actor,
    form: NewUserForm,
    errors: Vec<FieldError>,
    created: Option<String>,
) -> Result<UsersPage, ApiError> {
    let page = state.app.list_users(&actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    let me = actor.user().map(|user| user.id);
    let changeable = page
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
    Ok(UsersPage {
        can_create: actor.can(Permission::ManageStaff),
        layout: Layout::for_actor(&actor),
        more: page.next_after.is_some(),
        users: page.items,
        roles,
        form,
        errors,
        created,
        changeable,
        notice: None,
        import_csv: String::new(),
        import: None,
    })
}

pub async fn show_users(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    axum::extract::Query(query): axum::extract::Query<UsersQuery>,
) -> Result<Response, ApiError> {
    let form = NewUserForm { role: "employee".to_owned(), ..NewUserForm::default() };
    let mut page = users_page(&state, actor, form, Vec::new(), query.created).await?;
    page.notice = match (query.deactivated, query.reactivated, query.imported) {
        (Some(email), _, _) => Some(format!("Deactivated {email}.")),
        (None, Some(email), _) => Some(format!("Reactivated {email}.")),
        (None, None, Some(count)) => Some(format!("Imported {count} staff member(s).")),
        (None, None, None) => None,
    };
    Ok(page.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportForm {
    csv: String,
    /// `preview` or `import`.
    action: String,
}

/// "Import from CSV": Preview shows every row with its problems; Import creates all or nothing.
pub async fn import_users(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    PageForm(form): PageForm<ImportForm>,
) -> Result<Response, ApiError> {
    let status = if form.action == "import" {
        match state.app.import_staff(&actor, &form.csv).await {
            Ok(users) => return Ok(Redirect::to(&format!("/users?imported={}", users.len())).into_response()),
            Err(AppError::Validation(_) | AppError::Conflict(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            Err(other) => return Err(other.into()),
        }
    } else {
        StatusCode::OK
    };
    let preview = state.app.preview_staff_import(&actor, &form.csv).await?;
    let blank = NewUserForm { role: "employee".to_owned(), ..NewUserForm::default() };
    let mut page = users_page(&state, actor, blank, Vec::new(), None).await?;
    page.import = Some(preview);
    page.import_csv = form.csv;
    Ok((status, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

/// Deactivate or Reactivate on the staff list.
pub async fn set_user_active(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    axum::extract::Path(id): axum::extract::Path<String>,
    PageForm(form): PageForm<ActiveForm>,
) -> Result<Response, ApiError> {
    let id = id.parse::<UserId>().map_err(|_| ApiError::not_found("user"))?;
    let active = form.active == "true";
    let user = state.app.set_user_active(&actor, id, active).await?;
    let email = url::form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>();
    let done = if active { "reactivated" } else { "deactivated" };
    Ok(Redirect::to(&format!("/users?{done}={email}")).into_response())
}

pub async fn create_user(
    State(state): State<WebState>,
    PageActor(actor): PageActor,
    PageForm(form): PageForm<NewUserForm>,
) -> Result<Response, ApiError> {
    let input = CreateUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
        team_ids: Vec::new(),
    };
    match state.app.create_user(&actor, input).await {
        Ok(user) => {
            let target = format!(
                "/users?created={}",
                url::form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>()
            );
            Ok(Redirect::to(&target).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let form = NewUserForm { password: String::new(), ..form };
            let page = users_page(&state, actor, form, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
