//! Extractors: JSON, query, form and path input that fails in our error shape, paging, and the
//! actor of an API call.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, RawForm, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scoreline_app::{Actor, SecretToken};
use scoreline_core::{
    ApiTokenId, AssignmentId, CalibrationId, CaseId, DisputeId, EvaluationId, GroupId, IntegrationId, ListId,
    PageRequest, RunId, ScorecardId, TeamId, UserId,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::WebState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "scoreline_session";

/// `axum::Json` whose rejections use our error shape and name the offending field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| body_error(e.status(), &e.body_text(), &e))?;
        // Every body is an object: serde would also read a struct from an array (`[]`).
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<serde_json::Value>(&body).is_ok() {
            return Err(ApiError::invalid_field("body", "The body must be a JSON object."));
        }
        let value = match axum::Json::<T>::from_bytes(&body) {
            Ok(axum::Json(value)) => value,
            Err(JsonRejection::JsonDataError(e)) => return Err(serde_field_error(&e.body_text())),
            Err(other) => {
                return Err(ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("The body is not valid JSON: {}", other.body_text()),
                ));
            }
        };
        // Parsed once more as a tree, only to name the field holding a control character.
        if may_hold_control_character(&body)
            && let Ok(tree) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Some(field) = control_character_in(&tree, String::new())
        {
            return Err(control_character_error(&field));
        }
        Ok(Self(value))
    }
}

/// The largest body any route reads (JSON, forms, CSV text).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Refuses a body whose declared length is over the limit before reading any of it, so the
/// client hears 413 at once rather than after sending megabytes.
pub async fn refuse_oversized(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return axum::response::IntoResponse::into_response(too_large());
    }
    next.run(request).await
}

fn too_large() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("The body is over {} MiB.", MAX_BODY_BYTES / (1024 * 1024)),
    )
}

/// `application/json`, or a `+json` type, whatever its parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_error(
    status: axum::http::StatusCode,
    text: &str,
    error: &(dyn std::error::Error + 'static),
) -> ApiError {
    if timed_out(error) {
        return ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The body took too long to arrive.",
        );
    }
    let code = match status {
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
        _ => "bad_request",
    };
    ApiError::new(status, code, text.to_owned())
}

/// Whether reading the body failed because it took longer than the body's time limit.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Text may hold tabs and line breaks, never NUL or other control characters: PostgreSQL
/// refuses NUL in text, and no field means any of them.
fn has_control_character(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// A cheap scan of a JSON body: valid JSON can hold a control character only as an escape
/// (`\u0000`…, `\b`, `\f`), as a raw DEL, or, for U+0080–U+009F, as the UTF-8 bytes
/// `C2 80`–`C2 9F`. False alarms only cost the parse that names the field.
fn may_hold_control_character(body: &[u8]) -> bool {
    body.contains(&0x7F)
        || body.windows(2).any(|pair| match pair {
            [b'\\', b'u' | b'b' | b'f'] => true,
            [0xC2, second] => (0x80..=0x9F).contains(second),
            _ => false,
        })
}

/// The path (`answers[0].comment`) of the first key or string holding a control character.
fn control_character_in(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) => has_control_character(text).then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| control_character_in(item, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if has_control_character(key) { Some(at) } else { control_character_in(item, at) }
        }),
        _ => None,
    }
}

/// The first name or value of url-encoded pairs that holds a control character, by its name.
fn control_character_in_pairs(encoded: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(encoded)
        .find(|(name, value)| has_control_character(name) || has_control_character(value))
        .map(|(name, _)| name.chars().filter(|c| !c.is_control()).collect())
}

fn control_character_error(field: &str) -> ApiError {
    let field = if field.is_empty() { "body" } else { field };
    ApiError::invalid_field(
        field,
        format!(
            "{field}: remove the control characters (such as NUL); text may hold only tabs and line breaks."
        ),
    )
}

/// `axum::Query` with the same treatment.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(field) = control_character_in_pairs(parts.uri.query().unwrap_or("").as_bytes()) {
            return Err(control_character_error(&field));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| serde_field_error(&e.body_text()))
    }
}

/// A query string read like a [`PageForm`]: a repeated name (`status=open&status=solved`)
/// fills a `Vec`; every value is text, for the handler to check field by field.
pub struct QueryFields<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryFields<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("").as_bytes();
        if let Some(field) = control_character_in_pairs(query) {
            return Err(control_character_error(&field));
        }
        T::deserialize(form::Fields::parse(query)).map(Self).map_err(|e| serde_field_error(&e.to_string()))
    }
}

