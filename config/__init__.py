"""Settings read from the environment and ``.env`` (pydantic-settings)."""

from config.settings import Settings, SettingsError, get_settings

__all__ = ["Settings", "SettingsError", "get_settings"]
