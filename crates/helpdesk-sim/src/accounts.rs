//! The accounts service (accounts.livechat.com): the authorize page, `/v2/token`, `/v2/info`,
//! token revocation, and the credentials `/v1` accepts.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::knobs::Rotation;
use crate::server::Sim;

/// Access tokens live 8 hours (`expires_in: 28800`).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 28_800;
/// Authorization codes are single-use and short-lived.
pub const CODE_TTL_SECS: i64 = 300;
/// Per client and account; the oldest token beyond the cap is revoked silently.
pub const TOKEN_CAP: usize = 25;
const SCOPE: &str = "accounts--my:ro";
/// At most three redirects to the authorize page per 30 seconds per client and user.
const REDIRECTS_PER_WINDOW: usize = 3;
const REDIRECT_WINDOW_MS: i64 = 30_000;

/// The OAuth app the simulator knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    /// Allowed redirect URIs: scheme and host exact, path by prefix; a `:*` port matches any.
    pub redirect_uris: Vec<String>,
    /// Skip the consent page and grant at once (for tests that do not drive a browser).
    pub auto_approve: bool,
}

/// An access token with its refresh token, as the token endpoint returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

#[derive(Debug)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<(String, String)>,
    expires_at: i64,
}

#[derive(Debug)]
struct AccessToken {
    token: String,
    refresh: String,
    client_id: String,
    expires_at: i64,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshToken {
    token: String,
    client_id: String,
    /// Issued without a client secret (a PKCE client), so it rotates by default.
    public: bool,
    revoked: bool,
}

/// Who a `/v1` request authenticated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    None,
    Basic,
    Bearer,
    Other,
}

#[derive(Debug)]
pub struct Accounts {
    pub account_id: String,
    pub organization_id: Uuid,
    pub app: OAuthApp,
    pats: Vec<(String, bool)>,
    codes: HashMap<String, Code>,
    access: Vec<AccessToken>,
    refresh: Vec<RefreshToken>,
    /// When the authorize page was last reached, for the three-per-30-seconds limit.
    authorize_visits: Vec<i64>,
    rng: StdRng,
}

impl Accounts {
    pub fn new(account_id: String, organization_id: Uuid, app: OAuthApp, mut rng: StdRng) -> Self {
        let pat = format!("dal:{}", Alphanumeric.sample_string(&mut rng, 27));
        Self {
            account_id,
            organization_id,
            app,
            pats: vec![(pat, false)],
            codes: HashMap::new(),
            access: Vec::new(),
            refresh: Vec::new(),
            authorize_visits: Vec::new(),
            rng,
        }
    }

    /// The first PAT issued (it stays the same for a seed even once revoked).
    pub fn pat(&self) -> String {
        self.pats.first().map(|(pat, _)| pat.clone()).unwrap_or_default()
    }

    pub fn issue_pat(&mut self) -> String {
        let pat = format!("fra:{}", Alphanumeric.sample_string(&mut self.rng, 27));
        self.pats.push((pat.clone(), false));
        pat
    }

    /// Revokes a PAT, an access token or a refresh token; false if none matched.
    pub fn revoke(&mut self, token: &str) -> bool {
        if let Some((_, revoked)) = self.pats.iter_mut().find(|(pat, _)| pat == token) {
            *revoked = true;
            return true;
        }
        self.revoke_oauth(token)
    }

    /// Revokes a live access token with its refresh token, or a live refresh token with its
    /// access tokens; false if no live token matched.
    fn revoke_oauth(&mut self, token: &str) -> bool {
        let live_access = self.access.iter_mut().find(|a| a.token == token && !a.revoked);
        let refresh = if let Some(access) = live_access {
            access.revoked = true;
            access.refresh.clone()
        } else {
            token.to_owned()
        };
        let live_refresh = self.refresh.iter_mut().find(|r| r.token == refresh && !r.revoked);
        let Some(found) = live_refresh else {
            return refresh != token;
        };
        found.revoked = true;
        for access in self.access.iter_mut().filter(|a| a.refresh == refresh) {
            access.revoked = true;
        }
        true
    }

    /// Checks an `Authorization` header value against PATs and access tokens.
    pub fn authenticate(&self, header: Option<&str>, now: i64) -> (AuthKind, bool) {
        let Some(header) = header else {
            return (AuthKind::None, false);
        };
        if let Some(encoded) = strip_scheme(header, "Basic") {
            let decoded =
                STANDARD.decode(encoded.trim()).ok().and_then(|bytes| String::from_utf8(bytes).ok());
            // PATs contain a colon (`dal:…`), so only the first colon separates the user.
            let valid =
                decoded.as_deref().and_then(|text| text.split_once(':')).is_some_and(|(account, pat)| {
                    account == self.account_id
                        && self.pats.iter().any(|(known, revoked)| known == pat && !revoked)
                });
            return (AuthKind::Basic, valid);
        }
        if let Some(token) = strip_scheme(header, "Bearer") {
            return (AuthKind::Bearer, self.live_access(token.trim(), now).is_some());
        }
        (AuthKind::Other, false)
    }

