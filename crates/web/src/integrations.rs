//! HelpDesk integrations: *Score ▸ Interactions ▸ View Integrations* and the connection flow,
//! and `/api/v1/integrations`.

pub mod api;
pub mod ui;
