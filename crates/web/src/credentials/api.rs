//! `/api/v1/me/tokens`, `/api/v1/me/password`, and for admins `/api/v1/users/{id}/tokens` and
//! `/api/v1/users/{id}/password-reset`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use scoreline_app::{PasswordChange, TokenRequest};
use scoreline_core::{ApiToken, ApiTokenId, SessionId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{
    ApiActor, ApiJson, ApiQuery, ClientAddress, IdPath, IdPath2, PageQuery, session_cookie,
};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_tokens, create_my_token))
        .routes(routes!(revoke_my_token))
        .routes(routes!(change_my_password))
        .routes(routes!(list_user_tokens))
        .routes(routes!(revoke_user_token))
        .routes(routes!(create_password_reset))
}

/// An API token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[schema(value_type = String, format = Uuid)]
    pub id: ApiTokenId,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was last used, to the minute; `null` if never.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    /// `null` for a token that does not expire.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Past its expiry: it is refused, and stays listed until revoked.
    pub expired: bool,
}

impl TokenView {
    fn new(token: ApiToken, now: Timestamp) -> Self {
        Self {
            id: token.id,
            expired: token.is_expired(now),
            name: token.name,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
        }
    }
}

/// A token just created: the only answer that holds its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// Send as `Authorization: Bearer <token>`. Shown only now; only a digest is kept.
    pub token: String,
    #[serde(flatten)]
    pub details: TokenView,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewTokenBody {
    /// 1 to 100 characters, to recognise the token by.
    #[schema(example = "reporting script")]
    pub name: String,
    /// 1 to 3650; leave out for a token that does not expire.
    #[schema(example = 90)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    /// At least 10 characters, as for a new account.
    pub new_password: String,
}

/// A one-time reset link, for the admin to pass on.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetView {
    /// Opens a page that sets a new password, once. Shown only now; only a digest is kept.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

fn me(actor: &scoreline_app::Actor) -> Result<UserId, ApiError> {
    actor.user().map(|user| user.id).ok_or_else(ApiError::unauthenticated)
}

/// The caller's API tokens that are not revoked, oldest first.
#[utoipa::path(get, path = "/me/tokens", tag = "session", params(PageQuery),
    responses((status = 200, body = ItemList<TokenView>), (status = 401, description = "Not signed in"), (status = 422, description = "Bad cursor or limit")))]
async fn list_my_tokens(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<TokenView>>, ApiError> {
    let page = state.app.list_api_tokens(&actor, me(&actor)?, query.to_request()?).await?;
    let now = state.app.clock().now();
    Ok(Json(ItemList::from_page(page, |token| TokenView::new(token, now))))
}

/// Creates an API token for the caller; the answer is the only time its secret is shown.
#[utoipa::path(post, path = "/me/tokens", tag = "session", request_body = NewTokenBody,
    responses((status = 201, body = IssuedTokenView), (status = 401, description = "Not signed in"), (status = 422, description = "Invalid name or expiry")))]
async fn create_my_token(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<IssuedTokenView>), ApiError> {
    let email = actor.user().map(|user| user.email.clone()).ok_or_else(ApiError::unauthenticated)?;
    let request = TokenRequest { name: body.name, expires_in_days: body.expires_in_days };
    let issued = state.app.issue_api_token(&actor, &email, request).await?;
    let details = TokenView::new(issued.listed, state.app.clock().now());
    Ok((StatusCode::CREATED, Json(IssuedTokenView { token: issued.token.expose().to_owned(), details })))
}

/// Revokes one of the caller's tokens for good.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "session", params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 401, description = "Not signed in"), (status = 404, description = "No such live token of yours")))]
async fn revoke_my_token(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    IdPath(id): IdPath<ApiTokenId>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_api_token(&actor, me(&actor)?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password. The current one is checked under the sign-in throttle;
/// every other session of theirs ends (the browser session making the call stays).
#[utoipa::path(post, path = "/me/password", tag = "session", request_body = ChangePasswordBody,
    responses((status = 204, description = "Changed"), (status = 401, description = "Not signed in"),
        (status = 422, description = "Wrong current password or an invalid new one"),
        (status = 429, description = "Too many failed attempts, or too many password checks at once")))]
async fn change_my_password(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<StatusCode, ApiError> {
    let me = me(&actor)?;
    let keep = calling_session(&state, &headers, me).await?;
    let change = PasswordChange { current_password: body.current_password, new_password: body.new_password };
    state.app.change_password(&actor, keep, &client, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The browser session behind the request, when it is `user`'s: the one a password change keeps.
pub(crate) async fn calling_session(
    state: &WebState,
    headers: &HeaderMap,
    user: UserId,
) -> Result<Option<SessionId>, ApiError> {
    let Some(cookie) = session_cookie(headers) else { return Ok(None) };
    Ok(state
        .app
        .session(&cookie)
        .await?
        .filter(|(_, actor)| actor.user().is_some_and(|u| u.id == user))
        .map(|(id, _)| id))
}

/// Someone's API tokens that are not revoked: admins, for the people they manage.
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "staff", params(("id" = String, Path, format = Uuid), PageQuery),
    responses((status = 200, body = ItemList<TokenView>), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not someone the caller manages"), (status = 404, description = "No such user in the caller's scope")))]
async fn list_user_tokens(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    IdPath(id): IdPath<UserId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ItemList<TokenView>>, ApiError> {
    let page = state.app.list_api_tokens(&actor, id, query.to_request()?).await?;
    let now = state.app.clock().now();
    Ok(Json(ItemList::from_page(page, |token| TokenView::new(token, now))))
}

/// Revokes someone's token for good: admins, for the people they manage.
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "staff",
    params(("id" = String, Path, format = Uuid), ("token_id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not someone the caller manages"), (status = 404, description = "No such user or live token")))]
async fn revoke_user_token(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    IdPath2(id, token_id): IdPath2<UserId, ApiTokenId>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_api_token(&actor, id, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time link that lets the person set a new password (it expires, works once and replaces
/// any earlier link): admins, for the people they manage.
#[utoipa::path(post, path = "/users/{id}/password-reset", tag = "staff", params(("id" = String, Path, format = Uuid)),
    responses((status = 201, body = PasswordResetView), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not someone the caller manages"), (status = 404, description = "No such user in the caller's scope"),
        (status = 422, description = "Oneself, or a deactivated person")))]
async fn create_password_reset(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    IdPath(id): IdPath<UserId>,
) -> Result<(StatusCode, Json<PasswordResetView>), ApiError> {
    let link = state.app.create_password_reset(&actor, id).await?;
    let url = format!("{}{}", state.config.public_url, super::ui::reset_path(&link.token));
    Ok((StatusCode::CREATED, Json(PasswordResetView { url, expires_at: link.expires_at })))
}
