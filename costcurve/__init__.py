"""costcurve: the cost of AI inference over time."""

__version__ = "0.1.0"
