"""The Telegram channel (aiogram 3): webhook or long polling in, rate-limited sending out."""
