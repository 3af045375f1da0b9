//! Staff: the Staff page (list, add, deactivate, import) and `/api/v1/users`.

pub mod api;
pub mod ui;
