"""R4, R5: an account handed to another person, or given a temporary password that goes to another
phone, tells its previous bound phone in the same transaction; nothing when the phone is the same."""

from __future__ import annotations

import pytest

from backend.accounts import people
from backend.accounts.models import Account
from backend.core import db, runtime
from backend.core.roles import Role
from backend.units.models import Unit, UnitType
from backend.wechat import releases as wechat_releases
from tests.factories import make_account, make_tree, make_unit
from tests.test_recovery import OTHER_ID, _code, _unit_recovery, _unit_with_legal_rep
from tests.test_reviews import ACCOUNT_PHONE, CREDIT_CODE, REQUEST_PHONE, admin_of, env, inbox, only_review, submit

__all__ = ["env"]  # the fixture, shared with test_reviews

OLD_PHONE = "13600005555"
NEW_PHONE = "13600006666"
LEGAL_REP = {"identity": "legal_rep", "name": "王法人", "id_number": OTHER_ID}


async def _recover_unit(client, new_phone: str) -> None:
    sent = await _unit_recovery(client, LEGAL_REP, new_phone)
    assert sent.status_code == 200, sent.text
    done = await client.post(
        "/api/recovery/unit/verify", json={"ticket": sent.json()["ticket"], "code": await _code(client, new_phone)}
    )
    assert done.status_code == 200, done.text


async def test_unit_recovery_tells_the_previous_bound_phone_that_its_account_was_handed_over(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, Role.ADMIN, phone=OLD_PHONE)
    await _recover_unit(client, NEW_PHONE)
    [notice] = await inbox(client, OLD_PHONE)
    assert notice["template"] == "account_handed_over"
    assert "village_boss" in notice["text"] and "交由他人" in notice["text"] and "联系上级单位管理员" in notice["text"]
    assert NEW_PHONE not in notice["text"] and "临时密码" not in notice["text"]
    assert [m["template"] for m in await inbox(client, NEW_PHONE)] == ["unit_recovered", "code_unit_recovery"]


async def test_unit_recovery_to_the_bound_phone_itself_sends_no_hand_over_notice(client):
    tree = await make_tree()
    await _unit_with_legal_rep(tree)
    await make_account("village_boss", tree.child, Role.ADMIN, phone=OLD_PHONE)
    await _recover_unit(client, OLD_PHONE)
    assert [m["template"] for m in await inbox(client, OLD_PHONE)] == ["unit_recovered", "code_unit_recovery"]


@pytest.mark.parametrize("kind", ["password", "username"])
async def test_an_approved_review_tells_the_bound_phone_its_password_was_reset(client, env, kind):
    if kind == "username":  # found by the phone on file: then moved to another one before the decision
        assert (await submit(client, kind=kind, phone=ACCOUNT_PHONE)).status_code == 202
        await _change_phone(env.target.id, "13800008888")
        bound = "13800008888"
    else:
        assert (await submit(client, kind=kind)).status_code == 202
        bound = ACCOUNT_PHONE
    review = await only_review()
    county = await admin_of(client, env.tree.parent, "county_admin")
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=county)).status_code == 200
    [notice] = await inbox(client, bound)
    assert notice["template"] == "password_reset_by_review"
    assert "forgetful" in notice["text"] and "人工审核" in notice["text"] and "联系上级单位管理员" in notice["text"]
    assert "临时密码" in notice["text"] and not any(ch.isdigit() for ch in notice["text"])  # no password, no phone


async def test_an_approved_unit_review_tells_the_previous_admins_phone_that_its_account_was_handed_over(client, env):
    coop = await make_unit("青山种植合作社", UnitType.COOP, env.tree.child)
    await Unit.filter(id=coop.id).update(credit_code=CREDIT_CODE, legal_rep_name="张三")
    await make_account("coop_admin", coop, Role.ADMIN, phone="13800007777")
    assert (await submit(client, kind="unit")).status_code == 202
    village = await admin_of(client, env.tree.child, "village_admin")
    review = await only_review()
    assert (await client.post(f"/api/reviews/{review.id}/approve", headers=village)).status_code == 200
    [notice] = await inbox(client, "13800007777")
    assert notice["template"] == "account_handed_over" and "coop_admin" in notice["text"]
    assert [m["template"] for m in await inbox(client, REQUEST_PHONE)] == ["review_approved"]


async def test_a_temporary_password_sent_to_the_bound_phone_itself_sends_no_notice(client, env):
    async with db.atomic():
        await people.set_temporary_password(
            env.target.id, "hash", reason=wechat_releases.Reason.REVIEW_RESET, sent_to=ACCOUNT_PHONE
        )
    assert await inbox(client, ACCOUNT_PHONE) == []


async def test_an_admins_reset_sends_the_bound_phone_its_password_and_no_other_notice(client, env):
    admin = await admin_of(client, env.tree.child, "village_admin")
    reset = await client.post(f"/api/accounts/{env.target.id}/reset-password", headers=admin)
    assert reset.status_code in (200, 204), reset.text
    assert [m["template"] for m in await inbox(client, ACCOUNT_PHONE)] == ["password_reset"]


async def test_the_notice_is_not_queued_when_the_hand_over_is_rolled_back(client):
    tree = await make_tree()
    boss = await make_account("village_boss", tree.child, Role.ADMIN, phone=OLD_PHONE)
    password = await people.temporary_password()
    with pytest.raises(RuntimeError):
        async with db.atomic():
            await people.hand_over(boss, name="新经办", phone=NEW_PHONE, id_number=None, password=password)
            raise RuntimeError("the caller's transaction fails after the hand-over")
    assert await inbox(client, OLD_PHONE) == []
    async with db.atomic():
        await people.hand_over(boss, name="新经办", phone=NEW_PHONE, id_number=None, password=password)
    assert [m["template"] for m in await inbox(client, OLD_PHONE)] == ["account_handed_over"]


async def _change_phone(account_id: int, phone: str) -> None:
    vault = runtime.get().vault
    await Account.filter(id=account_id).update(
        phone_enc=vault.encrypt("account.phone", phone),
        phone_index=vault.index("phone", phone),
        login_phone_index=vault.index("phone", phone),
    )
