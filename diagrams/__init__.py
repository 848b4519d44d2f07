"""Figures computed from the model: role state machines and sequence charts."""