/// Turns axum's "Failed to deserialize …: <path>: <problem>" and serde's "missing field `x`"
/// into an error on the named field.
fn serde_field_error(text: &str) -> ApiError {
    let is_path =
        |path: &str| !path.is_empty() && path.chars().all(|c| c.is_alphanumeric() || "_.[]".contains(c));
    let detail = match text.split_once(": ") {
        Some((prefix, rest)) if !is_path(prefix) => rest,
        _ => text,
    };
    if let Some((path, problem)) = detail.split_once(": ").filter(|(path, _)| is_path(path)) {
        return ApiError::invalid_field(path, format!("{path}: {problem}"));
    }
    let field = detail.split('`').nth(1).filter(|f| is_path(f)).unwrap_or("body");
    ApiError::invalid_field(field, detail.to_owned())
}

/// An HTML form post. Unlike `axum::Form` it reads a repeated field (several ticked
/// `agent_ids`) into a `Vec`; a single value can be read as a `String` or an `Option`.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawForm(body) = RawForm::from_request(request, state)
            .await
            .map_err(|e| body_error(e.status(), &e.body_text(), &e))?;
        if let Some(field) = control_character_in_pairs(&body) {
            return Err(control_character_error(&field));
        }
        T::deserialize(form::Fields::parse(&body)).map(Self).map_err(|e| serde_field_error(&e.to_string()))
    }
}

mod form {
    //! A serde deserializer over form fields, grouped by name in the order they came.

    use serde::de::value::{Error, MapDeserializer, SeqDeserializer, StringDeserializer};
    use serde::de::{Deserializer, IntoDeserializer, Visitor};
    use serde::forward_to_deserialize_any;

    pub struct Fields(Vec<(String, Values)>);

    impl Fields {
        pub fn parse(body: &[u8]) -> Self {
            let mut fields: Vec<(String, Values)> = Vec::new();
            for (name, value) in url::form_urlencoded::parse(body) {
                match fields.iter_mut().find(|(known, _)| *known == name) {
                    Some((_, values)) => values.0.push(value.into_owned()),
                    None => fields.push((name.into_owned(), Values(vec![value.into_owned()]))),
                }
            }
            Self(fields)
        }
    }

    impl<'de> Deserializer<'de> for Fields {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.visit_map(MapDeserializer::new(self.0.into_iter()))
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
            identifier ignored_any
        }
    }

    /// Every value given for one name: a sequence for a `Vec`, else the last one.
    pub struct Values(Vec<String>);

    impl Values {
        fn last(mut self) -> StringDeserializer<Error> {
            self.0.pop().unwrap_or_default().into_deserializer()
        }
    }

    impl<'de> IntoDeserializer<'de, Error> for Values {
        type Deserializer = Self;

        fn into_deserializer(self) -> Self {
            self
        }
    }

    impl<'de> Deserializer<'de> for Values {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.last().deserialize_any(visitor)
        }

        fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.visit_seq(SeqDeserializer::new(self.0.into_iter()))
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.visit_some(self)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            self.last().deserialize_enum(name, variants, visitor)
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            unit unit_struct newtype_struct tuple tuple_struct map struct identifier ignored_any
        }
    }
}

/// A typed id from the path. A malformed id answers 404 like an id that does not exist: the
/// error shape under `/api`, the error page elsewhere.
pub struct IdPath<T>(pub T);

/// Two ids from the path, in the order the route names them.
pub struct IdPath2<A, B>(pub A, pub B);

/// What a path segment names, and how to read it.
pub trait PathId: Sized {
    /// For the 404 message: "No such {WHAT}."
    const WHAT: &'static str;

    fn from_segment(segment: &str) -> Option<Self>;
}

macro_rules! uuid_path_ids {
    ($($id:ty => $what:literal),+ $(,)?) => {$(
        impl PathId for $id {
            const WHAT: &'static str = $what;

            fn from_segment(segment: &str) -> Option<Self> {
                segment.parse().ok()
            }
        }
    )+};
}

uuid_path_ids!(
    IntegrationId => "integration", CaseId => "case", UserId => "user", TeamId => "team", GroupId => "group",
    ScorecardId => "scorecard", EvaluationId => "evaluation", DisputeId => "dispute", ApiTokenId => "API token",
    ListId => "list", RunId => "run", AssignmentId => "assignment", CalibrationId => "calibration session",
);

/// A scorecard's version number in a path: 1, 2, …
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionNumber(pub u32);

impl PathId for VersionNumber {
    const WHAT: &'static str = "scorecard version";

    fn from_segment(segment: &str) -> Option<Self> {
        segment.parse().ok().filter(|n| *n > 0).map(Self)
    }
}

async fn segments<const N: usize, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<[String; N], ApiError> {
    let Path(segments) = Path::<Vec<String>>::from_request_parts(parts, state).await.map_err(|_| {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "There is nothing at this address.")
    })?;
    segments.try_into().map_err(|_| ApiError::internal(format!("the route does not have {N} ids")))
}

