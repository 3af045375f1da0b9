//! Reading what the sync stored: cases, and each integration's sync state and counts.

use scoreline_core::{
    CaseCounts, CaseFilter, CaseId, Integration, IntegrationId, Page, PageRequest, Permission, StoredCase,
    SyncState,
};
use serde::Serialize;

use crate::{Actor, App, AppError, AppResult};

/// An integration with how its sync stands.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationOverview {
    pub integration: Integration,
    pub sync: SyncState,
    pub cases: CaseCounts,
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
        let sync = self.db().sync_state(integration.id, self.clock().now()).await?;
        let cases = self.db().case_counts(integration.id).await?;
        Ok(IntegrationOverview { integration, sync, cases })
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

    pub async fn get_case(&self, actor: &Actor, id: CaseId) -> AppResult<StoredCase> {
        actor.require(Permission::ViewCases)?;
        self.db().get_case(actor.scope(), id).await?.ok_or(AppError::NotFound("case"))
    }
}