    fn live_access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.iter().find(|access| access.token == token && !access.revoked && access.expires_at > now)
    }

    /// Counts a visit to the authorize page; false once three came within 30 seconds.
    fn note_authorize_visit(&mut self, now: i64) -> bool {
        self.authorize_visits.retain(|at| now - at < REDIRECT_WINDOW_MS);
        if self.authorize_visits.len() >= REDIRECTS_PER_WINDOW {
            return false;
        }
        self.authorize_visits.push(now);
        true
    }

    /// Issues a token pair directly, as a finished OAuth flow would.
    pub fn issue_tokens(&mut self, now: i64) -> TokenPair {
        let client_id = self.app.client_id.clone();
        let refresh = self.new_refresh(&client_id, false);
        self.new_access(&client_id, refresh, now)
    }

    fn new_refresh(&mut self, client_id: &str, public: bool) -> String {
        let token = Alphanumeric.sample_string(&mut self.rng, 32);
        self.refresh.push(RefreshToken {
            token: token.clone(),
            client_id: client_id.to_owned(),
            public,
            revoked: false,
        });
        let mut live: Vec<&mut RefreshToken> =
            self.refresh.iter_mut().filter(|r| !r.revoked && r.client_id == client_id).collect();
        if live.len() > TOKEN_CAP {
            live[0].revoked = true;
        }
        token
    }

    fn new_access(&mut self, client_id: &str, refresh: String, now: i64) -> TokenPair {
        let token = format!("dal:{}", Alphanumeric.sample_string(&mut self.rng, 32));
        self.access.push(AccessToken {
            token: token.clone(),
            refresh: refresh.clone(),
            client_id: client_id.to_owned(),
            expires_at: now + ACCESS_TOKEN_TTL_SECS * 1000,
            revoked: false,
        });
        let mut live: Vec<&mut AccessToken> = self
            .access
            .iter_mut()
            .filter(|a| !a.revoked && a.expires_at > now && a.client_id == client_id)
            .collect();
        if live.len() > TOKEN_CAP {
            live[0].revoked = true;
        }
        TokenPair { access_token: token, refresh_token: refresh, expires_in: ACCESS_TOKEN_TTL_SECS }
    }

    fn new_code(&mut self, code: Code) -> String {
        // Real codes carry a region prefix, so the `:` must survive URL encoding.
        let value = format!("dal:{}", Alphanumeric.sample_string(&mut self.rng, 24));
        self.codes.insert(value.clone(), code);
        value
    }

    fn token_body(&self, pair: &TokenPair) -> Value {
        json!({
            "access_token": pair.access_token,
            "account_id": self.account_id,
            "expires_in": pair.expires_in,
            "organization_id": self.organization_id,
            "refresh_token": pair.refresh_token,
            "scope": SCOPE,
            "token_type": "Bearer",
        })
    }
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/", get(authorize_page).post(authorize_decision))
        .route("/ooops", get(oops_page))
        .route("/v2/token", axum::routing::post(token).delete(revoke))
        .route("/v2/info", get(info))
        .route("/token", axum::routing::post(token).delete(revoke))
        .route("/info", get(info))
}

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

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
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

/// Checks a redirect URI against the allowed patterns: scheme and host exact, port exact
/// unless the pattern says `:*`, path by prefix; no fragment, no query, no `..`.
pub fn redirect_allowed(patterns: &[String], candidate: &str) -> bool {
    let Ok(uri) = url::Url::parse(candidate) else {
        return false;
    };
    if candidate.contains("..") || uri.fragment().is_some() || uri.query().is_some() {
        return false;
    }
    patterns.iter().any(|pattern| {
        let any_port = pattern.contains(":*");
        let Ok(allowed) = url::Url::parse(&pattern.replacen(":*", "", 1)) else {
            return false;
        };
        allowed.scheme() == uri.scheme()
            && allowed.host_str() == uri.host_str()
            && (any_port || allowed.port_or_known_default() == uri.port_or_known_default())
            && uri.path().starts_with(allowed.path())
    })
}

struct AuthorizeRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<(String, String)>,
}

/// Validates authorize parameters; errors go to the `/ooops` page, as the real service does.
fn oops(sim: &Sim, code: &str, details: &str) -> Redirect {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("oauth_exception", code)
        .append_pair("exception_details", details)
        .finish();
    Redirect::to(&format!("{}/ooops?{query}", sim.accounts_url))
}

