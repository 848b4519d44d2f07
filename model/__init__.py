"""MIMI Portability as an explicit state-transition system: the single source of truth."""
