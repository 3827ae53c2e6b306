"""Step 09: request context, log correlation, tracing and Sentry."""
