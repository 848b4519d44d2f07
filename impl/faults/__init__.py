"""Faults over the wire: a loopback fault proxy (proxy.py) between the parties of a
migration run as real server processes."""
