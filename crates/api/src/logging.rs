//! The process's log lines: to standard error, filtered by `FLEXPORTAL_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the log subscriber of `flexportal serve` and the other commands.
///
/// `FLEXPORTAL_LOG` takes `EnvFilter` directives. A filter of targets and levels only (`info`,
/// `warn,flexportal_store=debug`) is applied statically: it costs nothing per request span. One
/// with span or field directives (`[request{path=/v1/orders}]=debug`) is applied as an
/// `EnvFilter`, which looks at every span it sees. A value that is neither is reported and `info`
/// is used. Colours are used only when standard error is a terminal and `NO_COLOR` is unset.
pub fn init_logging() {
    let spec = std::env::var("FLEXPORTAL_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let registry = tracing_subscriber::registry();
    if let Ok(targets) = spec.parse::<Targets>() {
        registry.with(targets).with(lines(ansi)).init();
        return;
    }
    match EnvFilter::try_new(&spec) {
        Ok(filter) => registry.with(filter).with(lines(ansi)).init(),
        Err(e) => {
            registry
                .with(Targets::new().with_default(tracing::Level::INFO))
                .with(lines(ansi))
                .init();
            tracing::warn!(filter = %spec, error = %e, "FLEXPORTAL_LOG is not a valid filter; logging at info");
        }
    }
}

/// Lines to standard error, coloured when `ansi`.
fn lines<S>(ansi: bool) -> impl tracing_subscriber::Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
}
