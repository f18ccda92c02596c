"""Who is asking: the account, the one unit chosen for this session, its role, and where from."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.roles import FinanceAccess, Role


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str | None = None
    # The enrolled office PC a card action came through (its device id): an office's PCs share one
    # address behind its router, so the IP alone does not say which PC read the card.
    device: str | None = None


SYSTEM_ORIGIN = Origin(ip=None, user_agent="system")


@dataclass(frozen=True)
class Actor:
    account_id: int
    username: str
    session_id: str
    membership_id: int
    unit_id: int
    unit_path: str  # materialised path of the chosen unit; its prefix is the actor's scope
    unit_depth: int
    role: Role
    finance_access: FinanceAccess
    origin: Origin
    # The name change log's newest version as the guard read it with this actor, at the start of the
    # request (backend/chat/name_index.py: a lookup whose index is at it need not ask the database
    # again). None when not read. Not for a request that changes names and then looks them up. In an
    # actor guessed for a turn started ahead of its check (backend.auth.guard.last_actor): the
    # version read by an earlier request.
    names_version: int | None = None

    def covers(self, path: str) -> bool:
        """Is the unit with this path inside the actor's scope (its own unit or below)?"""
        return path.startswith(self.unit_path)
