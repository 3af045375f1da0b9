//! HelpDesk integrations: *Score ▸ Interactions ▸ View Integrations* and the connection flow,
//! `/api/v1/integrations`, and the webhook deliveries HelpDesk sends.

pub mod api;
pub mod ui;
pub mod webhooks;
