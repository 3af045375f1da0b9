//! Reading what the sync stored: cases, and each integration's sync state and counts.

use scoreline_core::{
    CaseCounts, CaseFilter, CaseId, Eta, Integration, IntegrationId, Page, PageRequest, Permission,
    RateLimitWait, StoredCase, SyncState, backfill_ppm, estimate_left,
};
use serde::Serialize;

use crate::{Actor, App, AppError, AppResult};

/// An integration with how its sync stands.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationOverview {
    pub integration: Integration,
    pub sync: SyncState,
    pub cases: CaseCounts,
    /// While a backfill is under way: how far it has come and the time it may still take.
    pub backfill: Option<BackfillProgress>,
    /// What the running sync waits for at HelpDesk's rate limit, when the overview was read.
    pub rate_limit: Option<RateLimitWait>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BackfillProgress {
    /// Millionths of the backfill's time span read.
    pub ppm: u32,
    pub eta: Eta,
}

impl BackfillProgress {
    /// Whole percent, never 100 before it is done.
    pub fn percent(&self) -> u32 {
        (self.ppm / 10_000).min(99)
    }
}

impl App {
    pub async fn integration_overview(
        &self,
        actor: &Actor,
        id: IntegrationId,
    ) -> AppResult<IntegrationOverview> {
        let integration = self.get_integration(actor, id).await?;
        self.overview_of(integration).await
    }

    pub async fn list_integration_overviews(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> AppResult<Page<IntegrationOverview>> {
        let integrations = self.list_integrations(actor, page).await?;
        let mut items = Vec::with_capacity(integrations.items.len());
        for integration in integrations.items {
            items.push(self.overview_of(integration).await?);
        }
        Ok(Page { items, next_after: integrations.next_after })
    }

    async fn overview_of(&self, integration: Integration) -> AppResult<IntegrationOverview> {
        let now = self.clock().now();
        let sync = self.db().sync_state(integration.id, now).await?;
        let cases = self.db().case_counts(integration.id).await?;
        let backfill = if sync.windows_total > 0 && sync.windows_done < sync.windows_total {
            let windows = self.db().sync_windows(integration.id).await?;
            let ppm = backfill_ppm(windows.iter().map(crate::sync::reach));
            let eta =
                sync.backfill_resumed.map_or(Eta::Estimating, |(at, from)| estimate_left(at, from, now, ppm));
            Some(BackfillProgress { ppm, eta })
        } else {
            None
        };
        let rate_limit = sync.rate_limit_wait(now);
        Ok(IntegrationOverview { integration, sync, cases, backfill, rate_limit })
    }

    pub async fn list_cases(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        page: PageRequest,
    ) -> AppResult<Page<StoredCase>> {
        actor.require(Permission::ViewCases)?;
        Ok(self.db().list_cases(actor.scope(), filter, page).await?)
    }

    /// How many cases in the actor's scope pass `filter`, and how many of those are held back.
    pub async fn count_cases(&self, actor: &Actor, filter: &CaseFilter) -> AppResult<CaseCounts> {
        actor.require(Permission::ViewCases)?;
        Ok(self.db().count_filtered_cases(actor.scope(), filter).await?)
    }

    /// Every integration by label, for filters: a name only, never settings or credentials.
    pub async fn integration_choices(&self, actor: &Actor) -> AppResult<Vec<(IntegrationId, String)>> {
        actor.require(Permission::ViewCases)?;
        let integrations = self.db().list_integrations(PageRequest::first(PageRequest::MAX_LIMIT)).await?;
        Ok(integrations.items.into_iter().map(|i| (i.id, i.label)).collect())
    }

    /// Where a person opens the case's ticket in HelpDesk's agent web app: app.helpdesk.com for
    /// the real service; for another API address (the simulator), the ticket page it serves
    /// beside its API.
    pub fn ticket_url(&self, case: &StoredCase) -> String {
        let api = self.settings().helpdesk.api_url.trim_end_matches('/');
        if api == scoreline_helpdesk::DEFAULT_API_BASE_URL.trim_end_matches('/') {
            format!("https://app.helpdesk.com/tickets/{}", case.source_id)
        } else {
            format!("{api}/tickets/{}", case.source_id)
        }
    }

    pub async fn get_case(&self, actor: &Actor, id: CaseId) -> AppResult<StoredCase> {
        actor.require(Permission::ViewCases)?;
        self.db().get_case(actor.scope(), id).await?.ok_or(AppError::NotFound("case"))
    }
}
