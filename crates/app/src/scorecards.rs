//! Scorecards (DESIGN.md §7.3): drafts, immutable published versions, archiving, and the TOML
//! file they are exported as and imported from. Global admins manage every scorecard; group
//! admins those restricted to groups of theirs.

use std::collections::HashSet;

use scoreline_core::{
    FieldError, GroupId, Page, PageRequest, Permission, Role, Scope, Scorecard, ScorecardDefinition,
    ScorecardId, ScorecardInput, ScorecardVersion, ScorecardVersionId,
};
use scoreline_store::model::NewScorecard;
use serde_json::{Map, Value, json};

use crate::{Actor, App, AppError, AppResult};

/// The largest TOML file import reads.
pub const MAX_SCORECARD_FILE_BYTES: usize = 512 * 1024;

impl App {
    pub async fn create_scorecard(&self, actor: &Actor, input: &ScorecardInput) -> AppResult<Scorecard> {
        actor.require(Permission::ManageScorecards)?;
        let definition = self.checked_definition(actor, input).await?;
        let scorecard = NewScorecard { id: ScorecardId::new(), definition, at: self.clock().now() };
        let audit = self.audit(
            actor,
            "scorecard.create",
            "scorecard",
            &scorecard.id.to_string(),
            json!({ "name": scorecard.definition.name }),
        );
        Ok(self.db().create_scorecard(&scorecard, &audit).await?)
    }

    /// Scorecards for whoever scores or builds them; archived ones when asked for.
    pub async fn list_scorecards(
        &self,
        actor: &Actor,
        include_archived: bool,
        page: PageRequest,
    ) -> AppResult<Page<Scorecard>> {
        if actor.can(Permission::Evaluate) {
            return Ok(self.db().list_scorecards(include_archived, page).await?);
        }
        // Agents see only what they may score their own cases with.
        actor.require(Permission::ViewOwnEvaluations)?;
        let mut cards = self.db().list_scorecards(false, page).await?;
        cards.items.retain(allows_self_score);
        Ok(cards)
    }

    pub async fn get_scorecard(&self, actor: &Actor, id: ScorecardId) -> AppResult<Scorecard> {
        if !actor.can(Permission::Evaluate) {
            actor.require(Permission::ViewOwnEvaluations)?;
        }
        self.db()
            .get_scorecard(id)
            .await?
            .filter(|card| actor.can(Permission::Evaluate) || allows_self_score(card))
            .ok_or(AppError::NotFound("scorecard"))
    }

    /// Replaces the draft with `input` (the next version's draft once one is published). Ids
    /// given are kept, so a question that stays keeps its id from version to version.
    pub async fn save_scorecard(
        &self,
        actor: &Actor,
        id: ScorecardId,
        input: &ScorecardInput,
    ) -> AppResult<Scorecard> {
        let scorecard = self.manageable_scorecard(actor, id).await?;
        if scorecard.archived_at.is_some() {
            return Err(AppError::Conflict("An archived scorecard cannot be edited."));
        }
        let definition = self.checked_definition(actor, input).await?;
        let audit = self.audit(
            actor,
            "scorecard.edit",
            "scorecard",
            &id.to_string(),
            json!({ "name": definition.name, "next_version": scorecard.latest_number() + 1 }),
        );
        if !self.db().save_scorecard_draft(id, &definition, self.clock().now(), &audit).await? {
            return Err(AppError::Conflict("An archived scorecard cannot be edited."));
        }
        self.db().get_scorecard(id).await?.ok_or(AppError::NotFound("scorecard"))
    }

    /// Changes the fields present in `patch` (any part of a definition; `sections`, when
    /// present, replaces all of them) of the draft, or of the latest version as the next draft.
    pub async fn patch_scorecard(
        &self,
        actor: &Actor,
        id: ScorecardId,
        patch: Map<String, Value>,
    ) -> AppResult<Scorecard> {
        let scorecard = self.manageable_scorecard(actor, id).await?;
        let current = scorecard.current().map(|d| d.to_input(true)).unwrap_or_default();
        let Ok(Value::Object(mut merged)) = serde_json::to_value(current) else {
            return Err(AppError::Internal("a scorecard is not a JSON object".to_owned()));
        };
        merged.extend(patch);
        let input: ScorecardInput = serde_json::from_value(Value::Object(merged))
            .map_err(|e| AppError::field("body", format!("The scorecard is not valid: {e}")))?;
        self.save_scorecard(actor, id, &input).await
    }

    /// Freezes the draft as the next version, which never changes afterwards.
    pub async fn publish_scorecard(&self, actor: &Actor, id: ScorecardId) -> AppResult<ScorecardVersion> {
        let scorecard = self.manageable_scorecard(actor, id).await?;
        if scorecard.archived_at.is_some() {
            return Err(AppError::Conflict("An archived scorecard cannot be published."));
        }
        let Some(draft) = &scorecard.draft else {
            return Err(AppError::Conflict("There is no draft to publish: edit the scorecard first."));
        };
        if scorecard.latest.as_ref().is_some_and(|latest| &latest.definition == draft) {
            return Err(AppError::Conflict("The draft is the same as the latest version."));
        }
        let number = scorecard.latest_number() + 1;
        let version_id = ScorecardVersionId::new();
        let audit = self.audit(
            actor,
            "scorecard.publish",
            "scorecard",
            &id.to_string(),
            json!({ "version": number, "version_id": version_id, "name": draft.name }),
        );
        let by = actor.user().map(|user| user.id);
        self.db()
            .publish_scorecard(id, version_id, by, self.clock().now(), &audit)
            .await?
            .ok_or(AppError::Conflict("There is no draft to publish: edit the scorecard first."))
    }

