"""R5: approving a manual review while a parallel request changes what the approval is about (the
unit's admin account, the account, the requester's phone login, the admin's user name, the request
itself) answers for the reason that holds, and leaves the request pending when nothing was done.

On PostgreSQL the other request can commit between the approval's reads (the plan the approver saw)
and its writes. SQLite runs one transaction at a time, so here the other change commits just as the
approval's transaction opens, and a look inside it answers as it would have a moment before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tortoise.exceptions import IntegrityError

from backend.accounts import actions as account_actions
from backend.accounts.models import Account, Membership
from backend.core import runtime, sms
from backend.core.actor import Actor
from backend.core.audit import AuditEntry
from backend.core.errors import Conflict
from backend.core.roles import FinanceAccess, Role
from backend.core.sms import SmsMessage
from backend.reviews import actions as review_actions
from backend.reviews import messages as review_msg
from backend.reviews.models import ReviewRequest
from backend.units import actions as unit_actions
from backend.units.models import Unit, UnitType
from tests.factories import (
    PASSWORD,
    Tree,
    admin_actor,
    commits_just_before_the_next_transaction,
    first_look_made_before_the_commit,
    login,
    make_account,
    make_tree,
    make_unit,
    phone_login_taken_meanwhile,
)
from tests.test_reviews import CREDIT_CODE, REQUEST_PHONE, inbox, submit

ADMIN_NAME = f"{CREDIT_CODE}_ADMIN"


async def _coop(tree: Tree) -> Unit:
    """A co-op below the village, with the credit code the unit requests give."""
    coop = await make_unit("青山种植合作社", UnitType.COOP, tree.child)
    await Unit.filter(id=coop.id).update(credit_code=CREDIT_CODE)
    return coop


async def _review(client: httpx.AsyncClient, ip: str = "10.9.0.1", **fields: str) -> ReviewRequest:
    answer = await submit(client, ip=ip, **fields)
    assert answer.status_code == 202, answer.text
    return await ReviewRequest.all().order_by("-id").first()


@dataclass(frozen=True)
class ClerkRequest:
    """A clerk of 王家湾村 asked for a new password; the town's admin (logged in) and the county's
    admin (an actor) may decide it."""

    tree: Tree
    target: Account
    review: ReviewRequest
    county: Actor
    town_admin: Account
    headers: dict[str, str]


async def _clerk_request(client: httpx.AsyncClient) -> ClerkRequest:
    tree = await make_tree()
    target = await make_account("forgetful", tree.child, Role.CLERK)
    review = await _review(client)
    county = await _county(tree)
    town_admin = await make_account("town_admin", tree.own, role=Role.ADMIN)
    return ClerkRequest(tree, target, review, county, town_admin, await login(client, "town_admin"))


async def _county(tree: Tree) -> Actor:
    """The county's admin: decides and deactivates for everything below."""
    county = await make_account("county_admin", tree.parent, role=Role.ADMIN)
    return admin_actor(county, await Membership.get(account_id=county.id), tree.parent)


async def _approve(client: httpx.AsyncClient, review: ReviewRequest, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"/api/reviews/{review.id}/approve", headers=headers)


def _error(answer: httpx.Response) -> tuple[int, str, str]:
    return answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["message"]


async def _nothing_approved(review: ReviewRequest) -> None:
    assert (await ReviewRequest.get(id=review.id)).status == "pending"
    assert not await SmsMessage.exists(template="review_approved")
    assert not await AuditEntry.exists(action="review.approve")


async def _admins_of(unit: Unit) -> list[str]:
    admins = await Account.filter(memberships__unit_id=unit.id, memberships__role=Role.ADMIN).order_by("id")
    return [a.username for a in admins]


# The unit's admin user name or the requester's phone login taken meanwhile ----------------------


async def test_a_unit_request_whose_admin_user_name_was_taken_meanwhile_makes_the_admin_under_the_next_free_name(
    client, monkeypatch
):
    tree = await make_tree()
    coop = await _coop(tree)
    review = await _review(client, kind="unit")
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    first_look_made_before_the_commit(monkeypatch, "free_username", lambda wanted: wanted)

    async def an_admin_creates_that_name() -> None:
        await make_account(ADMIN_NAME, tree.own)

    commits_just_before_the_next_transaction(monkeypatch, an_admin_creates_that_name)
    answer = await _approve(client, review, headers)
    assert answer.status_code == 200 and answer.json()["status"] == "approved", answer.text
    assert await _admins_of(coop) == [f"{ADMIN_NAME}_2"]
    taken = await Account.get(username_key=ADMIN_NAME.lower())
    assert await Membership.filter(account_id=taken.id).values_list("unit_id", flat=True) == [tree.own.id]
    [message] = await inbox(client, REQUEST_PHONE)
    assert message["template"] == "review_approved" and f"{ADMIN_NAME}_2" in message["text"]
    made = await Account.get(username_key=f"{ADMIN_NAME}_2".lower())
    assert (await AuditEntry.get(action="review.approve")).detail["account_id"] == made.id


