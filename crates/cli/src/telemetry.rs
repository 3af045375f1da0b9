use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::{FormatFields, format};

use crate::config::LogFormat;

/// Logs go to stderr, filtered by `RUST_LOG` (default: info, quieter for dependencies).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info,hyper=warn"));
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours);
    let _ = match format {
        LogFormat::Pretty => builder.fmt_fields(without_statements()).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// sqlx puts a statement's whole SQL text into `db.statement` beside its `summary`; the
/// summary and the timing are what a person reading the log needs.
fn without_statements() -> impl for<'writer> FormatFields<'writer> {
    format::debug_fn(|writer, field, value| match field.name() {
        "db.statement" => Ok(()),
        "message" => write!(writer, "{value:?}"),
        name => write!(writer, "{name}={value:?}"),
    })
    .delimited(" ")
}
