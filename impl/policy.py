"""Authorization policies of draft section 4, with the draft's defaults and stricter options.

This module owns who may migrate a group away (source policy) and who may import one
(target policy).  Defaults follow the draft: any current member may migrate; any client
allowed to create groups on the target may import (every client, unless the target
restricts group creation).  The stricter options are what the draft's TODO suggests
(only the target's own clients) and plain allow-lists.
"""

from __future__ import annotations

import dataclasses


def client_domain(identity: str) -> str:
    """The provider domain of an identity `user@domain` ('' if it has none)."""
    return identity.rpartition("@")[2] if "@" in identity else ""


@dataclasses.dataclass(frozen=True)
class SourcePolicy:
    """Who may migrate a group away. `allowed=None`: any current member (draft default)."""

    allowed: frozenset[str] | None = None

    @classmethod
    def deny_all(cls) -> SourcePolicy:
        return cls(allowed=frozenset())

    def permits(self, identity: str) -> bool:
        return self.allowed is None or identity in self.allowed


@dataclasses.dataclass(frozen=True)
class TargetPolicy:
    """Who may import a group here.

    Default: anyone allowed to create groups here, i.e. `creators` (None = every client).
    `own_domain_only` restricts imports to clients of `domain` (the draft's TODO option).
    """

    creators: frozenset[str] | None = None
    creator_domains: frozenset[str] | None = None
    own_domain_only: bool = False

    def permits(self, identity: str, domain: str) -> bool:
        if self.own_domain_only and client_domain(identity) != domain:
            return False
        if self.creators is not None and identity in self.creators:
            return True
        if self.creator_domains is not None and client_domain(identity) in self.creator_domains:
            return True
        return self.creators is None and self.creator_domains is None