    /// Takes the scorecard out of use: it takes no new evaluations; those made stay.
    pub async fn archive_scorecard(&self, actor: &Actor, id: ScorecardId) -> AppResult<Scorecard> {
        let scorecard = self.manageable_scorecard(actor, id).await?;
        let audit = self.audit(
            actor,
            "scorecard.archive",
            "scorecard",
            &id.to_string(),
            json!({ "name": scorecard.name, "latest_version": scorecard.latest_number() }),
        );
        if !self.db().archive_scorecard(id, self.clock().now(), &audit).await? {
            return Err(AppError::Conflict("This scorecard is archived already."));
        }
        self.db().get_scorecard(id).await?.ok_or(AppError::NotFound("scorecard"))
    }

    pub async fn scorecard_version(
        &self,
        actor: &Actor,
        id: ScorecardId,
        number: u32,
    ) -> AppResult<ScorecardVersion> {
        actor.require(Permission::Evaluate)?;
        self.db().get_scorecard_version(id, number).await?.ok_or(AppError::NotFound("scorecard version"))
    }

    /// Every published version, newest first.
    pub async fn scorecard_versions(
        &self,
        actor: &Actor,
        id: ScorecardId,
    ) -> AppResult<Vec<ScorecardVersion>> {
        let scorecard = self.get_scorecard(actor, id).await?;
        Ok(self.db().list_scorecard_versions(scorecard.id).await?)
    }

    /// The scorecard as a TOML file: version `number`, or else the draft or latest version.
    /// The file carries no ids, so any instance can import it.
    pub async fn export_scorecard(
        &self,
        actor: &Actor,
        id: ScorecardId,
        number: Option<u32>,
    ) -> AppResult<(String, String)> {
        let scorecard = self.get_scorecard(actor, id).await?;
        let definition = match number {
            Some(number) => self.scorecard_version(actor, id, number).await?.definition,
            None => scorecard.current().cloned().ok_or(AppError::NotFound("scorecard definition"))?,
        };
        let text = toml::to_string_pretty(&definition.to_input(false))
            .map_err(|e| AppError::Internal(format!("scorecard as TOML: {e}")))?;
        Ok((definition.name, text))
    }

    /// A new scorecard (a draft) from a TOML file; nothing is created when any part of it is
    /// not valid, and every problem is reported by its path.
    pub async fn import_scorecard(&self, actor: &Actor, file: &str) -> AppResult<Scorecard> {
        actor.require(Permission::ManageScorecards)?;
        if file.len() > MAX_SCORECARD_FILE_BYTES {
            return Err(AppError::field(
                "file",
                format!("The file is larger than {} KiB.", MAX_SCORECARD_FILE_BYTES / 1024),
            ));
        }
        let input: ScorecardInput = toml::from_str(file).map_err(|e| {
            let at = e.span().map(|span| line_of(file, span.start));
            let message = e.message().trim().to_owned();
            AppError::field("file", at.map_or(message.clone(), |line| format!("line {line}: {message}")))
        })?;
        self.create_scorecard(actor, &input).await
    }

    /// The definition of `input`, with every problem by its path, including groups the actor
    /// may not restrict a scorecard to.
    async fn checked_definition(
        &self,
        actor: &Actor,
        input: &ScorecardInput,
    ) -> AppResult<ScorecardDefinition> {
        let (definition, mut problems) = match input.validate() {
            Ok(definition) => (Some(definition), Vec::new()),
            Err(problems) => (None, problems),
        };
        let reachable = self.reachable_groups(actor).await?;
        for (i, group) in input.group_ids.iter().enumerate() {
            if !reachable.as_ref().is_none_or(|groups| groups.contains(group))
                || self.db().get_group(&Scope::Everything, *group).await?.is_none()
            {
                problems.push(FieldError::new(format!("group_ids[{i}]"), "is not a group of yours"));
            }
        }
        if reachable.is_some() && input.group_ids.is_empty() {
            problems.push(FieldError::new(
                "group_ids",
                "restrict the scorecard to one or more of your groups (only global admins make scorecards for everyone)",
            ));
        }
        match definition {
            Some(definition) if problems.is_empty() => Ok(definition),
            _ => Err(AppError::Validation(problems)),
        }
    }

    /// `None` for whoever may use every group; a group admin's groups otherwise.
    async fn reachable_groups(&self, actor: &Actor) -> AppResult<Option<HashSet<GroupId>>> {
        match actor.user() {
            Some(user) if user.role != Role::GlobalAdmin => {
                let groups =
                    self.db().list_groups(actor.scope(), PageRequest::first(PageRequest::MAX_LIMIT)).await?;
                Ok(Some(groups.items.into_iter().map(|group| group.id).collect()))
            }
            _ => Ok(None),
        }
    }

    /// The scorecard, if the actor may change it: group admins only those restricted to
    /// groups of theirs.
    async fn manageable_scorecard(&self, actor: &Actor, id: ScorecardId) -> AppResult<Scorecard> {
        actor.require(Permission::ManageScorecards)?;
        let scorecard = self.db().get_scorecard(id).await?.ok_or(AppError::NotFound("scorecard"))?;
        if let (Some(groups), Some(user)) = (self.reachable_groups(actor).await?, actor.user()) {
            let restricted_to = scorecard.current().map(|d| d.group_ids.as_slice()).unwrap_or_default();
            if restricted_to.is_empty() || !restricted_to.iter().all(|g| groups.contains(g)) {
                return Err(AppError::PermissionDenied {
                    role: user.role,
                    permission: Permission::ManageScorecards,
                });
            }
        }
        Ok(scorecard)
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// A published scorecard, not archived, whose latest version lets agents score their own cases.
fn allows_self_score(card: &Scorecard) -> bool {
    card.archived_at.is_none() && card.latest.as_ref().is_some_and(|version| version.definition.self_score)
}
