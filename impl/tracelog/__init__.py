"""The trace log of docs/trace-format.md: its format, our roles' recorder, and `validate`.

format.py reads and writes a log; record.py makes our roles write theirs (samples.py: a
log set of any length); names.py, logview.py and search.py hold another implementation's
logs (or ours) to the model.
"""