fn id<T: PathId>(segment: &str) -> Result<T, ApiError> {
    T::from_segment(segment).ok_or_else(|| ApiError::not_found(T::WHAT))
}

impl<T: PathId, S: Send + Sync> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let [only] = segments(parts, state).await?;
        Ok(Self(id(&only)?))
    }
}

impl<A: PathId, B: PathId, S: Send + Sync> FromRequestParts<S> for IdPath2<A, B> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let [first, second] = segments(parts, state).await?;
        Ok(Self(id(&first)?, id(&second)?))
    }
}

/// `?cursor=&limit=` as every list route takes them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if !(1..=PageRequest::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("limit must be between 1 and {}.", PageRequest::MAX_LIMIT),
            ));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                ApiError::invalid_field(
                    "cursor",
                    "cursor is not one this server gave out; start again without it.",
                )
            })?),
            None => None,
        };
        Ok(PageRequest { after, limit })
    }
}

pub fn encode_cursor(after: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<uuid::Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    uuid::Uuid::from_slice(&bytes).ok()
}

/// An API caller whose role grants `P`. Checked before the path, query or body is read, so a
/// caller without the role hears 403 whatever they sent. The use case checks again (and the
/// rules that depend on the target, such as scope and rank).
pub struct Permitted<P>(pub Actor, pub PhantomData<P>);

/// A permission, or several, named as a type for [`Permitted`].
pub trait Grant {
    fn check(actor: &Actor) -> Result<(), ApiError>;
}

macro_rules! grants {
    ($($permission:ident),+ $(,)?) => {$(
        pub struct $permission;

        impl Grant for $permission {
            fn check(actor: &Actor) -> Result<(), ApiError> {
                Ok(actor.require(scoreline_core::Permission::$permission)?)
            }
        }
    )+};
}

/// The permissions API routes ask for, by the names of [`scoreline_core::Permission`].
pub mod grant {
    use super::{Actor, ApiError, Grant};

    grants!(
        ManageIntegrations,
        ManageGroups,
        ManageTeams,
        ManageMatches,
        ManageStaff,
        ManageLists,
        ManageScorecards,
        ViewStaff,
        ViewCases,
        Evaluate,
        ViewOwnEvaluations
    );

    impl<A: Grant, B: Grant> Grant for (A, B) {
        fn check(actor: &Actor) -> Result<(), ApiError> {
            A::check(actor)?;
            B::check(actor)
        }
    }
}

impl<P: Grant> FromRequestParts<WebState> for Permitted<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let ApiActor(actor) = ApiActor::from_request_parts(parts, state).await?;
        P::check(&actor)?;
        Ok(Self(actor, PhantomData))
    }
}

/// The actor behind an API call: a Bearer API token, or the browser's session cookie.
pub struct ApiActor(pub Actor);

impl FromRequestParts<WebState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            return match state.app.api_token_actor(&token).await? {
                Some(actor) => Ok(Self(actor)),
                None => Err(ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "The API token is not valid or was revoked.",
                )),
            };
        }
        match session_cookie(&parts.headers) {
            Some(session) => {
                state.app.session_actor(&session).await?.map(Self).ok_or_else(ApiError::unauthenticated)
            }
            None => Err(ApiError::unauthenticated()),
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<SecretToken> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| SecretToken::from_presented(token))
}

pub fn session_cookie(headers: &HeaderMap) -> Option<SecretToken> {
    cookie(headers, SESSION_COOKIE).map(SecretToken::from_presented)
}

/// The value of the request's cookie `name`; an empty value counts as none.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, value)| *found == name && !value.is_empty())
        .map(|(_, value)| value)
}

/// The client's address, for sign-in throttling.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(Self(address))
    }
}

#[cfg(test)]
mod control_character_tests {
    use super::{control_character_in, may_hold_control_character};

    #[test]
    fn the_scan_catches_every_way_json_can_carry_a_control_character() {
        for body in [
            r#"{"a":"\u0000"}"#,
            r#"{"a":"\b"}"#,
            r#"{"a":"\f"}"#,
            "{\"a\":\"\u{7f}\"}",
            "{\"a\":\"\u{85}\"}",
        ] {
            assert!(may_hold_control_character(body.as_bytes()), "{body}");
            let tree: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(control_character_in(&tree, String::new()).as_deref(), Some("a"), "{body}");
        }
        for body in [r#"{"a":"plain \t\n\r text","b":[1,"é"]}"#, r#"{"a":"\n"}"#] {
            let tree: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(control_character_in(&tree, String::new()), None, "{body}");
        }
        assert!(!may_hold_control_character(br#"{"a":"caf\xc3\xa9"}"#));
    }
}