fn check_authorize(sim: &Sim, params: &HashMap<String, String>) -> Result<AuthorizeRequest, Redirect> {
    let oops = |code: &str, details: &str| oops(sim, code, details);
    let get = |key: &str| params.get(key).cloned().unwrap_or_default();
    let accounts = sim.accounts();
    let response_type = get("response_type");
    if response_type != "code" && response_type != "token" {
        return Err(oops("unsupported_response_type", "response_type must be code or token"));
    }
    if get("client_id") != accounts.app.client_id {
        return Err(oops("invalid_client", "unknown client_id"));
    }
    let redirect_uri = get("redirect_uri");
    if !redirect_allowed(&accounts.app.redirect_uris, &redirect_uri) {
        return Err(oops("invalid_request", "redirect_uri is not allowed for this client"));
    }
    let challenge = match params.get("code_challenge") {
        Some(challenge) if !(43..=128).contains(&challenge.len()) => {
            return Err(oops("invalid_request", "code_challenge must be 43-128 characters"));
        }
        Some(challenge) => {
            let method = params
                .get("code_challenge_method")
                .map_or("plain".to_owned(), |method| method.to_ascii_lowercase());
            if method != "plain" && method != "s256" {
                return Err(oops("invalid_request", "code_challenge_method must be S256 or plain"));
            }
            Some((challenge.clone(), method))
        }
        None => None,
    };
    Ok(AuthorizeRequest {
        response_type,
        client_id: get("client_id"),
        redirect_uri,
        state: params.get("state").cloned(),
        challenge,
    })
}

async fn authorize_page(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let params = query_map(query.as_deref());
    let request = match check_authorize(&sim, &params) {
        Ok(request) => request,
        Err(redirect) => return redirect.into_response(),
    };
    let limited = sim.options().authorize_redirect_limit;
    if limited && !sim.accounts().note_authorize_visit(sim.now()) {
        return oops(&sim, "too_many_redirects", "at most 3 redirects per 30 seconds").into_response();
    }
    if sim.accounts().app.auto_approve {
        return grant(&sim, request);
    }
    let hidden: String = params
        .iter()
        .map(|(key, value)| {
            format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(key), escape(value))
        })
        .collect();
    let owner_email = {
        let store = sim.store();
        store.agents[store.owner_agent() as usize].email.clone()
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize access</title></head>\
         <body><h1>Authorize access</h1>\
         <p>The application <code>{client}</code> asks for access to your HelpDesk account \
         <strong>{email}</strong>.</p>\
         <form method=\"post\" action=\"/\">{hidden}<input type=\"hidden\" name=\"decision\" value=\"allow\">\
         <button type=\"submit\" id=\"allow\">Allow</button></form>\
         <form method=\"post\" action=\"/\">{hidden}<input type=\"hidden\" name=\"decision\" value=\"deny\">\
         <button type=\"submit\" id=\"deny\">Deny</button></form></body></html>",
        client = escape(&request.client_id),
        email = escape(&owner_email),
    ))
    .into_response()
}

async fn authorize_decision(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let params: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let request = match check_authorize(&sim, &params) {
        Ok(request) => request,
        Err(redirect) => return redirect.into_response(),
    };
    if params.get("decision").map(String::as_str) == Some("allow") {
        return grant(&sim, request);
    }
    let mut target = url::Url::parse(&request.redirect_uri).ok();
    if let Some(target) = target.as_mut() {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("error", "access_denied");
        if let Some(state) = &request.state {
            pairs.append_pair("state", state);
        }
    }
    Redirect::to(target.map_or(request.redirect_uri, String::from).as_str()).into_response()
}

/// Redirects back with a code (`?code=…&state=…`) or, for the implicit flow, a token fragment.
fn grant(sim: &Sim, request: AuthorizeRequest) -> Response {
    let now = sim.now();
    let mut accounts = sim.accounts();
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    let separator = if request.response_type == "token" {
        let pair = accounts.issue_tokens(now);
        pairs
            .append_pair("access_token", &pair.access_token)
            .append_pair("token_type", "Bearer")
            .append_pair("expires_in", &pair.expires_in.to_string())
            .append_pair("scope", SCOPE);
        '#'
    } else {
        let code = accounts.new_code(Code {
            client_id: request.client_id,
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.challenge,
            expires_at: now + CODE_TTL_SECS * 1000,
        });
        pairs.append_pair("code", &code);
        '?'
    };
    if let Some(state) = &request.state {
        pairs.append_pair("state", state);
    }
    Redirect::to(&format!("{}{separator}{}", request.redirect_uri, pairs.finish())).into_response()
}

async fn oops_page(RawQuery(query): RawQuery) -> Response {
    let params = query_map(query.as_deref());
    let code = params.get("oauth_exception").cloned().unwrap_or_default();
    let details = params.get("exception_details").cloned().unwrap_or_default();
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><body><h1>Ooops!</h1><p id=\"oauth_exception\">{}</p><p>{}</p></body></html>",
            escape(&code),
            escape(&details)
        )),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
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

async fn token(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = body_map(&headers, &body);
    match exchange(&sim, &headers, &params) {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    }
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
    Ok(accounts.token_body(&pair))
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
    Ok(accounts.token_body(&pair))
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

async fn info(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
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

async fn revoke(State(sim): State<Arc<Sim>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
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
