"""Roles, finance access and which role each permission needs (the single table of rights)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SYSADMIN = "sysadmin"
    ADMIN = "admin"
    CLERK = "clerk"
    VIEWER = "viewer"


class FinanceAccess(StrEnum):
    NONE = "none"
    ALL = "all"
    OWN_REGION = "own_region"


ROLE_RANK = {Role.VIEWER: 1, Role.CLERK: 2, Role.ADMIN: 3, Role.SYSADMIN: 4}

ROLE_LABELS = {Role.SYSADMIN: "系统管理员", Role.ADMIN: "管理员", Role.CLERK: "录入员", Role.VIEWER: "查看员"}
FINANCE_LABELS = {FinanceAccess.NONE: "无", FinanceAccess.ALL: "全部", FinanceAccess.OWN_REGION: "仅本区域"}

# The lowest role that may use each permission.
PERMISSIONS: dict[str, Role] = {
    "units.view": Role.VIEWER,
    "units.manage": Role.ADMIN,
    "accounts.view": Role.ADMIN,
    "accounts.manage": Role.ADMIN,
    "accounts.reveal": Role.ADMIN,
    "audit.view": Role.ADMIN,
    "coops.view": Role.VIEWER,
    "coops.write": Role.CLERK,
    "devices.manage": Role.ADMIN,
}


def rank(role: Role | str) -> int:
    return ROLE_RANK[Role(role)]


def allows(role: Role | str, permission: str) -> bool:
    return rank(role) >= rank(PERMISSIONS[permission])
