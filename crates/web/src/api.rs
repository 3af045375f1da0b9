//! The JSON API under `/api/v1`. Routes and the OpenAPI document come from the same
//! annotations, so they cannot drift apart.

use scoreline_core::Page;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::WebState;
use crate::extract::encode_cursor;

#[derive(OpenApi)]
#[openapi(
    components(schemas(ErrorView, FieldErrorView)),
    security(("bearer" = [])),
    info(title = "Scoreline API", description = "Quality assurance for support teams. Authenticate with `Authorization: Bearer <api token>` (create one with `scoreline tokens create`)."),
    tags(
        (name = "staff", description = "Users, groups and teams"),
        (name = "session", description = "Who is calling, and their own API tokens and password"),
        (name = "integrations", description = "Connected HelpDesk accounts"),
        (name = "cases", description = "HelpDesk tickets as stored for scoring"),
        (name = "scorecards", description = "Scorecards: drafts, published versions, TOML files"),
        (name = "evaluations", description = "Evaluations of cases, and the agent's acknowledgement or dispute"),
        (name = "results", description = "What submitted evaluations say, by agent, team, group, scorecard, question or evaluator, and their CSV export"),
        (name = "calibrations", description = "Calibration sessions: several evaluators score one case blind, then compare")
    )
)]
struct ApiDoc;

/// Every API route, each resource's from its own module, and the OpenAPI document of them.
pub fn router() -> (axum::Router<WebState>, utoipa::openapi::OpenApi) {
    let v1 = OpenApiRouter::new()
        .merge(crate::session::api::routes())
        .merge(crate::credentials::api::routes())
        .merge(crate::staff::api::routes())
        .merge(crate::teams::api::routes())
        .merge(crate::integrations::api::routes())
        .merge(crate::agents::api::routes())
        .merge(crate::cases::api::routes())
        .merge(crate::scorecards::api::routes())
        .merge(crate::evaluations::api::routes())
        .merge(crate::results::api::routes())
        .merge(crate::calibrations::api::routes())
        .merge(crate::lists::api::routes());
    let (router, mut openapi) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1).split_for_parts();
    document_refusals(&mut openapi);
    (router, openapi)
}

/// Every refusal and failure under `/api`: `code` for programs, `message` for people, the
/// `request_id` to quote, and with `invalid_input` one entry per rejected field.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)] // only its schema is used; `error::ErrorBody` writes the answers
struct ErrorView {
    #[schema(example = "invalid_input")]
    code: String,
    message: String,
    request_id: String,
    /// Present only when fields were rejected.
    #[schema(required = false)]
    fields: Vec<FieldErrorView>,
}

#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
struct FieldErrorView {
    /// The field's name or path (`retention.value`, `line 3`, `body`).
    field: String,
    message: String,
}

/// The refusals every operation can answer, added to what each route's annotation lists, all
/// with the error schema; and the bearer scheme the whole API is called with.
fn document_refusals(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    use utoipa::openapi::{Content, Ref, RefOr, Response};

    if let Some(components) = openapi.components.as_mut() {
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `scoreline tokens create --email <you>`."))
                    .build(),
            ),
        );
    }
    let error = || Content::new(Some(RefOr::Ref(Ref::from_schema_name("Error"))));
    for (path, item) in &mut openapi.paths.paths {
        // Every route but the caller's own (`/me…`) asks for a role.
        let role_checked = !path.starts_with("/api/v1/me");
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.iter().flatten();
            let (mut in_path, mut in_query) = (false, false);
            for parameter in parameters {
                if let RefOr::T(parameter) = parameter {
                    let place = serde_json::to_value(&parameter.parameter_in).unwrap_or_default();
                    in_path |= place == "path";
                    in_query |= place == "query";
                }
            }
            let has_body = operation.request_body.is_some();
            let mut implied = vec![
                ("401", "No API token, or one that is not valid."),
                ("default", "Any other refusal or failure (405, 429, 500, 503)."),
            ];
            if role_checked {
                implied.push(("403", "The caller's role does not allow this."));
            }
            if in_path {
                implied.push(("404", "No such resource in the caller's scope."));
            }
            if has_body || in_query {
                implied.push(("422", "Input that is not valid; `fields` names each problem."));
            }
            if has_body {
                implied.extend([
                    ("400", "The body is not JSON."),
                    ("408", "The body took too long to arrive."),
                    ("413", "The body is too large."),
                    ("415", "The body is not sent as `application/json`."),
                ]);
            }
            let responses = &mut operation.responses.responses;
            for (status, description) in implied {
                responses.entry(status.to_owned()).or_insert_with(|| Response::new(description).into());
            }
            for (status, response) in responses.iter_mut() {
                let is_error = status == "default" || status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(response)) = (is_error, response) {
                    response.content.insert("application/json".to_owned(), RefOr::T(error()));
                }
            }
        }
    }
}

/// Every list route answers this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ItemList<T> {
    pub(crate) fn from_page<S>(page: Page<S>, view: impl Fn(S) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}
