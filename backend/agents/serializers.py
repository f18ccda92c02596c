"""Agents as they leave the server: phones masked, roles labelled."""

from __future__ import annotations

from backend.accounts.models import Membership
from backend.accounts.serializers import masked_phone
from backend.agents import messages as msg
from backend.agents.actions import ConsentAsked, UnbindPlan
from backend.agents.schemas import AgentConsentAsked, AgentOut, UnbindPreview
from backend.core import sms_codes
from backend.core.roles import ROLE_LABELS, Role


def agent_out(membership: Membership) -> AgentOut:
    """``membership`` with .account and .unit loaded."""
    account = membership.account
    return AgentOut(
        membership_id=membership.id,
        account_id=account.id,
        username=account.username,
        name=account.name,
        phone=masked_phone(account),
        unit_id=membership.unit.id,
        unit_name=membership.unit.name,
        role=Role(membership.role),
        role_label=ROLE_LABELS[Role(membership.role)],
        is_active=account.is_active,
        must_change_password=account.must_change_password,
        since=membership.created_at,
    )


def unbind_preview(plan: UnbindPlan) -> UnbindPreview:
    agent = agent_out(plan.membership)
    notice = msg.UNBIND_SUMMARY.format(name=agent.name, username=agent.username, unit=agent.unit_name)
    if plan.last_unit:
        notice += msg.UNBIND_LAST_UNIT
    return UnbindPreview(
        ticket=plan.ticket, expires_in=plan.expires_in, agent=agent, last_unit=plan.last_unit, notice=notice
    )


def consent_asked(asked: ConsentAsked) -> AgentConsentAsked:
    notice = msg.CONSENT_ASKED.format(phone=asked.phone, minutes=sms_codes.CODE_TTL_SECONDS // 60)
    return AgentConsentAsked(
        ticket=asked.ticket,
        phone=asked.phone,
        expires_in=asked.expires_in,
        resend_after=asked.resend_after,
        notice=notice,
    )
