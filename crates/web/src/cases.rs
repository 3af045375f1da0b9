//! Stored cases: the cases page, the case page and `/api/v1/cases`. Both the page and the API
//! read their filters with [`CaseQuery`], so a filter means the same in either.

pub mod api;
pub mod ui;

use scoreline_core::{
    CaseFilter, DateField, DateRange, FieldErrors, GroupId, IntegrationId, PageRequest, TeamId, Timestamp,
    UserId,
};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::PageQuery;

/// The HelpDesk statuses and priorities, as filters offer them and pages show them.
pub(crate) use scoreline_core::{CASE_STATUSES as STATUSES, status_label};
pub(crate) const PRIORITIES: [(&str, &str); 4] =
    [("-10", "Low"), ("0", "Medium"), ("10", "High"), ("20", "Urgent")];

/// The filters of the cases page and `GET /api/v1/cases`, as typed. A repeated name is a list
/// of alternatives (`status=open&status=pending`); an empty value means "any".
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct CaseQuery {
    /// Repeatable.
    pub integration_id: Vec<String>,
    /// Cases whose HelpDesk agent is matched to this staff member; repeatable.
    pub agent_user_id: Vec<String>,
    /// Cases of staff in this Scoreline team; repeatable.
    pub team_id: Vec<String>,
    /// Cases of staff in a team of this group; repeatable.
    pub group_id: Vec<String>,
    /// `open`, `pending`, `onhold`, `solved`, `closed`; repeatable.
    pub status: Vec<String>,
    /// `-10` (low), `0`, `10`, `20` (urgent); repeatable.
    pub priority: Vec<String>,
    /// A HelpDesk team id; repeatable.
    pub helpdesk_team_id: Vec<String>,
    /// Cases with any of these tags; repeatable.
    pub tag: Vec<String>,
    /// `tickets`, `archive`, `trash`, `spam`; repeatable.
    pub silo: Vec<String>,
    /// RFC 3339 time, or a day `YYYY-MM-DD` (UTC); at or after.
    pub created_from: Option<String>,
    /// RFC 3339 time, or a day `YYYY-MM-DD` (UTC, that day included); before.
    pub created_to: Option<String>,
    pub updated_from: Option<String>,
    pub updated_to: Option<String>,
    pub last_message_from: Option<String>,
    pub last_message_to: Option<String>,
    /// Text in the subject, any case.
    pub subject: Option<String>,
    /// At least this many public replies by agents.
    pub min_agent_messages: Option<String>,
    /// `true`: matched to staff; `false`: held back (the agent is matched to nobody).
    pub matched: Option<String>,
    /// `true`: only cases whose content retention removed; `false`: only cases with content.
    pub purged: Option<String>,
    /// `created`, `updated` (default) or `last_message`; newest first.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<String>,
}

impl CaseQuery {
    /// The filter, or every problem at once, each named by its parameter.
    pub fn filter(&self) -> Result<CaseFilter, ApiError> {
        let mut errors = FieldErrors::new();
        let given = |values: &[String]| -> Vec<String> {
            values.iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect()
        };
        let ids = |field: &str, values: &[String], errors: &mut FieldErrors| -> Vec<uuid::Uuid> {
            given(values)
                .iter()
                .filter_map(|text| {
                    errors.check(
                        field,
                        uuid::Uuid::parse_str(text).map_err(|_| format!("{field} must be a UUID.")),
                    )
                })
                .collect()
        };
        let mut dates = Vec::new();
        for (field, from, to) in [
            (DateField::Created, &self.created_from, &self.created_to),
            (DateField::Updated, &self.updated_from, &self.updated_to),
            (DateField::LastMessage, &self.last_message_from, &self.last_message_to),
        ] {
            let name = field.as_str();
            let from = text(from).and_then(|t| errors.check(&format!("{name}_from"), parse_time(t, false)));
            let to = text(to).and_then(|t| errors.check(&format!("{name}_to"), parse_time(t, true)));
            if from.is_some() || to.is_some() {
                dates.push(DateRange { field, from, to });
            }
        }
        let priorities = given(&self.priority)
            .iter()
            .filter_map(|t| {
                errors.check(
                    "priority",
                    t.parse::<i64>().map_err(|_| "priority must be a whole number.".to_owned()),
                )
            })
            .collect();
        let filter = CaseFilter {
            integration_ids: ids("integration_id", &self.integration_id, &mut errors)
                .into_iter()
                .map(IntegrationId::from_uuid)
                .collect(),
            agent_user_ids: ids("agent_user_id", &self.agent_user_id, &mut errors)
                .into_iter()
                .map(UserId::from_uuid)
                .collect(),
            team_ids: ids("team_id", &self.team_id, &mut errors).into_iter().map(TeamId::from_uuid).collect(),
            group_ids: ids("group_id", &self.group_id, &mut errors)
                .into_iter()
                .map(GroupId::from_uuid)
                .collect(),
            statuses: given(&self.status),
            priorities,
            helpdesk_team_ids: split_commas(&self.helpdesk_team_id),
            tags: split_commas(&self.tag),
            silos: given(&self.silo),
            dates,
            subject_contains: text(&self.subject).map(str::to_owned),
            min_agent_messages: text(&self.min_agent_messages).and_then(|t| {
                errors.check(
                    "min_agent_messages",
                    t.parse::<u32>().map_err(|_| "min_agent_messages must be a whole number ≥ 0.".to_owned()),
                )
            }),
            matched: text(&self.matched).and_then(|t| errors.check("matched", yes_no("matched", t))),
            purged: text(&self.purged).and_then(|t| errors.check("purged", yes_no("purged", t))),
            sort: text(&self.sort)
                .and_then(|t| errors.check("sort", DateField::parse(t)))
                .unwrap_or_default(),
        };
        errors.into_result().map_err(|e| ApiError::from(scoreline_app::AppError::from(e)))?;
        Ok(filter)
    }

    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match text(&self.limit) {
            Some(limit) => Some(limit.parse::<u32>().map_err(|_| {
                ApiError::invalid_field(
                    "limit",
                    format!("limit must be between 1 and {}.", PageRequest::MAX_LIMIT),
                )
            })?),
            None => None,
        };
        PageQuery { cursor: self.cursor.clone(), limit }.to_request()
    }
}

