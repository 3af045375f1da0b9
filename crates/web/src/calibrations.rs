//! Calibration sessions: *Score ▸ Calibration* and `/api/v1/calibrations`.

pub mod api;
pub mod ui;
