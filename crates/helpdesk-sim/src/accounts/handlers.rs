//! The accounts JSON endpoints: `/v2/token` (grant and revoke) and `/v2/info`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::state::{Accounts, TokenPair};
use super::{SCOPE, query_map, strip_scheme};
use crate::knobs::Rotation;
use crate::server::Sim;

/// An accounts API error: `{error, error_description, sub_error, request_id}`.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    extra: Value,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into(), extra: json!({}) }
    }

    fn invalid_grant(description: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_grant", description)
    }

    fn invalid_client() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed")
    }

    fn missing(field: &'static str) -> Self {
        Self {
            extra: json!({ "invalid_fields": { field: "required" } }),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", format!("{field} is required"))
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "error": self.error,
            "error_description": self.description,
            "sub_error": null,
            "request_id": Uuid::now_v7(),
        });
        if let (Value::Object(fields), Value::Object(extra)) = (&mut body, self.extra) {
            fields.extend(extra);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// Token requests come as a form (the docs) or as JSON (the accounts OpenAPI).
fn body_map(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        return url::form_urlencoded::parse(body).into_owned().collect();
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return HashMap::new();
    };
    fields
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::String(text) => Some((key, text)),
            Value::Null => None,
            other => Some((key, other.to_string())),
        })
        .collect()
}

/// Client credentials from the body, or from HTTP Basic.
fn client_credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| strip_scheme(value, "Basic"))
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())));
    let (basic_id, basic_secret) = basic.unzip();
    (params.get("client_id").cloned().or(basic_id), params.get("client_secret").cloned().or(basic_secret))
}

pub(super) async fn token(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = body_map(&headers, &body);
    match exchange(&sim, &headers, &params) {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn token_body(accounts: &Accounts, pair: &TokenPair) -> Value {
    json!({
        "access_token": pair.access_token,
        "account_id": accounts.account_id,
        "expires_in": pair.expires_in,
        "organization_id": accounts.organization_id,
        "refresh_token": pair.refresh_token,
        "scope": SCOPE,
        "token_type": "Bearer",
    })
}

fn exchange(sim: &Sim, headers: &HeaderMap, params: &HashMap<String, String>) -> Result<Value, OAuthError> {
    let grant_type = params.get("grant_type").ok_or(OAuthError::missing("grant_type"))?;
    let accept_code = sim.options().accept_code_grant_type;
    let (client_id, client_secret) = client_credentials(headers, params);
    let client_id = client_id.ok_or(OAuthError::missing("client_id"))?;
    let now = sim.now();
    let mut accounts = sim.accounts();
    if client_id != accounts.app.client_id {
        return Err(OAuthError::invalid_client());
    }
    let secret_ok = match &client_secret {
        Some(secret) if *secret != accounts.app.client_secret => {
            return Err(OAuthError::invalid_client());
        }
        Some(_) => true,
        None => false,
    };
    match grant_type.as_str() {
        "authorization_code" => {}
        "code" if accept_code => {}
        "refresh_token" => {
            let refresh = params.get("refresh_token").ok_or(OAuthError::missing("refresh_token"))?;
            return refresh_grant(&mut accounts, sim, refresh, &client_id, secret_ok, now);
        }
        _ => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {grant_type:?} is not supported"),
            ));
        }
    }
    let code_value = params.get("code").ok_or(OAuthError::missing("code"))?;
    let redirect_uri = params.get("redirect_uri").ok_or(OAuthError::missing("redirect_uri"))?;
    // Single use: the code is gone whatever happens next.
    let code = accounts.codes.remove(code_value).ok_or_else(|| {
        OAuthError::invalid_grant("The client is not authorized to request a token using this method")
    })?;
    if code.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "The client is not authorized to request a token using this method",
        ));
    }
    if code.client_id != client_id {
        return Err(OAuthError::invalid_client());
    }
    if code.redirect_uri != *redirect_uri {
        return Err(OAuthError::invalid_grant("redirect_uri does not match"));
    }
    match &code.challenge {
        Some((challenge, method)) => {
            let verifier =
                params.get("code_verifier").ok_or(OAuthError::invalid_grant("code_verifier is required"))?;
            let computed = if method == "s256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.clone()
            };
            if computed != *challenge {
                return Err(OAuthError::invalid_grant("code_verifier does not match"));
            }
        }
        None if !secret_ok => return Err(OAuthError::invalid_client()),
        None => {}
    }
    let refresh = accounts.new_refresh(&client_id, !secret_ok);
    let pair = accounts.new_access(&client_id, refresh, now);
    Ok(token_body(&accounts, &pair))
}

fn refresh_grant(
    accounts: &mut Accounts,
    sim: &Sim,
    token: &str,
    client_id: &str,
    secret_ok: bool,
    now: i64,
) -> Result<Value, OAuthError> {
    let expired = || OAuthError::invalid_grant("refresh token is invalid, expired or revoked");
    let position = accounts
        .refresh
        .iter()
        .position(|refresh| refresh.token == token && !refresh.revoked)
        .ok_or_else(expired)?;
    let refresh = &accounts.refresh[position];
    if refresh.client_id != client_id {
        return Err(OAuthError::invalid_client());
    }
    if !refresh.public && !secret_ok {
        return Err(OAuthError::invalid_client());
    }
    let public = refresh.public;
    let rotate = match sim.options().refresh_rotation {
        Rotation::Never => false,
        Rotation::PublicClients => public,
        Rotation::Always => true,
    };
    let refresh = if rotate {
        accounts.refresh[position].revoked = true;
        accounts.new_refresh(client_id, public)
    } else {
        token.to_owned()
    };
    let pair = accounts.new_access(client_id, refresh, now);
    Ok(token_body(accounts, &pair))
}

/// The token from `Authorization: Bearer …` or `?code=…`.
fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| strip_scheme(value, "Bearer"))
        .map(|token| token.trim().to_owned())
        .or_else(|| query_map(query).remove("code"))
}

pub(super) async fn info(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let now = sim.now();
    let accounts = sim.accounts();
    let access =
        presented_token(&headers, query.as_deref()).and_then(|token| accounts.live_access(&token, now));
    let Some(access) = access else {
        return OAuthError::new(StatusCode::UNAUTHORIZED, "unauthorized", "invalid or expired token")
            .into_response();
    };
    axum::Json(json!({
        "access_token": access.token,
        "account_id": accounts.account_id,
        "client_id": access.client_id,
        "expires_in": (access.expires_at - now) / 1000,
        "organization_id": accounts.organization_id,
        "scope": SCOPE,
        "token_type": "Bearer",
        "refresh_token": access.refresh,
    }))
    .into_response()
}

pub(super) async fn revoke(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(token) = presented_token(&headers, query.as_deref()) else {
        return OAuthError::missing("code").into_response();
    };
    if sim.accounts().revoke_oauth(&token) {
        axum::Json(json!({})).into_response()
    } else {
        OAuthError {
            extra: json!({ "resource_name": "token", "resource_id": token }),
            ..OAuthError::new(StatusCode::NOT_FOUND, "resource_not_found", "token not found")
        }
        .into_response()
    }
}
