//! Where SQLite and PostgreSQL differ beyond their drivers: the one place a shared query asks.
//!
//! Placeholders need nothing here: queries are written with `$n`, which both accept, and
//! statements built at run time get each driver's own from `sqlx::QueryBuilder`.

pub(crate) trait Dialect {
    /// Starts a transaction that will write. SQLite's default (deferred) transaction takes the
    /// write lock only at its first write, and if another connection committed after its first
    /// read it fails at once with "database is locked", without waiting: every read-then-write
    /// transaction would fail under a concurrent writer (a purge batch while the sync stores a page).
    const BEGIN_WRITE: &'static str;

    /// Makes deleted content leave the database files after a purge; `None` when nothing is needed.
    const FLUSH_DELETED: Option<&'static str>;

    /// A table expression of the case's tags (`cc.tags`, a JSON array of strings) with one
    /// text column `value`, named `j`.
    const TAGS_OF_CASE: &'static str;

    /// Brings the planner's statistics up to date, so it picks the indexes that serve.
    const REFRESH_STATISTICS: &'static str;
}
