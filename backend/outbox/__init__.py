"""The outbox: messages the platform starts, written in the caller's transaction (service.py),
claimed and finished by notification workers (queue.py); users' preferences (preferences.py)."""
