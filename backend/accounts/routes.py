"""Account management by the admins of superior units (thin: parse, call, serialise)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic_ext.extensions.openapi import openapi

from backend.accounts import actions, queries
from backend.accounts.schemas import (
    AccountCreate,
    AccountListQuery,
    AccountOut,
    AccountPage,
    AccountUpdate,
    MembershipOut,
    MembershipSet,
    RevealOut,
    RevealRequest,
)
from backend.accounts.serializers import account_out, account_row, membership_out
from backend.auth.guard import authenticated
from backend.core import runtime
from backend.core.actor import Actor
from backend.core.http import no_content, ok
from backend.core.validation import body, query

bp = Blueprint("accounts", url_prefix="/api/accounts")


async def _account_out(actor: Actor, account_id: int) -> AccountOut:
    account = await queries.get_account(actor, account_id)
    memberships = await queries.visible_memberships(actor, account_id)
    bindings = await queries.bindings_of(account_id)
    return account_out(account, memberships, runtime.get().clock.now(), bindings)


@bp.get("/")
@openapi.response(200, {"application/json": AccountPage})
@authenticated("accounts.view")
@query(AccountListQuery)
async def list_accounts(request: Request, actor: Actor, params: AccountListQuery):
    """Who holds which role in which unit, within the actor's scope."""
    page = await queries.list_accounts(
        actor,
        unit_id=params.unit_id,
        search=params.q,
        status=params.status,
        cursor=params.cursor,
        limit=params.limit,
    )
    now = runtime.get().clock.now()
    return ok(
        AccountPage(items=[account_row(m, now) for m in page.items], total=page.total, next_cursor=page.next_cursor)
    )


@bp.post("/")
@openapi.response(201, {"application/json": AccountOut})
@authenticated("accounts.manage")
@body(AccountCreate)
async def create_account(request: Request, actor: Actor, data: AccountCreate):
    """Create an account; its random temporary password is sent by SMS and must be changed at first login."""
    account = await actions.create_account(actor, **data.model_dump())
    return ok(await _account_out(actor, account.id), status=201)


@bp.get("/<account_id:id>")
@openapi.response(200, {"application/json": AccountOut})
@authenticated("accounts.view")
async def get_account(request: Request, actor: Actor, account_id: int):
    return ok(await _account_out(actor, account_id))


@bp.patch("/<account_id:id>")
@openapi.response(200, {"application/json": AccountOut})
@authenticated("accounts.manage")
@body(AccountUpdate)
async def update_account(request: Request, actor: Actor, account_id: int, data: AccountUpdate):
    await actions.update_account(actor, account_id, data.model_dump(exclude_unset=True))
    return ok(await _account_out(actor, account_id))


@bp.put("/<account_id:id>/memberships")
@openapi.response(200, {"application/json": MembershipOut})
@authenticated("accounts.manage")
@body(MembershipSet)
async def set_membership(request: Request, actor: Actor, account_id: int, data: MembershipSet):
    """Give the account a role in a unit (adds the unit, or changes the role there); finance access
    not sent stays as it is (none in a unit added)."""
    membership = await actions.set_membership(actor, account_id, **data.model_dump(exclude_unset=True))
    await membership.fetch_related("unit")
    return ok(membership_out(membership))


@bp.delete("/<account_id:id>/memberships/<unit_id:id>")
@authenticated("accounts.manage")
async def remove_membership(request: Request, actor: Actor, account_id: int, unit_id: int):
    await actions.remove_membership(actor, account_id, unit_id=unit_id)
    return no_content()


@bp.post("/<account_id:id>/reset-password")
@authenticated("accounts.manage")
async def reset_password(request: Request, actor: Actor, account_id: int):
    """A new temporary password goes to the account's phone by SMS; its sessions end."""
    await actions.reset_password(actor, account_id)
    return no_content()


@bp.post("/<account_id:id>/unlock")
@authenticated("accounts.manage")
async def unlock(request: Request, actor: Actor, account_id: int):
    await actions.unlock_account(actor, account_id)
    return no_content()


@bp.post("/<account_id:id>/deactivate")
@authenticated("accounts.manage")
async def deactivate(request: Request, actor: Actor, account_id: int):
    """Deactivate for good; the user name is never issued again."""
    await actions.deactivate_account(actor, account_id)
    return no_content()


@bp.delete("/<account_id:id>/wechat")
@authenticated("accounts.manage")
async def unbind_wechat(request: Request, actor: Actor, account_id: int):
    """Remove the account's WeChat identity (a lost or handed-on phone); its next wx.login binds anew."""
    await actions.unbind_wechat(actor, account_id)
    return no_content()


@bp.delete("/<account_id:id>/card")
@authenticated("accounts.manage")
async def unbind_card(request: Request, actor: Actor, account_id: int):
    """Remove the account's smart card (lost, or never replaced); only an admin with a card of their own."""
    await actions.unbind_card(actor, account_id)
    return no_content()


@bp.post("/<account_id:id>/reveal")
@openapi.response(200, {"application/json": RevealOut})
@authenticated("accounts.reveal")
@body(RevealRequest)
async def reveal(request: Request, actor: Actor, account_id: int, data: RevealRequest):
    """The unmasked value of one personal field; every call is written to the audit log."""
    value = await actions.reveal(actor, account_id, field=data.field)
    return ok(RevealOut(field=data.field, value=value))


@bp.delete("/<account_id:id>/sessions")
@authenticated("accounts.manage")
async def end_sessions(request: Request, actor: Actor, account_id: int):
    """End every session of the account."""
    await actions.end_sessions(actor, account_id)
    return no_content()
