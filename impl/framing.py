"""The old import path of the RFC 9420 framing, kept while modules outside this change use it.

RFC 9420 framing now lives in the package impl.mls (impl.mls.framing: the structs;
impl.mls.signing: FramedContentTBS and its signature; impl.mls.walkers: the nested structs).
impl/ds.py, impl/client.py and impl/lockstep/abstraction.py still import `MLSMessage` from
here; new code imports from impl.mls.  This module adds nothing: it re-exports impl.mls.
"""

from .mls import *  # noqa: F403
from .mls import __all__  # noqa: F401
