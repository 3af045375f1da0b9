//! The pages a person sees: the authorize (consent) page, its decision, and `/ooops`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::state::{CODE_TTL_SECS, Code, redirect_allowed};
use super::{SCOPE, query_map};
use crate::server::Sim;

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

pub(super) async fn authorize_page(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
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

pub(super) async fn authorize_decision(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
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

pub(super) async fn oops_page(RawQuery(query): RawQuery) -> Response {
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

/// `text` safe inside HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
