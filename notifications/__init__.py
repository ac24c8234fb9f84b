"""The outbound pipeline: outbox dispatcher, reminders, templates, rate limits (see docs)."""
