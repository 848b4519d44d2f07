"""The model's safety properties checked symbolically with Z3."""