@pytest.mark.parametrize("admin", ["none", "existing"])
async def test_approving_a_unit_request_whose_phone_login_another_account_took_meanwhile_hands_over_without_it(
    client, monkeypatch, admin
):
    tree = await make_tree()
    coop = await _coop(tree)
    if admin == "existing":
        await make_account("coop_admin", coop, role=Role.ADMIN, phone="13800007777")
    other = await make_account("other", tree.own, phone=REQUEST_PHONE, phone_login=False)
    review = await _review(client, kind="unit")
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    index = phone_login_taken_meanwhile(monkeypatch, other, REQUEST_PHONE)
    answer = await _approve(client, review, headers)
    assert answer.status_code == 200 and answer.json()["status"] == "approved", answer.text
    [username] = await _admins_of(coop)
    assert username == ("coop_admin" if admin == "existing" else ADMIN_NAME)
    approved = await Account.get(username_key=username.lower())
    assert approved.phone_index == index and approved.login_phone_index is None
    assert (await Account.get(id=other.id)).login_phone_index == index
    assert await SmsMessage.filter(template="review_approved").count() == 1
    assert await AuditEntry.filter(action="review.approve").count() == 1


# The unit's admin account or the account made, handed on or deactivated meanwhile ---------------


async def test_two_unit_requests_approved_at_once_make_one_admin_and_leave_the_other_pending(client, monkeypatch):
    tree = await make_tree()
    coop = await _coop(tree)  # no admin account: each approval would make one
    review = await _review(client, kind="unit")
    other_review = await _review(client, ip="10.9.0.2", kind="unit", name="李四", statement="原负责人已离职")
    county = await _county(tree)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")

    async def county_approves_the_other() -> None:
        await review_actions.approve_review(county, other_review.id)

    commits_just_before_the_next_transaction(monkeypatch, county_approves_the_other)
    answer = await _approve(client, review, headers)
    assert _error(answer) == (409, "unit_admin_changed", review_msg.UNIT_ADMIN_CHANGED), answer.text
    assert await _admins_of(coop) == [ADMIN_NAME]
    assert (await Account.get(username_key=ADMIN_NAME.lower())).name == "李四"
    assert (await ReviewRequest.get(id=review.id)).status == "pending"
    assert (await ReviewRequest.get(id=other_review.id)).status == "approved"
    assert await SmsMessage.filter(template="review_approved").count() == 1
    assert await AuditEntry.filter(action="review.approve").count() == 1


async def test_approving_a_request_whose_account_was_deactivated_meanwhile_is_refused_and_stays_pending(
    client, monkeypatch
):
    request = await _clerk_request(client)
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: account_actions.deactivate_account(request.county, request.target.id)
    )
    answer = await _approve(client, request.review, request.headers)
    assert _error(answer) == (409, "review_target_gone", review_msg.TARGET_GONE), answer.text
    await _nothing_approved(request.review)
    kept = await Account.get(id=request.target.id)
    assert not kept.is_active and await runtime.get().hasher.verify(PASSWORD, kept.password_hash)


async def test_a_unit_request_whose_admin_account_was_deactivated_meanwhile_is_refused_not_handed_over(
    client, monkeypatch
):
    tree = await make_tree()
    coop = await _coop(tree)
    coop_admin = await make_account("coop_admin", coop, role=Role.ADMIN, phone="13800007777")
    review = await _review(client, kind="unit")
    county = await _county(tree)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    commits_just_before_the_next_transaction(
        monkeypatch, lambda: account_actions.deactivate_account(county, coop_admin.id)
    )
    answer = await _approve(client, review, headers)
    assert _error(answer) == (409, "unit_admin_changed", review_msg.UNIT_ADMIN_CHANGED), answer.text
    await _nothing_approved(review)
    kept = await Account.get(id=coop_admin.id)
    assert not kept.is_active and kept.phone_index == runtime.get().vault.index("phone", "13800007777")
    assert kept.name == "测试coop_admin" and kept.id_number_index is None


# Races the code already settles (kept as guards) ------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_a_request_decided_by_another_admin_meanwhile_is_already_decided_and_done_once(
    client, monkeypatch, decision
):
    tree = await make_tree()
    coop = await _coop(tree)
    review = await _review(client, kind="unit")
    county = await _county(tree)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    other: dict[str, Callable[[], Awaitable[Any]]] = {
        "approve": lambda: review_actions.approve_review(county, review.id),
        "reject": lambda: review_actions.reject_review(county, review.id, reason="资料不全"),
    }
    commits_just_before_the_next_transaction(monkeypatch, other[decision])
    answer = await _approve(client, review, headers)
    assert _error(answer) == (409, "review_decided", review_msg.ALREADY_DECIDED), answer.text
    assert (await ReviewRequest.get(id=review.id)).status == ("approved" if decision == "approve" else "rejected")
    assert await _admins_of(coop) == ([ADMIN_NAME] if decision == "approve" else [])
    assert await SmsMessage.filter(template__in=["review_approved", "review_rejected"]).count() == 1
    assert await AuditEntry.filter(action__in=["review.approve", "review.reject"]).count() == 1


