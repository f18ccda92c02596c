"""Requests waiting for a decision in the demo: one manual review (R5) and one unit registration
(P12), so that "待审核" and "注册审批" in the chat show something to decide. Written as the API writes
them (encrypted details, the review's image on disk), not through its actions, which need a
captcha and an SMS code."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from backend.accounts.models import Account, Membership
from backend.core import identifiers, runtime
from backend.core.passwords import generate_temporary_password, hash_password_sync
from backend.registration.models import UnitRegistration
from backend.reviews import storage
from backend.reviews.images import CheckedImage
from backend.reviews.models import ReviewKind, ReviewRequest
from backend.units.models import Unit, UnitType

REVIEW_ACCOUNT = "demo_village_clerk"  # lost the phone bound to the account
REVIEW_PHONE = "13700009001"  # the requester's new phone (137: no demo account has one)
REVIEW_STATEMENT = "原来绑定的手机号已经停用，收不到验证码，申请人工审核重置密码。"
REGISTRATION = {
    "unit_name": "白沙镇蜂蜜养殖专业合作社",
    "legal_rep_name": "欧阳建华",
    "admin_username": "bsfm_admin",
    "admin_name": "欧阳小燕",
    "admin_phone": "13700009002",
    "legal_rep_birth": "19750315",
}


def _credit_code(region_code: str) -> str:
    """A valid unified social credit code for a farmers' co-op (93) registered in the region."""
    org8 = "MA0DEM01"
    first17 = "93" + region_code[:6] + org8 + identifiers.org_code_check_char(org8)
    return first17 + identifiers.credit_code_check_char(first17)


def _id_photo() -> CheckedImage:
    """A stand-in for the photo of an ID card: a plain card-shaped PNG."""
    image = Image.new("RGB", (428, 270), (236, 240, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 12, 415, 257), outline=(120, 130, 150), width=3)
    draw.rectangle((300, 50, 390, 160), fill=(200, 206, 216))
    for y in (60, 100, 140, 200):
        draw.line((40, y, 260, y), fill=(150, 158, 172), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return CheckedImage(data=out.getvalue(), mime="image/png", extension="png")


async def add_pending_requests(superior: Unit) -> None:
    """One pending manual review of a village clerk and one co-op's registration asking to join
    ``superior`` (the demo's 白沙镇)."""
    rt = runtime.get()
    vault, now = rt.vault, rt.clock.now()
    account = await Account.get(username=REVIEW_ACCOUNT)
    membership = await Membership.filter(account_id=account.id).select_related("unit").first()
    assert membership is not None
    id_number = vault.decrypt("account.id_number", account.id_number_enc or "")
    images = await storage.save([_id_photo()])
    await ReviewRequest.create(
        kind=ReviewKind.PASSWORD,
        unit_id=membership.unit.id,
        account_id=account.id,
        name=account.name,
        id_number_enc=vault.encrypt("review.id_number", id_number),
        id_number_index=vault.index("id_number", id_number),
        phone_enc=vault.encrypt("review.phone", REVIEW_PHONE),
        phone_index=vault.index("phone", REVIEW_PHONE),
        statement=REVIEW_STATEMENT,
        images=images,
        created_at=now,
    )
    region = superior.region_code or "530000000000"
    credit_code = _credit_code(region)
    first17 = region[:6] + REGISTRATION["legal_rep_birth"] + "901"
    legal_rep_id = first17 + identifiers.id_number_check_char(first17)
    await UnitRegistration.create(
        parent_id=superior.id,
        unit_name=REGISTRATION["unit_name"],
        unit_type=UnitType.COOP,
        credit_code=credit_code,
        org_code=credit_code[8:17],
        region_code=region,
        legal_rep_name=REGISTRATION["legal_rep_name"],
        legal_rep_id_enc=vault.encrypt("registration.legal_rep_id", legal_rep_id),
        legal_rep_id_index=vault.index("id_number", legal_rep_id),
        admin_username=REGISTRATION["admin_username"],
        admin_name=REGISTRATION["admin_name"],
        admin_phone_enc=vault.encrypt("registration.admin_phone", REGISTRATION["admin_phone"]),
        admin_phone_index=vault.index("phone", REGISTRATION["admin_phone"]),
        admin_password_hash=hash_password_sync(generate_temporary_password()),
        created_at=now,
    )
