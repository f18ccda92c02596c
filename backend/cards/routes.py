"""One's own card: unbind it, and activate an account a card login created (C5, C6)."""

from __future__ import annotations

from sanic import Blueprint, Request

from backend.auth.guard import Caller, authenticated
from backend.cards import actions
from backend.cards.schemas import ActivateRequest
from backend.core.http import no_content
from backend.core.validation import body

bp = Blueprint("cards", url_prefix="/api/profile")


@bp.delete("/card")
@authenticated(unit=False)
async def unbind_card(request: Request, caller: Caller):
    """Unbind one's own card (binding again needs the card at an office PC)."""
    await actions.unbind_own(caller.account, origin=caller.origin, session_id=caller.session.public_id)
    return no_content()


@bp.post("/activate")
@authenticated(unit=False)
@body(ActivateRequest)
async def activate(request: Request, caller: Caller, data: ActivateRequest):
    """Set the first password of an account a card login created; then password login works too."""
    await actions.activate(caller.account, new_password=data.new_password, origin=caller.origin)
    return no_content()
