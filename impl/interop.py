"""The old import path of the RFC 9420 interop checks, kept while impl/verify.py uses it.

The checks against the official RFC 9420 test vectors now live in impl.mls.interop; new code
imports from there.  This module adds nothing: it re-exports impl.mls.interop.
"""

from .mls.interop import check_crypto_basics, check_deserialization

__all__ = ["check_crypto_basics", "check_deserialization"]
