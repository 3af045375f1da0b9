//! The sign-in page, signing out, and the home address.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use scoreline_app::SignedIn;
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{ClientAddress, PageForm, SESSION_COOKIE, session_cookie};
use crate::page::flash::Flash;
use crate::page::form::{FormErrors, answer};
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(show_sign_in).post(sign_in))
        .route("/sign-out", post(sign_out))
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    form: SignInForm,
    errors: FormErrors,
    /// The message of the form posted before (a password just set), shown once.
    flash: Flash,
}

/// The form as posted; the password is never sent back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInQuery {
    next: String,
}

/// Only paths on this site are followed after sign-in (one leading `/`, no `//`, no backslash,
/// no control characters), so the browser never leaves for another host and no header breaks.
fn safe_next(next: &str) -> &str {
    let on_this_site = next.starts_with('/')
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if on_this_site { next } else { "/" }
}

async fn show_sign_in(
    State(state): State<WebState>,
    headers: HeaderMap,
    Extension(flash): Extension<Flash>,
    Query(query): Query<SignInQuery>,
) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers)
        && state.app.session_actor(&session).await?.is_some()
    {
        return Ok(Redirect::to(safe_next(&query.next)).into_response());
    }
    let form = SignInForm { next: query.next, ..SignInForm::default() };
    Ok(SignInPage { form, errors: FormErrors::none(), flash }.into_response())
}

async fn sign_in(
    State(state): State<WebState>,
    ClientAddress(client): ClientAddress,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, ApiError> {
    let result = state.app.sign_in(&form.email, &form.password, &client).await;
    let signed_in = |signed_in: SignedIn| {
        let mut response = Redirect::to(safe_next(&form.next)).into_response();
        response.headers_mut().insert(header::SET_COOKIE, session_cookie_header(&state, &signed_in));
        response
    };
    let again = async |errors| {
        let form = SignInForm { email: form.email.clone(), password: String::new(), next: form.next.clone() };
        Ok(SignInPage { form, errors, flash: Flash::default() })
    };
    answer("sign-in", result, signed_in, again).await
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

async fn sign_out(State(state): State<WebState>, headers: HeaderMap) -> Result<Response, ApiError> {
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

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    /// Open assignments, for those who evaluate.
    open_work: Option<u64>,
    cases: u64,
    /// Whether this person connects HelpDesk themselves, for the way on when there is no case.
    connects: bool,
    /// For global admins: each integration's sync health and held-back cases.
    integrations: Vec<scoreline_app::IntegrationOverview>,
    /// For those who manage lists: their active lists that run on a schedule, and all of them.
    lists: Option<(usize, usize)>,
    /// For everyone but employees: open disputes in scope.
    open_disputes: Option<u64>,
    /// For employees: their own latest results.
    own: Option<scoreline_app::AgentResults>,
}

/// What matters to each role: admins the sync health, held-back cases, lists and open
/// disputes; evaluators their work; agents their latest results.
async fn home(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    use scoreline_core::Permission;
    let actor = &page.actor;
    let open_work = if actor.can(Permission::Evaluate) {
        Some(state.app.count_my_open_assignments(actor).await?)
    } else {
        None
    };
    let cases = state.app.count_cases(actor, &scoreline_core::CaseFilter::default()).await?.total;
    let connects = actor.can(Permission::ManageIntegrations);
    let everything = scoreline_core::PageRequest::first(scoreline_core::PageRequest::MAX_LIMIT);
    let integrations = if connects {
        state.app.list_integration_overviews(actor, everything).await?.items
    } else {
        Vec::new()
    };
    let lists = if actor.can(Permission::ManageLists) {
        let lists = state.app.list_lists(actor, false, everything).await?.items;
        Some((lists.iter().filter(|l| l.definition.schedule.is_some()).count(), lists.len()))
    } else {
        None
    };
    let open_disputes = if actor.can(Permission::Evaluate) {
        Some(state.app.count_open_disputes(actor).await?)
    } else {
        None
    };
    let own = match actor.user() {
        Some(user) if !actor.can(Permission::Evaluate) => {
            let from = page.layout().now().saturating_sub(std::time::Duration::from_secs(90 * 86_400));
            let input = scoreline_app::ResultsInput { from: Some(from.to_rfc3339()), ..Default::default() };
            let request = input.parse()?;
            Some(state.app.agent_results(actor, user.id, &request).await?)
        }
        _ => None,
    };
    let view = HomePage {
        layout: page.layout(),
        open_work,
        cases,
        connects,
        integrations,
        lists,
        open_disputes,
        own,
    };
    Ok(view.into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for kept in ["/", "/users", "/interactions/integrations/abc?tab=1", "/a/b#c"] {
            assert_eq!(safe_next(kept), kept);
        }
        for refused in [
            "",
            "users",
            "//evil.example/x",
            "/\\evil.example",
            "/\t\\127.0.0.1:18099/x",
            "/a//b",
            "/\n",
            "/\r\nSet-Cookie: x=1",
            "/\0",
            "https://evil.example/",
        ] {
            assert_eq!(safe_next(refused), "/", "{refused:?}");
        }
    }
}
