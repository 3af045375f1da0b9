//! One answer to every form post. Success: 303 to the next page, which shows a flash message
//! once. A problem the person can fix: the same page again, with what they typed (secrets
//! excepted) and each message beside its field, in the status the JSON API would use (422 for
//! invalid input).

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scoreline_app::AppError;
use scoreline_core::{FieldError, FieldErrors};

use super::flash::SetFlash;
use crate::error::ApiError;

/// Where a successful post goes, and what the page there says once.
pub struct Done {
    to: String,
    message: String,
}

pub fn done(to: impl Into<String>, message: impl Into<String>) -> Done {
    Done { to: to.into(), message: message.into() }
}

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, self.to)]).into_response();
        response.extensions_mut().insert(SetFlash(self.message));
        response
    }
}

/// Answers a form post from the use case's `result`: `done` answers success (usually with
/// [`done`]); `again` renders the page once more with the errors of form `form` (its `id` on
/// the page).
pub async fn answer<T, D: IntoResponse, P: IntoResponse>(
    form: &str,
    result: Result<T, AppError>,
    done: impl FnOnce(T) -> D,
    again: impl AsyncFnOnce(FormErrors) -> Result<P, ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(value) => Ok(done(value).into_response()),
        Err(error) => {
            let (status, errors) = rejected(form, error)?;
            Ok((status, again(errors).await?).into_response())
        }
    }
}

/// A redirect answered to an htmx post, made one the whole window follows (`HX-Redirect`):
/// the request itself would follow it and swap the next page into the form. Its flash stays.
pub fn redirect_window(headers: &HeaderMap, response: Response) -> Response {
    if !super::is_htmx(headers) || !response.status().is_redirection() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts.headers.remove(header::LOCATION) {
        parts.headers.insert(HeaderName::from_static("hx-redirect"), location);
        parts.status = StatusCode::OK;
    }
    Response::from_parts(parts, body)
}

/// A failed post as the errors of form `form` and the status to show them with (the status
/// the JSON API answers), or the error page for what the person cannot fix here.
pub fn rejected(form: &str, error: AppError) -> Result<(StatusCode, FormErrors), ApiError> {
    if !shown_on_the_form(&error) {
        return Err(error.into());
    }
    let error = ApiError::from(error);
    let fields =
        if error.fields.is_empty() { vec![FieldError::new("", error.message)] } else { error.fields };
    Ok((error.status, FormErrors::new(form, fields)))
}

/// Problems the person can do something about on the same page; anything else is an error page.
fn shown_on_the_form(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::AlreadyConnected(_)
            | AppError::Upstream(_)
            | AppError::InvalidCredentials
            | AppError::Throttled { .. }
            | AppError::Busy { .. }
    )
}

/// The errors of the form just posted, for the page shown again. The field macros of
/// `templates/forms.html` show each message beside its field; `forms::rest`, at the end of the
/// form, shows those no field took, so no message is ever hidden.
#[derive(Default)]
pub struct FormErrors {
    /// The `id` of the form the errors belong to: a page may hold several forms.
    form: String,
    errors: Vec<(FieldError, Cell<bool>)>,
    focused: Cell<bool>,
}

