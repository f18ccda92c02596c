"""Configuration for the ``tortoise`` CLI (``tortoise makemigrations``); the app never imports it."""

import os

from backend.core.db import tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://:memory:"))
