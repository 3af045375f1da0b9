//! What the accounts service remembers: the OAuth app, PATs, codes, access and refresh tokens.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::strip_scheme;

/// Access tokens live 8 hours (`expires_in: 28800`).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 28_800;
/// Authorization codes are single-use and short-lived.
pub const CODE_TTL_SECS: i64 = 300;
/// Per client and account; the oldest token beyond the cap is revoked silently.
pub const TOKEN_CAP: usize = 25;
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
pub(super) struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: Option<(String, String)>,
    pub expires_at: i64,
}

#[derive(Debug)]
pub(super) struct AccessToken {
    pub token: String,
    pub refresh: String,
    pub client_id: String,
    pub expires_at: i64,
    revoked: bool,
}

#[derive(Debug)]
pub(super) struct RefreshToken {
    pub token: String,
    pub client_id: String,
    /// Issued without a client secret (a PKCE client), so it rotates by default.
    pub public: bool,
    pub revoked: bool,
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

/// A personal access token and the person (Account ID) it belongs to.
#[derive(Debug)]
struct Pat {
    account_id: String,
    token: String,
    revoked: bool,
}

#[derive(Debug)]
pub struct Accounts {
    /// The owner's Account ID; other people of the license get PATs through `issue_pat_for`.
    pub account_id: String,
    pub organization_id: Uuid,
    pub app: OAuthApp,
    pats: Vec<Pat>,
    pub(super) codes: HashMap<String, Code>,
    access: Vec<AccessToken>,
    pub(super) refresh: Vec<RefreshToken>,
    /// When the authorize page was last reached, for the three-per-30-seconds limit.
    authorize_visits: Vec<i64>,
    rng: StdRng,
}

impl Accounts {
    pub fn new(account_id: String, organization_id: Uuid, app: OAuthApp, mut rng: StdRng) -> Self {
        let token = format!("dal:{}", Alphanumeric.sample_string(&mut rng, 27));
        let owner = Pat { account_id: account_id.clone(), token, revoked: false };
        Self {
            account_id,
            organization_id,
            app,
            pats: vec![owner],
            codes: HashMap::new(),
            access: Vec::new(),
            refresh: Vec::new(),
            authorize_visits: Vec::new(),
            rng,
        }
    }

    /// The first PAT issued (it stays the same for a seed even once revoked).
    pub fn pat(&self) -> String {
        self.pats.first().map(|pat| pat.token.clone()).unwrap_or_default()
    }

    /// Another PAT of the owner.
    pub fn issue_pat(&mut self) -> String {
        let owner = self.account_id.clone();
        self.issue_pat_for(&owner)
    }

    /// A PAT of the person with `account_id`, who reaches the same license.
    pub fn issue_pat_for(&mut self, account_id: &str) -> String {
        let token = format!("fra:{}", Alphanumeric.sample_string(&mut self.rng, 27));
        self.pats.push(Pat { account_id: account_id.to_owned(), token: token.clone(), revoked: false });
        token
    }

    /// Revokes a PAT, an access token or a refresh token; false if none matched.
    pub fn revoke(&mut self, token: &str) -> bool {
        if let Some(pat) = self.pats.iter_mut().find(|pat| pat.token == token) {
            pat.revoked = true;
            return true;
        }
        self.revoke_oauth(token)
    }

    /// Revokes a live access token with its refresh token, or a live refresh token with its
    /// access tokens; false if no live token matched.
    pub(super) fn revoke_oauth(&mut self, token: &str) -> bool {
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
                decoded.as_deref().and_then(|text| text.split_once(':')).is_some_and(|(account, token)| {
                    self.pats
                        .iter()
                        .any(|pat| pat.account_id == account && pat.token == token && !pat.revoked)
                });
            return (AuthKind::Basic, valid);
        }
        if let Some(token) = strip_scheme(header, "Bearer") {
            return (AuthKind::Bearer, self.live_access(token.trim(), now).is_some());
        }
        (AuthKind::Other, false)
    }

    pub(super) fn live_access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.iter().find(|access| access.token == token && !access.revoked && access.expires_at > now)
    }

    /// Counts a visit to the authorize page; false once three came within 30 seconds.
    pub(super) fn note_authorize_visit(&mut self, now: i64) -> bool {
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

    pub(super) fn new_refresh(&mut self, client_id: &str, public: bool) -> String {
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

    pub(super) fn new_access(&mut self, client_id: &str, refresh: String, now: i64) -> TokenPair {
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

    pub(super) fn new_code(&mut self, code: Code) -> String {
        // Real codes carry a region prefix, so the `:` must survive URL encoding.
        let value = format!("dal:{}", Alphanumeric.sample_string(&mut self.rng, 24));
        self.codes.insert(value.clone(), code);
        value
    }
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
