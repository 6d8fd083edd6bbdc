"""The reviewed catalogs of canonical models and GPUs (data in YAML beside this file)."""

from catalog.models import CanonicalModel, load_models, resolve_model

__all__ = ["CanonicalModel", "load_models", "resolve_model"]
