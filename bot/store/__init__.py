"""predbot's memory (SQLAlchemy 2 and Alembic; SQLite by default, PostgreSQL by URL): see store.py."""

from bot.store.entry import Accuracy, Entry, EntryRow, Recorded
from bot.store.shared import Held, Shared
from bot.store.store import Store, UnknownRow, open_store

__all__ = ["Accuracy", "Entry", "EntryRow", "Held", "Recorded", "Shared", "Store", "UnknownRow", "open_store"]
