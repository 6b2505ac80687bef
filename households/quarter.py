"""The quarter value object lives with the period helpers every register shares."""

from figures.periods import Quarter

__all__ = ["Quarter"]
