"""Settings read from the environment and ``.env`` (pydantic-settings)."""

from costcurve.config.settings import Settings, SettingsError, get_settings

__all__ = ["Settings", "SettingsError", "get_settings"]
