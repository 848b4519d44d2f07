"""Lockstep test support: the Hypothesis state machine and bug injection helpers."""