async def test_a_unit_with_a_request_cannot_be_deleted_so_its_approval_goes_through(client, monkeypatch):
    tree = await make_tree()
    coop = await _coop(tree)  # empty: nothing but the request holds it
    review = await _review(client, kind="unit")
    county = await _county(tree)
    await make_account("town_admin", tree.own, role=Role.ADMIN)
    headers = await login(client, "town_admin")
    refused: list[str] = []

    async def county_deletes_the_unit() -> None:
        try:
            await unit_actions.delete_unit(county, coop.id)
        except Conflict as exc:
            refused.append(exc.code)

    commits_just_before_the_next_transaction(monkeypatch, county_deletes_the_unit)
    answer = await _approve(client, review, headers)
    assert answer.status_code == 200, answer.text
    assert refused == ["unit_not_empty"]
    assert await _admins_of(coop) == [ADMIN_NAME]


async def test_an_integrity_error_of_no_known_cause_approving_is_raised_and_the_request_stays_pending(
    client, monkeypatch
):
    tree = await make_tree()
    await _coop(tree)
    review = await _review(client, kind="unit")
    county = await _county(tree)

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(sms, "queue", refused)
    with pytest.raises(IntegrityError):
        await review_actions.approve_review(county, review.id)
    assert (await ReviewRequest.get(id=review.id)).status == "pending"
    assert not await Account.exists(username_key=ADMIN_NAME.lower())
    assert not await AuditEntry.exists(action="review.approve")


# The decider's own rights, or the account's roles, changed meanwhile ---------------------------


async def _decide(client: httpx.AsyncClient, review: ReviewRequest, headers: dict[str, str], decision: str):
    if decision == "approve":
        return await _approve(client, review, headers)
    return await client.post(f"/api/reviews/{review.id}/reject", headers=headers, json={"reason": "资料不全"})


async def _nothing_decided(review: ReviewRequest, target: Account) -> None:
    assert (await ReviewRequest.get(id=review.id)).status == "pending"
    assert not await SmsMessage.exists(template__in=["review_approved", "review_rejected"])
    assert not await AuditEntry.exists(action__in=["review.approve", "review.reject"])
    assert await runtime.get().hasher.verify(PASSWORD, (await Account.get(id=target.id)).password_hash)


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("change", ["demoted", "membership_removed", "deactivated"])
async def test_a_decision_by_an_admin_whose_rights_were_taken_meanwhile_is_refused_and_the_request_stays_pending(
    client, monkeypatch, change, decision
):
    request = await _clerk_request(client)  # the session's unit: 白沙镇, as admin
    await Membership.create(
        account_id=request.town_admin.id,
        unit_id=request.tree.sibling.id,
        role=Role.VIEWER,
        created_at=runtime.get().clock.now(),
    )
    takes: dict[str, Callable[[], Awaitable[Any]]] = {
        "demoted": lambda: account_actions.set_membership(
            request.county,
            request.town_admin.id,
            unit_id=request.tree.own.id,
            role=Role.CLERK,
            finance_access=FinanceAccess.NONE,
        ),
        "membership_removed": lambda: account_actions.remove_membership(
            request.county, request.town_admin.id, unit_id=request.tree.own.id
        ),
        "deactivated": lambda: account_actions.deactivate_account(request.county, request.town_admin.id),
    }
    commits_just_before_the_next_transaction(monkeypatch, takes[change])
    answer = await _decide(client, request.review, request.headers, decision)
    assert _error(answer) == (403, "approver_changed", review_msg.APPROVER_CHANGED), answer.text
    await _nothing_decided(request.review, request.target)


async def test_approving_a_request_whose_account_was_given_a_role_the_approver_cannot_manage_meanwhile_is_refused(
    client, monkeypatch
):
    request = await _clerk_request(client)

    async def county_makes_it_an_admin_of_the_town() -> None:  # the town admin's peer now
        await account_actions.set_membership(
            request.county,
            request.target.id,
            unit_id=request.tree.own.id,
            role=Role.ADMIN,
            finance_access=FinanceAccess.NONE,
        )

    commits_just_before_the_next_transaction(monkeypatch, county_makes_it_an_admin_of_the_town)
    answer = await _approve(client, request.review, request.headers)
    assert _error(answer) == (403, "cannot_manage", review_msg.CANNOT_MANAGE), answer.text
    await _nothing_decided(request.review, request.target)


async def test_an_admin_whose_unit_was_moved_meanwhile_still_decides_for_the_units_that_moved_with_it(
    client, monkeypatch
):
    """The re-check reads the approver's unit and the request's afresh, both moved: no false refusal."""
    request = await _clerk_request(client)
    # a township moves only below a county or higher: the tree goes up a level around it
    await Unit.filter(id=request.tree.parent.id).update(type=UnitType.CITY)
    await Unit.filter(id=request.tree.sibling.id).update(type=UnitType.COUNTY)
    commits_just_before_the_next_transaction(
        monkeypatch,
        lambda: unit_actions.move_unit(request.county, request.tree.own.id, new_parent_id=request.tree.sibling.id),
    )
    answer = await _approve(client, request.review, request.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "approved", answer.text
    assert not await runtime.get().hasher.verify(PASSWORD, (await Account.get(id=request.target.id)).password_hash)
