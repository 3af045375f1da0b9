//! The connect and settings forms checked field by field; every problem is reported at once.

use scoreline_core::{
    AccountId, AuthMethod, BackfillDays, Description, FieldErrors, IntegrationSettings, Label, Retention,
    check_retention_covers_backfill,
};
use scoreline_helpdesk::{ExposeSecret, SecretString};

use super::{ConnectIntegration, OAuthFailure};
use crate::{App, AppError, AppResult};

/// A connect form that passed every check; the Account ID and token only for the token method.
pub(super) struct ValidConnect {
    pub(super) settings: IntegrationSettings,
    pub(super) method: AuthMethod,
    pub(super) account_id: Option<AccountId>,
    pub(super) token: Option<SecretString>,
}

impl App {
    pub(super) fn validate_settings(
        &self,
        errors: &mut FieldErrors,
        label: &str,
        description: &str,
        retention: (Option<i64>, &str),
        (backfill_days, backfill_weeks): (Option<i64>, Option<i64>),
    ) -> Option<IntegrationSettings> {
        let label = errors.check("label", Label::parse(label));
        let description = errors.check("description", Description::parse(description));
        let retention = match retention {
            (Some(value), unit) => errors.check("retention", Retention::parse(value, unit)),
            (None, _) => {
                errors.check("retention", Err("Retention is required: a number and a unit.".to_owned()))
            }
        };
        let cap = self.helpdesk_settings().backfill_cap_days;
        let backfill = match (backfill_weeks, backfill_days) {
            (Some(weeks), _) => errors.check("backfill_weeks", BackfillDays::parse_weeks(weeks, cap)),
            (None, Some(days)) => errors.check("backfill_days", BackfillDays::parse(days, cap)),
            (None, None) => Some(BackfillDays::DEFAULT),
        };
        if let (Some(retention), Some(backfill)) = (retention, backfill) {
            errors.check("retention", check_retention_covers_backfill(retention, backfill));
        }
        Some(IntegrationSettings {
            label: label?.into_inner(),
            description: description?.as_str().to_owned(),
            retention: retention?,
            backfill_days: backfill?.days(),
        })
    }

    pub(super) fn validate_connect(&self, input: ConnectIntegration) -> AppResult<ValidConnect> {
        let mut errors = FieldErrors::new();
        let method = errors.check("auth_method", input.auth_method.parse::<AuthMethod>());
        let settings = self.validate_settings(
            &mut errors,
            &input.label,
            &input.description,
            (input.retention_value, &input.retention_unit),
            (input.backfill_days, input.backfill_weeks),
        );
        let (mut account_id, mut token) = (None, None);
        match method {
            Some(AuthMethod::Token) => {
                account_id = errors.check("account_id", AccountId::parse(&input.account_id));
                token = match input.token.filter(|t| !t.expose_secret().trim().is_empty()) {
                    Some(t) => Some(SecretString::from(t.expose_secret().trim().to_owned())),
                    None => errors.check(
                        "token",
                        Err("Paste the personal access token from the Developers Console.".to_owned()),
                    ),
                };
            }
            Some(AuthMethod::Oauth) if !self.oauth_available() => {
                errors.push("auth_method", OAuthFailure::NotConfigured.to_string());
            }
            _ => {}
        }
        errors.into_result()?;
        match (settings, method) {
            (Some(settings), Some(method)) => Ok(ValidConnect { settings, method, account_id, token }),
            _ => Err(AppError::Internal("validated fields missing".to_owned())),
        }
    }
}
