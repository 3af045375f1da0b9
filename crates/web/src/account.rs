//! *Your account*: who you are here, your teams, and whose work your scope lets you see.

pub mod ui;