impl CaseQuery {
    /// The query string of these filters (without empty ones), on the page after `cursor`.
    pub fn to_query_string(&self, cursor: Option<&str>) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        let lists = [
            ("integration_id", &self.integration_id),
            ("agent_user_id", &self.agent_user_id),
            ("team_id", &self.team_id),
            ("group_id", &self.group_id),
            ("status", &self.status),
            ("priority", &self.priority),
            ("helpdesk_team_id", &self.helpdesk_team_id),
            ("tag", &self.tag),
            ("silo", &self.silo),
        ];
        for (name, values) in lists {
            for value in values.iter().filter(|v| !v.trim().is_empty()) {
                pairs.append_pair(name, value);
            }
        }
        let singles = [
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("updated_from", &self.updated_from),
            ("updated_to", &self.updated_to),
            ("last_message_from", &self.last_message_from),
            ("last_message_to", &self.last_message_to),
            ("subject", &self.subject),
            ("min_agent_messages", &self.min_agent_messages),
            ("matched", &self.matched),
            ("purged", &self.purged),
            ("sort", &self.sort),
            ("limit", &self.limit),
        ];
        for (name, value) in singles {
            if let Some(value) = text(value) {
                pairs.append_pair(name, value);
            }
        }
        if let Some(cursor) = cursor {
            pairs.append_pair("cursor", cursor);
        }
        pairs.finish()
    }

    /// A single-valued filter as typed, for the form.
    pub fn one(&self, name: &str) -> &str {
        let value = match name {
            "created_from" => &self.created_from,
            "created_to" => &self.created_to,
            "updated_from" => &self.updated_from,
            "updated_to" => &self.updated_to,
            "last_message_from" => &self.last_message_from,
            "last_message_to" => &self.last_message_to,
            "subject" => &self.subject,
            "min_agent_messages" => &self.min_agent_messages,
            "matched" => &self.matched,
            "purged" => &self.purged,
            "sort" => &self.sort,
            _ => &None,
        };
        value.as_deref().unwrap_or("")
    }

    /// Several values typed in one box, comma-separated (tags, HelpDesk teams), for the form.
    pub fn joined(values: &[String]) -> String {
        values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect::<Vec<_>>().join(", ")
    }
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Repeated values, each of which may hold several separated by commas.
fn split_commas(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn yes_no(field: &str, text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{field} must be true or false.")),
    }
}

/// An RFC 3339 time, or a UTC day: its start, or for the end of a range the start of the next
/// day, so that "to 2026-11-03" includes the 3rd.
fn parse_time(text: &str, end_of_range: bool) -> Result<Timestamp, String> {
    if let Ok(at) = Timestamp::parse_rfc3339(text) {
        return Ok(at);
    }
    let day =
        time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
            "Give a day such as 2026-11-01 or an RFC 3339 time such as 2026-11-01T00:00:00Z.".to_owned()
        })?;
    let day = if end_of_range { day.next_day().unwrap_or(day) } else { day };
    Ok(Timestamp::from_offset_date_time(day.midnight().assume_utc()))
}
