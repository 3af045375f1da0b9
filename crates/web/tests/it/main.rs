//! The HTTP surface, against the real server on port 0 and real databases.

mod api;
mod pages;
