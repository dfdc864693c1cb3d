//! Telemetry: tracing with JSON lines inside Lambda (CloudWatch Logs Insights can query fields)
//! and readable text locally.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, ConfigError, LogFormat};

/// A function's start-up: the configuration from the environment (failing with every problem
/// named), then tracing as it asks for.
pub fn start() -> Result<Config, ConfigError> {
    let config = Config::from_env()?;
    init(config.log_format, &config.log_filter);
    Ok(config)
}

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .without_time()
            .try_init(),
        LogFormat::Text => builder.with_target(false).compact().try_init(),
    };
}
