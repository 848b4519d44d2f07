"""The trace log of docs/trace-format.md: its format, our roles' recorder, and `validate`.

format.py reads and writes a log; record.py makes our roles write theirs; names.py and
search.py hold another implementation's logs (or ours) to the model.
"""