impl FormErrors {
    /// No errors: the page as first shown.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn new(form: &str, errors: Vec<FieldError>) -> Self {
        Self {
            form: form.to_owned(),
            errors: errors.into_iter().map(|e| (e, Cell::new(false))).collect(),
            focused: Cell::new(false),
        }
    }

    fn of<'a>(&'a self, form: &str) -> impl Iterator<Item = &'a (FieldError, Cell<bool>)> {
        self.errors.iter().filter(move |_| self.form == form)
    }

    /// The message for `field` of `form`, marked as shown.
    pub fn take(&self, form: impl AsRef<str>, field: impl AsRef<str>) -> Option<&str> {
        let (error, shown) = self.of(form.as_ref()).find(|(e, _)| e.field == field.as_ref())?;
        shown.set(true);
        Some(&error.message)
    }

    /// Whether `field` of `form` has an error, without showing it.
    pub fn has(&self, form: impl AsRef<str>, field: impl AsRef<str>) -> bool {
        self.of(form.as_ref()).any(|(e, _)| e.field == field.as_ref())
    }

    /// Every message of `form` for the summary at its top: with the id of its field's input
    /// to link to, or none for a message about the whole form (shown here only). The summary
    /// takes the focus, so a long page scrolls to it.
    pub fn summary(&self, form: impl AsRef<str>) -> Vec<(String, &str)> {
        let form = form.as_ref();
        self.focused.set(true);
        self.of(form)
            .map(|(error, shown)| {
                if error.field.is_empty() {
                    shown.set(true);
                    (String::new(), error.message.as_str())
                } else {
                    (format!("{form}-{}", error.field), error.message.as_str())
                }
            })
            .collect()
    }

    /// Whether `form` has any error: a folded form opens to show it.
    pub fn has_any(&self, form: impl AsRef<str>) -> bool {
        self.of(form.as_ref()).next().is_some()
    }

    /// The messages of `form` that no field showed: about the whole form, or a field it lacks.
    pub fn rest(&self, form: impl AsRef<str>) -> Vec<&str> {
        self.of(form.as_ref()).filter(|(_, shown)| !shown.get()).map(|(e, _)| e.message.as_str()).collect()
    }

    /// Every message, for a summary elsewhere on the page (the list preview says what to fix).
    pub fn all_messages(&self) -> Vec<String> {
        self.errors.iter().map(|(e, _)| e.message.clone()).collect()
    }

    /// The attributes that tie an input to its help and error text.
    pub fn aria(&self, form: impl AsRef<str>, field: impl AsRef<str>, has_help: bool) -> Aria {
        let (form, field) = (form.as_ref(), field.as_ref());
        let invalid = self.of(form).any(|(e, _)| e.field == field);
        // The first invalid field takes the focus, so the person starts where the problem is.
        let focus = invalid && !self.focused.replace(true);
        Aria { id: format!("{form}-{field}"), has_help, invalid, focus }
    }
}

/// ` id=… aria-describedby=… aria-invalid=…` for an input, matching the ids the field macros
/// give its label, help and error.
pub struct Aria {
    id: String,
    has_help: bool,
    invalid: bool,
    focus: bool,
}

impl askama::filters::HtmlSafe for Aria {}

impl fmt::Display for Aria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use askama::filters::{Escaper, Html};
        let mut id = String::new();
        Html.write_escaped_str(&mut id, &self.id)?;
        write!(f, r#"id="{id}""#)?;
        let described: Vec<String> = [(self.has_help, "help"), (self.invalid, "error")]
            .into_iter()
            .filter(|(present, _)| *present)
            .map(|(_, part)| format!("{id}-{part}"))
            .collect();
        if !described.is_empty() {
            write!(f, r#" aria-describedby="{}""#, described.join(" "))?;
        }
        if self.invalid {
            f.write_str(r#" aria-invalid="true""#)?;
        }
        if self.focus {
            f.write_str(" autofocus")?;
        }
        Ok(())
    }
}

/// The id picked in a `<select>` named `field`: `None` when nothing was picked, the field
/// error `message` when the value is not an id.
pub fn picked<T: FromStr>(field: &str, text: &str, message: &str) -> Result<Option<T>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(|_| AppError::field(field, message)),
    }
}

/// The same, for a choice the form cannot do without.
pub fn required_pick<T: FromStr>(field: &str, text: &str, message: &str) -> Result<T, AppError> {
    picked(field, text, message)?.ok_or_else(|| AppError::field(field, message))
}

/// A whole number typed into `field`, or the message that says it is not one.
pub fn whole_number(errors: &mut FieldErrors, field: &str, text: &str, what: &str) -> Option<i64> {
    errors.check(field, text.trim().parse::<i64>().map_err(|_| format!("{what} must be a whole number.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_shown_once_beside_its_field_or_at_the_end() {
        let errors = FormErrors::new(
            "new-user",
            vec![FieldError::new("email", "Enter an email address."), FieldError::new("", "Try again.")],
        );
        assert_eq!(errors.take("other-form", "email"), None);
        assert_eq!(
            errors.aria("new-user", "name", true).to_string(),
            r#"id="new-user-name" aria-describedby="new-user-name-help""#
        );
        assert_eq!(
            errors.aria("new-user", "email", false).to_string(),
            r#"id="new-user-email" aria-describedby="new-user-email-error" aria-invalid="true" autofocus"#
        );
        assert_eq!(errors.take("new-user", "email"), Some("Enter an email address."));
        assert_eq!(errors.rest("new-user"), ["Try again."]);
        assert!(errors.rest("other-form").is_empty());
    }

    #[test]
    fn a_non_number_is_a_field_error_not_zero() {
        let mut errors = FieldErrors::new();
        assert_eq!(whole_number(&mut errors, "retention", " 6 ", "Retention"), Some(6));
        assert_eq!(whole_number(&mut errors, "retention", "six", "Retention"), None);
        assert!(errors.into_result().is_err());
    }
}
