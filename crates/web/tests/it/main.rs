//! The HTTP surface, against the real server on port 0 and real databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod agents;
mod already_connected;
mod api;
mod browser_account;
mod browser_agents;
mod browser_calibrations;
mod browser_evaluations;
mod browser_integrations;
mod browser_pages;
mod browser_results;
mod calibrations;
mod case_filters;
mod cases;
mod control_characters;
mod credentials;
mod edges;
mod evaluations;
mod fuzz;
mod integrations;
mod lists;
mod page_pattern;
mod pages;
mod results;
mod scope;
mod scorecards;
mod secrets;
mod snapshots;
mod staff;
mod staff_import;
mod teams;
