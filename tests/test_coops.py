"""D1 co-op info cards: the card actions, the finance rule, the queries (REST and chat), and scope."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backend.coops import actions, queries
from backend.coops.finance import average_fen, fen_from_wan, wan
from backend.coops.models import CoopCard
from backend.core import db, runtime
from backend.core.audit import AuditEntry
from backend.core.errors import AppError, ValidationFailed
from backend.core.roles import FinanceAccess, Role
from backend.units.models import Unit, UnitType
from tests.coops_helpers import (
    actor_at,
    blocks,
    chat,
    coop_card,
    expected_rollups,
    fields,
    login_at,
    make_world,
    stored_rollups,
)
from tests.factories import make_unit

NO = "无权限"


def test_money_is_whole_fen_inside_and_wan_with_two_decimals_outside():
    from decimal import Decimal

    assert fen_from_wan(Decimal("123.456789")) == 123_456_789
    assert fen_from_wan(Decimal("0.0000001")) is None
    # exactly, not in a 28-digit context that rounds the excess away and calls it whole
    assert fen_from_wan(Decimal("12.3400000000000000000000000000001")) is None
    assert fen_from_wan(Decimal("1e-999999999999")) is None
    assert fen_from_wan(Decimal("-1.5")) == -1_500_000 and fen_from_wan(Decimal("100E-2")) == 1_000_000
    assert fen_from_wan(Decimal("0E-1000")) == 0 and fen_from_wan(Decimal("100000000")) == 100_000_000_000_000
    assert fen_from_wan(Decimal("NaN")) is None and fen_from_wan(Decimal("Infinity")) is None
    # an average is rounded once: 0.0049995 万元 is 0.00, not 0.005 (whole fen) and then 0.01
    assert wan(average_fen(9_999, 2)) == "0.00" and wan(average_fen(10_000, 2)) == "0.01"
    assert wan(average_fen(-10_000, 2)) == "-0.01" and average_fen(5, 0) == 0
    assert wan(123_456_789) == "123.46" and wan(-1_500_000) == "-1.50" and wan(0) == "0.00"
    assert wan(5_000) == "0.01"  # half a 0.01 万元 rounds up


def test_wan_rounds_as_decimal_does_halves_away_from_zero():
    import random
    from decimal import ROUND_HALF_UP, Decimal

    rng = random.Random(4)
    edges = [0, 1, -1, 4_999, 5_000, -4_999, -5_000, 9_999, 10_000, 995_000, -995_000, 10**15 + 5_000]
    for fen in edges + [rng.randint(-(10**13), 10**13) for _ in range(5_000)]:
        expected = str((Decimal(fen) / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        assert wan(fen) == ("0.00" if expected == "-0.00" else expected), fen
    assert wan(-1) == "0.00" and wan(-5_000) == "-0.01"  # no "-0.00" for a loss too small to show


async def test_clerk_creates_a_card_with_audit_entry_rollups_and_a_masked_phone(client):
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    response = await client.post(
        "/api/coops/",
        headers=clerk,
        json={
            "unit_id": w.bare.id,
            "members": 40,
            "staff": 2,
            "registered_capital": 10,
            "assets": "12.345",
            "revenue": 3,
            "profit": -0.5,
            "contact_name": "李秀英",
            "contact_phone": "13700001111",
            "address": "李家坪村一组",
            "is_village_level": True,
        },
    )
    assert response.status_code == 201, response.text
    card = response.json()
    assert card["name"] == "李家坪综合社" and card["region_name"] == "李家坪村"
    assert card["assets"] == "12.35" and card["profit"] == "-0.50" and card["money_unit"] == "万元"
    assert card["contact_phone"] == "137****1111"
    stored = await CoopCard.get(unit_id=w.bare.id)
    assert stored.assets_fen == 12_345_000 and "13700001111" not in (stored.contact_phone_enc or "")
    assert runtime.get().vault.decrypt("coop.contact_phone", stored.contact_phone_enc) == "13700001111"
    entry = await AuditEntry.get(action="coop.card.create", target_id=str(w.bare.id))
    assert entry.scope_path == w.bare.path and "13700001111" not in str(entry.detail)
    assert await stored_rollups() == await expected_rollups()  # every ancestor, the county included


async def test_viewers_read_cards_but_only_clerks_and_admins_write_them(client):
    w = await make_world()
    viewer = await login_at(client, "town_viewer", w.town)
    assert (await client.get(f"/api/coops/{w.tea.id}", headers=viewer)).status_code == 200
    assert (await client.post("/api/coops/", headers=viewer, json={"unit_id": w.bare.id})).status_code == 403
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=viewer, json={"members": 1})).status_code == 403
    assert (await client.delete(f"/api/coops/{w.tea.id}", headers=viewer)).status_code == 403
    admin = await login_at(client, "village_admin", w.village, Role.ADMIN)
    assert (await client.patch(f"/api/coops/{w.tea.id}", headers=admin, json={"members": 1})).status_code == 200


async def test_a_co_op_office_line_with_its_area_code_is_a_contact_phone(client):
    """Co-op offices give fixed lines (0871-65150432): only an 11-digit mobile was taken."""
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    for line, shown in (
        ("0871-65150432", "0871-****0432"),
        ("087165150432", "087****0432"),
        ("010-1234567-801", "010-****4567"),
    ):
        response = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"contact_phone": line})
        assert response.status_code == 200, response.text
        assert response.json()["contact_phone"] == shown


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"members": -1}, "members"),
        ({"members": "5"}, "members"),
        ({"assets": 1.0000001}, "assets"),
        ({"assets": "12.3400000000000000000000000000001"}, "assets"),  # not rounded to 12.34
        ({"assets": "1e-999999999"}, "assets"),  # not rounded to nothing
        ({"assets": -2}, "assets"),
        ({"latitude": 25.0}, "longitude"),
        ({"longitude": 102.0}, "latitude"),
        ({"latitude": 95, "longitude": 102}, "latitude"),
        ({"latitude": 0, "longitude": 0}, "latitude"),  # a pin off the coast of Africa
        ({"latitude": 25.04, "longitude": 12.71}, "longitude"),  # 102.71 with a digit lost
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_phone": "871-65150432"}, "contact_phone"),  # a fixed line without its leading 0
        ({"founded_year": 2090}, "founded_year"),
        ({"founded_year": 2020, "report_year": 2019}, "founded_year"),
        ({"contact_name": " \n"}, "contact_name"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_card_input_names_the_field_in_chinese_and_changes_nothing(client, payload, field):
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    before = await stored_rollups()
    response = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.bare.id, **payload})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in error["fields"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["fields"][field])
    assert not await CoopCard.filter(unit_id=w.bare.id).exists()
    assert not await AuditEntry.filter(action="coop.card.create", target_id=str(w.bare.id)).exists()
    assert await stored_rollups() == before


async def test_this_year_is_the_year_in_beijing(client, clock):
    """07:30 on 1 January in China is still 31 December in UTC: the new year's report was refused."""
    clock._now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK)
    accepted = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"report_year": 2027})
    assert accepted.status_code == 200, accepted.text
    refused = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"report_year": 2028})
    assert refused.status_code == 422 and "report_year" in refused.json()["error"]["fields"]


async def test_only_coop_units_get_a_card_and_only_one(client):
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK)
    not_coop = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.village.id})
    assert not_coop.status_code == 422 and "unit_id" in not_coop.json()["error"]["fields"]
    again = await client.post("/api/coops/", headers=clerk, json={"unit_id": w.tea.id})
    assert again.status_code == 409 and again.json()["error"]["code"] == "card_exists"


async def test_update_changes_only_the_fields_sent_and_moves_the_rollups_by_the_difference(client):
    w = await make_world()
    clerk = await login_at(client, "village_clerk", w.village, Role.CLERK, FinanceAccess.ALL)
    response = await client.patch(
        f"/api/coops/{w.tea.id}",
        headers=clerk,
        json={"assets": 200, "is_benchmark": False, "contact_phone": None, "latitude": None, "longitude": None},
    )
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["assets"] == "200.00" and card["members"] == 120 and card["contact_name"] == "王建国"
    assert card["contact_phone"] is None and card["latitude"] is None and card["is_benchmark"] is False
    assert await stored_rollups() == await expected_rollups()
    refused = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"members": None})
    assert refused.status_code == 422
    half = await client.patch(f"/api/coops/{w.tea.id}", headers=clerk, json={"latitude": 25.1})
    assert half.status_code == 422 and "longitude" in half.json()["error"]["fields"]
    entry = await AuditEntry.filter(action="coop.card.update").order_by("-id").first()
    assert entry is not None and entry.detail["fields"] == [
        "assets",
        "contact_phone",
        "is_benchmark",
        "latitude",
        "longitude",
    ]


async def test_money_is_written_only_by_a_clerk_who_may_see_it_on_that_card(client):
    w = await make_world()
    before = await stored_rollups()
    none = await login_at(client, "town_clerk", w.town, Role.CLERK)
    refused = await client.patch(f"/api/coops/{w.tea.id}", headers=none, json={"assets": 1, "members": 5})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "finance_required"
    assert set(refused.json()["error"]["fields"]) == {"assets"}
    zeroed = await client.patch(f"/api/coops/{w.tea.id}", headers=none, json={"profit": 0})
    assert zeroed.status_code == 403  # zero is a figure too
    created = await client.post("/api/coops/", headers=none, json={"unit_id": w.bare.id, "revenue": 3})
    assert created.status_code == 403 and not await CoopCard.filter(unit_id=w.bare.id).exists()
    own_town = await login_at(client, "own_town_clerk", w.town, Role.CLERK, FinanceAccess.OWN_REGION)
    village_coop = await client.patch(f"/api/coops/{w.tea.id}", headers=own_town, json={"assets": 1})
    assert village_coop.status_code == 403  # 王家湾村's co-op is not in the township's own region
    assert await stored_rollups() == before and not await AuditEntry.filter(action="coop.card.update").exists()
    plain = await client.patch(f"/api/coops/{w.tea.id}", headers=none, json={"members": 5})
    assert plain.status_code == 200 and plain.json()["assets"] == NO  # the rest of the card is theirs to write
    town_coop = await client.patch(f"/api/coops/{w.town_coop.id}", headers=own_town, json={"assets": 1})
    assert town_coop.status_code == 200 and town_coop.json()["assets"] == "1.00"


async def test_delete_removes_the_card_and_its_figures_from_every_rollup(client):
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    assert (await client.delete(f"/api/coops/{w.tea.id}", headers=clerk)).status_code == 204
    assert (await client.delete(f"/api/coops/{w.tea.id}", headers=clerk)).status_code == 404
    assert (await client.get(f"/api/coops/{w.tea.id}", headers=clerk)).status_code == 404
    assert await stored_rollups() == await expected_rollups()
    assert await AuditEntry.filter(action="coop.card.delete", target_id=str(w.tea.id)).exists()


async def test_a_card_with_money_is_deleted_only_by_someone_who_may_see_the_money(client):
    """A clerk without finance access may not write a card's money, but could delete the card and
    with it every figure (a new card then holds none they could set)."""
    w = await make_world()
    before = await stored_rollups()
    none = await login_at(client, "town_clerk", w.town, Role.CLERK)
    refused = await client.delete(f"/api/coops/{w.tea.id}", headers=none)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "finance_required"
    assert "财务权限" in refused.json()["error"]["message"]
    assert await CoopCard.filter(unit_id=w.tea.id).exists() and await stored_rollups() == before
    assert not await AuditEntry.filter(action="coop.card.delete").exists()
    plain = await client.post("/api/coops/", headers=none, json={"unit_id": w.bare.id, "members": 3})
    assert plain.status_code == 201, plain.text
    assert (await client.delete(f"/api/coops/{w.bare.id}", headers=none)).status_code == 204  # no money on it


async def test_a_coop_unit_with_a_card_cannot_be_deleted_but_one_without_can(client):
    w = await make_world()
    admin = await login_at(client, "county_admin", w.county, Role.ADMIN)
    refused = await client.delete(f"/api/units/{w.tea.id}", headers=admin)
    assert refused.status_code == 409 and await CoopCard.filter(unit_id=w.tea.id).exists()
    assert (await client.delete(f"/api/units/{w.bare.id}", headers=admin)).status_code == 204
    assert await stored_rollups() == await expected_rollups()


async def test_a_coop_with_a_card_keeps_its_type_but_one_without_may_change_it(client):
    """Retyped, a carded co-op stayed counted in every summary, and its card could be neither edited
    nor deleted (not a co-op any more) nor its unit deleted (it has a card)."""
    w = await make_world()
    admin = await login_at(client, "county_admin", w.county, Role.ADMIN)
    refused = await client.patch(f"/api/units/{w.tea.id}", headers=admin, json={"type": "school"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "coop_has_card"
    assert "信息卡" in refused.json()["error"]["fields"]["type"]
    assert (await Unit.get(id=w.tea.id)).type == UnitType.COOP
    renamed = await client.patch(f"/api/units/{w.tea.id}", headers=admin, json={"name": "王家湾村茶叶社"})
    assert renamed.status_code == 200
    retyped = await client.patch(f"/api/units/{w.bare.id}", headers=admin, json={"type": "school"})
    assert retyped.status_code == 200 and (await Unit.get(id=w.bare.id)).type == UnitType.SCHOOL
    assert await stored_rollups() == await expected_rollups()


async def test_nothing_of_a_sibling_township_is_reachable(client):
    w = await make_world()
    clerk = await login_at(client, "town_clerk", w.town, Role.CLERK, FinanceAccess.ALL)
    other = w.sibling_coop.id
    assert (await client.get(f"/api/coops/{other}", headers=clerk)).status_code == 404
    assert (await client.patch(f"/api/coops/{other}", headers=clerk, json={"members": 1})).status_code == 404
    assert (await client.delete(f"/api/coops/{other}", headers=clerk)).status_code == 404
    assert (await client.post("/api/coops/", headers=clerk, json={"unit_id": other})).status_code == 404
    for path, by_id, by_name in (
        ("/api/coops/", "region_id", "region"),
        ("/api/coops/stats", "region_id", "region"),
        ("/api/coops/map", "region_id", "region"),
        ("/api/coops/summary", "unit_id", "name"),
    ):
        assert (await client.get(path, headers=clerk, params={by_id: w.sibling.id})).status_code == 404
        assert (await client.get(path, headers=clerk, params={by_name: "桃源乡"})).status_code == 404
    listed = (await client.get("/api/coops/", headers=clerk, params={"limit": 200})).json()
    assert other not in {item["unit_id"] for item in listed["items"]} and listed["total"] == 3
    pins = (await client.get("/api/coops/map", headers=clerk)).json()["pins"]
    assert {p["unit_id"] for p in pins} == {w.tea.id}
    stats = (await client.get("/api/coops/stats", headers=clerk)).json()
    assert stats["totals"]["coops"] == 3 and stats["totals"]["poverty_county"] == 0
    reply = await chat(client, clerk, "贫困县基层社")
    assert blocks(reply, "notice") and not blocks(reply, "table")
    assert "刘家岭" not in str(await chat(client, clerk, "标杆社"))


async def test_finance_none_all_and_own_region_on_cards(client):
    w = await make_world()

    async def money(username, unit, finance, coop):
        headers = await login_at(client, username, unit, Role.VIEWER, finance)
        card = (await client.get(f"/api/coops/{coop.id}", headers=headers)).json()
        return card["assets"], card["money_visible"]

    assert await money("none", w.town, FinanceAccess.NONE, w.tea) == (NO, False)
    assert await money("all", w.town, FinanceAccess.ALL, w.tea) == ("123.46", True)
    # own_region: the co-op's nearest region ancestor must be the viewer's own unit
    assert await money("own_village", w.village, FinanceAccess.OWN_REGION, w.tea) == ("123.46", True)
    assert await money("own_town", w.town, FinanceAccess.OWN_REGION, w.tea) == (NO, False)
    assert await money("own_town2", w.town, FinanceAccess.OWN_REGION, w.town_coop) == ("500.00", True)
    assert await money("own_county", w.county, FinanceAccess.OWN_REGION, w.town_coop) == (NO, False)
    # a co-op's own account is not a region: own_region shows it nothing (give it "all" instead)
    assert await money("own_coop", w.tea, FinanceAccess.OWN_REGION, w.tea) == (NO, False)


async def test_own_region_reaches_a_coop_below_another_coop_in_the_same_village(client):
    w = await make_world()
    branch = await make_unit("茶叶社二分社", UnitType.COOP, w.tea)
    await coop_card(branch, assets=3)
    headers = await login_at(client, "own_village", w.village, Role.VIEWER, FinanceAccess.OWN_REGION)
    card = (await client.get(f"/api/coops/{branch.id}", headers=headers)).json()
    assert card["assets"] == "3.00" and card["region_name"] == "王家湾村"


async def test_a_coops_own_account_is_not_told_the_name_of_the_region_above_its_scope(client):
    w = await make_world()
    headers = await login_at(client, "tea_itself", w.tea, Role.VIEWER, FinanceAccess.ALL)
    card = (await client.get(f"/api/coops/{w.tea.id}", headers=headers)).json()
    assert card["assets"] == "123.46" and card["region_id"] is None and card["region_name"] is None
    listed = (await client.get("/api/coops", headers=headers)).json()["items"]
    assert [row["region_name"] for row in listed] == [None]
    in_chat = fields(blocks(await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id}), "card")[0])
    assert "王家湾村" not in in_chat.values()


async def test_the_card_in_chat_masks_money_and_phone_and_remembers_the_coop(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, intent="coop.card", params={"unit_id": w.tea.id})
    card = blocks(reply, "card")[0]
    values = fields(card)
    assert card["title"] == "王家湾村茶叶专业合作社" and reply["context"] == "王家湾村茶叶专业合作社"
    assert values["资产总额"] == NO and values["联系电话"] == "139****5678" and values["所属区域"] == "王家湾村"
    assert values["类别"] == "村级社、标杆社"
    by_name = await chat(client, headers, "王家湾村果蔬合作社的信息卡")
    assert blocks(by_name, "card")[0]["title"] == "王家湾村果蔬合作社"
    finance = await login_at(client, "town_all", w.town, Role.VIEWER, FinanceAccess.ALL)
    shown = fields(blocks(await chat(client, finance, intent="coop.card", params={"unit_id": w.tea.id}), "card")[0])
    assert shown["资产总额"] == "123.46 万元" and shown["利润"] == "-1.50 万元"
    outside = await chat(client, headers, intent="coop.card", params={"unit_id": w.sibling_coop.id})
    assert blocks(outside, "notice") and "刘家岭" not in str(outside)
    bad = await chat(client, headers, intent="coop.card", params={"unit_id": "x"})
    assert blocks(bad, "notice")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("村级社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("标杆社", {"王家湾村茶叶专业合作社", "白沙镇供销社"}),
        ("王家湾村的标杆社", {"王家湾村茶叶专业合作社"}),
        ("村级社 王家湾村", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("合作社列表", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社", "白沙镇供销社"}),
        ("王家湾村的合作社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        # as cadres type them: "有哪些" before or after, "有几个", "名单", no "的", bare 查
        ("村级社有哪些", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("有哪些村级社？", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("标杆社有哪些", {"王家湾村茶叶专业合作社", "白沙镇供销社"}),
        ("白沙镇的村级社有哪些", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("王家湾村有几个村级社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("本镇有哪些标杆社", {"王家湾村茶叶专业合作社", "白沙镇供销社"}),
        ("查村级社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("本镇所有合作社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社", "白沙镇供销社"}),
        ("白沙镇有哪些合作社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社", "白沙镇供销社"}),
        ("合作社有哪些", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社", "白沙镇供销社"}),
        ("白沙镇合作社名单", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社", "白沙镇供销社"}),
        ("王家湾村的合作社有哪些", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
        ("王家湾村的村级社是哪些", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),  # was a name lookup
        ("王家湾村下面有哪些合作社", {"王家湾村茶叶专业合作社", "王家湾村果蔬合作社"}),
    ],
)
async def test_list_intents_answer_tables_of_the_scope(client, text, expected):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert {row[0] for row in table["rows"]} == expected and table["total"] == len(expected)
    assert all(a["intent"] == "coop.card" for a in table["row_actions"])


async def test_poverty_county_list_in_a_county_and_rest_kinds(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, "贫困县基层社"), "table")[0]
    assert [row[0] for row in table["rows"]] == ["刘家岭村茶叶合作社"]
    for kind, count in (("village_level", 3), ("benchmark", 3), ("poverty_county", 1)):
        page = (await client.get("/api/coops/", headers=headers, params={"kind": kind})).json()
        assert page["total"] == count
    assert (await client.get("/api/coops/", headers=headers, params={"kind": "other"})).status_code == 422


@pytest.mark.parametrize(
    "text", ["贫困县的合作社", "贫困县里的合作社", "贫困县的基层社", "贫困县基层合作社", "有哪些贫困县的合作社"]
)
async def test_poverty_county_coops_are_asked_for_with_the_words_cadres_use(client, text):
    """ "贫困县的合作社" was read as the co-ops of a unit named 贫困县 ("没有找到名为“贫困县”的单位")."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert [row[0] for row in table["rows"]] == ["刘家岭村茶叶合作社"], text


async def test_paging_through_more_in_chat_and_by_cursor_in_rest(client):
    w = await make_world()
    for n in range(23):
        coop = await make_unit(f"王家湾村第{n}合作社", UnitType.COOP, w.village)
        await coop_card(coop, is_village_level=True)
    headers = await login_at(client, "town_viewer", w.town)
    seen: list[str] = []
    first = blocks(await chat(client, headers, "村级社"), "table")[0]
    assert first["total"] == 25 and len(first["rows"]) == 10 and first["more"]["intent"] == "coop.village_level"
    seen += [r[0] for r in first["rows"]]
    second = blocks(await chat(client, headers, "更多"), "table")[0]
    assert second.get("total") is None and len(second["rows"]) == 10
    seen += [r[0] for r in second["rows"]]
    third = blocks(await chat(client, headers, "下一页"), "table")[0]
    assert len(third["rows"]) == 5 and "more" not in third
    seen += [r[0] for r in third["rows"]]
    assert len(seen) == len(set(seen)) == 25
    assert blocks(await chat(client, headers, "更多"), "notice")
    # the "more" button does the same as typing 更多
    again = await chat(client, headers, intent=first["more"]["intent"], params=first["more"]["params"])
    assert [r[0] for r in blocks(again, "table")[0]["rows"]] == seen[10:20]
    cursor, names = None, []
    while True:
        params = {"kind": "village_level", "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/coops/", headers=headers, params=params)).json()
        names += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(names) == sorted(seen)


async def test_region_by_name_in_scope_and_ambiguous_names(client):
    w = await make_world()
    twin = await make_unit("王家湾村", UnitType.VILLAGE, w.sibling)
    headers = await login_at(client, "county_viewer", w.county)
    ambiguous = await client.get("/api/coops/", headers=headers, params={"region": "王家湾村"})
    assert ambiguous.status_code == 409 and ambiguous.json()["error"]["code"] == "ambiguous_region"
    reply = await chat(client, headers, "王家湾村的村级社")
    choices = blocks(reply, "card")[0]["actions"]
    assert {a["params"]["region_id"] for a in choices} == {w.village.id, twin.id}
    assert {a["label"] for a in choices} == {"王家湾村（白沙镇）", "王家湾村（桃源乡）"}
    picked = await chat(client, headers, intent=choices[0]["intent"], params=choices[0]["params"])
    assert blocks(picked, "table") or blocks(picked, "notice")
    town = await client.get("/api/coops/", headers=headers, params={"region": "白沙镇"})
    assert town.status_code == 200 and town.json()["total"] == 3
    both = await client.get("/api/coops/", headers=headers, params={"region": "白沙镇", "region_id": w.town.id})
    assert both.status_code == 422
    missing = await chat(client, headers, "不存在村的标杆社")
    assert blocks(missing, "notice")[0]["level"] == "warning"


async def test_stats_count_by_kind_total_and_average_with_money_by_the_finance_rule(client):
    w = await make_world()
    own = await login_at(client, "own_town", w.town, Role.VIEWER, FinanceAccess.OWN_REGION)
    stats = (await client.get("/api/coops/stats", headers=own)).json()
    totals = stats["totals"]
    assert (totals["coops"], totals["village_level"], totals["benchmark"]) == (3, 2, 2)
    assert totals["members"] == 480 and stats["avg_members"] == 160.0
    assert totals["assets"] == NO and stats["avg_assets"] == NO  # own unit, but villages below have co-ops
    every = await login_at(client, "all_town", w.town, Role.VIEWER, FinanceAccess.ALL)
    assert (await client.get("/api/coops/stats", headers=every)).json()["avg_assets"] == "214.49"
    village = (await client.get("/api/coops/stats", headers=own, params={"region_id": w.village.id})).json()
    assert village["totals"]["coops"] == 2 and village["avg_assets"] == NO  # not the own unit
    reply = await chat(client, own, "统计")
    values = fields(blocks(reply, "card")[0])
    assert values["合作社总数"] == "3 个" and values["村级社"] == "2 个（占 66.7%）"
    assert blocks(reply, "chart")[0]["labels"] == ["村级社", "标杆社", "贫困县基层社"]
    named = fields(blocks(await chat(client, own, "王家湾村统计指标"), "card")[0])
    assert named["合作社总数"] == "2 个" and named["资产总额"] == NO


async def test_map_pins_are_capped_and_say_so(client, monkeypatch):
    w = await make_world()
    for n in range(4):
        coop = await make_unit(f"坐标社{n}", UnitType.COOP, w.village2)
        await coop_card(coop, latitude=25 + n / 100, longitude=102.5)
    headers = await login_at(client, "town_viewer", w.town)
    result = (await client.get("/api/coops/map", headers=headers)).json()
    assert result["total"] == 5 and not result["capped"] and result["limit"] == 200
    assert result["not_located"] == 2  # 白沙镇供销社 and 果蔬社 have no coordinates: the chat's map says so too
    monkeypatch.setattr(queries, "MAX_PINS", 3)
    capped = (await client.get("/api/coops/map", headers=headers)).json()
    assert len(capped["pins"]) == 3 and capped["total"] == 5 and capped["capped"]
    reply = await chat(client, headers, "地图")
    assert len(blocks(reply, "map")[0]["pins"]) == 3 and "5" in blocks(reply, "notice")[0]["text"]
    village = await chat(client, headers, "地图 王家湾村")
    pin = blocks(village, "map")[0]["pins"][0]
    assert pin["title"] == "王家湾村茶叶专业合作社" and pin["action"]["params"] == {"unit_id": w.tea.id}
    assert blocks(await chat(client, headers, "李家坪村的地图"), "map")
    empty = await login_at(client, "bare_viewer", w.bare)
    assert blocks(await chat(client, empty, "地图"), "notice")


async def test_chat_refuses_roles_without_the_permission_and_validates_params(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    bad_cursor = await chat(client, headers, intent="coop.benchmark", params={"region_id": w.town.id, "cursor": -3})
    assert blocks(bad_cursor, "notice")
    bad_region = await chat(client, headers, intent="coop.benchmark", params={"region_id": True})
    assert blocks(bad_region, "notice")


async def test_openapi_documents_the_coop_routes(client):
    spec = (await client.get("/docs/openapi.json")).json()
    assert {"/api/coops", "/api/coops/stats", "/api/coops/map", "/api/coops/summary"} <= {
        path.rstrip("/") for path in spec["paths"]
    }


async def test_small_demo_seed_has_coops_in_every_village_and_rollups_to_match(client, settings):
    from backend.core import identifiers
    from backend.demo import seed
    from backend.units.models import Unit

    result = await seed.seed("small", settings.var_dir)
    village = await Unit.get(name="王家湾村")
    in_village = await Unit.filter(parent_id=village.id, type=UnitType.COOP)
    assert len(in_village) == 3 and await CoopCard.filter(unit_id__in=[u.id for u in in_village]).count() == 3
    for v in await Unit.filter(type=UnitType.VILLAGE):
        assert await Unit.filter(parent_id=v.id, type=UnitType.COOP).exists()
    assert result["counts"]["coops"] == await CoopCard.all().count()
    assert all(identifiers.valid_credit_code(u.credit_code or "") for u in await Unit.filter(type=UnitType.COOP))
    assert await CoopCard.filter(in_poverty_county=True).exists() and await CoopCard.filter(is_benchmark=True).exists()
    assert await stored_rollups() == await expected_rollups()
    admin = next(a for a in result["demo_accounts"] if a["username"] == "demo_town_admin")
    from tests.factories import login

    headers = await login(client, admin["username"], admin["password"])
    reply = await chat(client, headers, "汇总 王家湾村")
    assert fields(blocks(reply, "card")[0])["合作社"] == "3 个"


async def test_large_demo_seed_bulk_inserts_about_one_and_a_half_coops_per_village(settings, monkeypatch):
    from backend.demo import seed

    targets = {"cities": 3, "counties": 6, "townships": 20, "villages": 80, "accounts": 300}
    monkeypatch.setattr(seed, "LARGE_TARGET", targets)
    result = await seed.seed("large", settings.var_dir)
    assert result["counts"]["coops"] == await CoopCard.all().count() == 120
    assert await stored_rollups() == await expected_rollups()
    coop = await make_unit("新社", UnitType.COOP, (await CoopCard.first().select_related("unit")).unit)  # type: ignore[union-attr]
    await coop_card(coop)  # sequences moved past the bulk ids
    assert await CoopCard.all().count() == 121


async def test_a_card_write_judges_the_unit_it_locked_not_an_earlier_read(monkeypatch):
    """A type change or a move that commits just before the write gets the unit's lock: the write
    must judge that unit (a card on a village, or money written by a clerk who can no longer see
    it). Simulated by changing the row in the write's own transaction right before the lock."""
    w = await make_world()
    lock_unit = actions._lock_unit
    landing: list[tuple[str, list]] = []

    async def a_change_lands_first(actor, unit_id, **kwargs):
        for sql, params in landing:
            await db.execute(sql, params)
        return await lock_unit(actor, unit_id, **kwargs)

    monkeypatch.setattr(actions, "_lock_unit", a_change_lands_first)
    landing[:] = [("UPDATE unit SET type = 'village' WHERE id = ?", [w.bare.id])]
    with pytest.raises(ValidationFailed):
        await actions.create_card(actor_at(w.county), unit_id=w.bare.id, fields={"members": 5})
    assert not await CoopCard.exists(unit_id=w.bare.id)

    moved = f"{w.village.path}{w.town_coop.id}/"  # the township's co-op, now under a village
    landing[:] = [("UPDATE unit SET path = ?, parent_id = ? WHERE id = ?", [moved, w.village.id, w.town_coop.id])]
    clerk = actor_at(w.town, Role.CLERK, FinanceAccess.OWN_REGION)
    with pytest.raises(AppError) as refused:
        await actions.update_card(clerk, w.town_coop.id, {"assets": 1})
    assert refused.value.code == "finance_required"
    assert (await CoopCard.get(unit_id=w.town_coop.id)).assets_fen == fen_from_wan(Decimal(500))


async def test_the_card_of_a_unit_that_is_not_a_coop_says_it_is_not_one(client):
    """ "白沙镇的信息卡" answered "该合作社还没有建立信息卡", as if 白沙镇 were a co-op without its card."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    response = await client.get(f"/api/coops/{w.village.id}", headers=headers)
    assert response.status_code == 404 and "王家湾村" in response.json()["error"]["message"]
    assert "不是合作社" in response.json()["error"]["message"]
    reply = await chat(client, headers, "白沙镇的信息卡")
    notice = blocks(reply, "notice")[0]
    assert "白沙镇" in notice["text"] and "不是合作社" in notice["text"]
    offered = reply["suggestions"][0]["action"]  # its co-ops are probably what was meant
    assert offered == {**offered, "intent": "coop.list", "params": {"region_id": w.town.id}}
    no_card = blocks(await chat(client, headers, "李家坪综合社的信息卡"), "notice")[0]
    assert no_card["text"] == "该合作社还没有建立信息卡"


@pytest.mark.parametrize("text", ["信息卡", "查看信息卡"])
async def test_a_coops_own_account_asking_for_the_info_card_gets_its_own(client, text):
    w = await make_world()
    headers = await login_at(client, "tea_itself", w.tea, Role.VIEWER, FinanceAccess.ALL)
    card = blocks(await chat(client, headers, text), "card")[0]
    assert card["title"] == "王家湾村茶叶专业合作社" and fields(card)["资产总额"] == "123.46 万元"


async def test_averages_and_shares_round_halves_up_as_a_cadre_does_by_hand(client):
    """160.25 showed as 160.2 (a float rounded half to even); 1 of 16 as 6.2%."""
    from backend.coops.chat import _share

    w = await make_world()
    await coop_card(w.bare, members=161)  # 300 + 120 + 60 + 161 = 641 members in 4 co-ops
    headers = await login_at(client, "town_viewer", w.town)
    stats = (await client.get("/api/coops/stats", headers=headers)).json()
    assert stats["totals"]["members"] == 641 and stats["avg_members"] == 160.3
    assert fields(blocks(await chat(client, headers, "统计"), "card")[0])["平均社员数"] == "160.3"
    assert _share(1, 16) == "1 个（占 6.3%）" and _share(2, 3) == "2 个（占 66.7%）" and _share(0, 0) == "0 个（占 0%）"


async def test_a_coops_own_statistics_and_map_are_not_titled_twice_co_op(client):
    w = await make_world()
    headers = await login_at(client, "tea_itself", w.tea, Role.VIEWER, FinanceAccess.ALL)
    assert blocks(await chat(client, headers, "统计"), "card")[0]["title"] == "王家湾村茶叶专业合作社统计指标"
    assert blocks(await chat(client, headers, "地图"), "map")[0]["title"] == "王家湾村茶叶专业合作社分布"
    town = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, town, "统计"), "card")[0]["title"] == "白沙镇合作社统计指标"


async def test_asking_for_a_co_ops_contact_or_address_answers_its_card(client):
    """ "王家湾村茶叶专业合作社的联系电话" was looked up as a name and answered "没有找到"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    name = w.tea.name
    for text in (
        f"{name}的联系电话",
        f"{name}联系人是谁",
        f"查一下{name}的地址",
        f"{name}的经营范围",
        f"谁是{name}的负责人",  # was a picker: "没有单位正好叫“谁是...”"
        f"{name}在哪",  # was a picker of near names
    ):
        reply = await chat(client, headers, text)
        assert [b["subtitle"] for b in blocks(reply, "card")] == ["信息卡"], (text, reply)


@pytest.mark.parametrize(
    "text",
    [
        "茶叶专业合作社的电话",
        "茶叶专业合作社电话多少",
        "茶叶专业合作社的地址在哪里",
        "茶叶专业合作社的联系人电话",
        "茶叶专业合作社的手机号",
        "茶叶专业合作社的位置",
        "茶叶专业合作社成立于哪年",
        "茶叶专业合作社是哪年成立的",
        "茶叶专业合作社什么时候成立的",
        "茶叶专业合作社的成立时间",
    ],
)
async def test_a_co_ops_phone_or_where_it_is_asked_plainly_answers_its_card(client, text):
    """ "...合作社的电话", "...地址在哪里" were looked up as whole names and answered "没有找到"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, text)
    assert [(b["title"], b["subtitle"]) for b in blocks(reply, "card")] == [(w.tea.name, "信息卡")], reply


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("王家湾村的统计数据", "王家湾村合作社统计指标"),
        ("统计一下", "白沙镇合作社统计指标"),
        ("统计数据", "白沙镇合作社统计指标"),
        ("查统计", "白沙镇合作社统计指标"),
        ("本镇统计情况", "白沙镇合作社统计指标"),
    ],
)
async def test_statistics_asked_as_cadres_ask_answer_the_statistics(client, text, title):
    """ "统计一下" answered that no unit was named "一下"; "王家湾村的统计数据" was a name lookup."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert [b["title"] for b in blocks(await chat(client, headers, text), "card")] == [title]


async def test_a_co_op_whose_name_holds_a_question_word_is_still_looked_up_by_name(client):
    """Guard of the wider phrasings: 有 (有机, 富有) in a co-op's name does not make it a question."""
    w = await make_world()
    rich = await make_unit("富有合作社", UnitType.COOP, w.town)
    organic = await make_unit("王家湾村有机茶合作社", UnitType.COOP, w.village)
    await coop_card(organic, members=7)
    headers = await login_at(client, "town_viewer", w.town)
    for text, name in (
        ("富有合作社", rich.name),
        ("王家湾村有机茶合作社", organic.name),
        ("查有机茶合作社", organic.name),
    ):
        reply = await chat(client, headers, text)
        assert [(b["title"], b["subtitle"]) for b in blocks(reply, "card")] == [(name, "合作社")], (text, reply)
    reply = await chat(client, headers, "有机茶合作社的电话")
    assert [(b["title"], b["subtitle"]) for b in blocks(reply, "card")] == [(organic.name, "信息卡")], reply
    # a figure asked of one co-op: its card, which holds it ("合作社 1 个" said nothing)
    reply = await chat(client, headers, "王家湾村有机茶合作社有多少社员")
    assert [(b["title"], b["subtitle"]) for b in blocks(reply, "card")] == [(organic.name, "信息卡")], reply
    tapped = await chat(client, headers, intent="summary", params={"unit_id": organic.id})  # its 汇总 button
    assert [b["title"] for b in blocks(tapped, "card")] == [f"{organic.name}汇总"], tapped


async def test_the_co_ops_with_the_most_members_or_staff_are_ranked_in_the_scope(client):
    """ "社员最多的合作社" was read as the co-ops of a unit named 社员最多 ("没有找到")."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    for text in (
        "社员最多的合作社",
        "哪个合作社社员最多",
        "合作社按社员排名",
        "白沙镇社员最多的合作社是哪个",
        "最大的合作社",
    ):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇社员最多的合作社" and table["columns"] == ["名称", "所属区域", "社员数"], text
        assert [row[0] for row in table["rows"]] == ["白沙镇供销社", "王家湾村茶叶专业合作社", "王家湾村果蔬合作社"]
        assert [row[2] for row in table["rows"]] == ["300", "120", "60"]
        assert all(a["intent"] == "coop.card" for a in table["row_actions"])
    village = blocks(await chat(client, headers, "王家湾村哪个合作社从业人员最多"), "table")[0]
    assert [(row[0], row[2]) for row in village["rows"]] == [
        ("王家湾村茶叶专业合作社", "8"),
        ("王家湾村果蔬合作社", "3"),
    ]


@pytest.mark.parametrize("finance", [FinanceAccess.NONE, FinanceAccess.OWN_REGION])
async def test_a_ranking_by_money_needs_finance_access_to_every_card(client, finance):
    """An order by assets tells something of every masked card: only `all` may ask for it."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town, finance=finance)
    reply = await chat(client, headers, "资产最多的合作社")
    assert not blocks(reply, "table") and "金额" in blocks(reply, "notice")[0]["text"]
    tapped = await chat(client, headers, intent="coop.top", params={"field": "assets", "region_id": w.town.id})
    assert not blocks(tapped, "table")


async def test_the_co_ops_are_ranked_by_money_for_who_sees_all_of_it(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town, finance=FinanceAccess.ALL)
    assets = blocks(await chat(client, headers, "资产最多的合作社"), "table")[0]
    assert assets["columns"][2] == "资产总额（万元）"
    assert [row[2] for row in assets["rows"]] == ["500.00", "123.46", "20.00"]
    profit = blocks(await chat(client, headers, "合作社利润排名"), "table")[0]
    assert [row[0] for row in profit["rows"]] == ["白沙镇供销社", "王家湾村果蔬合作社", "王家湾村茶叶专业合作社"]
    bad = await chat(client, headers, intent="coop.top", params={"field": "boss", "region_id": w.town.id})
    assert not blocks(bad, "table") and blocks(bad, "notice")


async def test_a_ranking_shows_as_many_places_as_asked_and_goes_on_by_as_many(client):
    """ "社员最多的前2个合作社" was "没有找到" (or ten places): 前N / N家 are read as the page's size."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("社员最多的前2个合作社", "社员最多的两家合作社", "合作社社员排名前二", "前两名合作社"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert [row[2] for row in table["rows"]] == ["300", "120"], text
        assert table["more"]["params"]["count"] == 2 and table["more"]["params"]["cursor"] == 2, text
    rest = blocks(await chat(client, headers, "更多"), "table")[0]
    assert [row[2] for row in rest["rows"]] == ["60"] and rest.get("more") is None
    fewest = blocks(await chat(client, headers, "社员最少的前1个合作社"), "table")[0]
    assert [row[2] for row in fewest["rows"]] == ["60"]
    asked_500 = {"region_id": w.town.id, "count": 500}
    many = blocks(await chat(client, headers, intent="coop.top", params=asked_500), "table")
    assert len(many[0]["rows"]) == 3 and many[0].get("more") is None  # capped, all three shown
    for count in (0, "abc", -1, True):
        bad = await chat(client, headers, intent="coop.top", params={"region_id": w.town.id, "count": count})
        assert not blocks(bad, "table") and blocks(bad, "notice")[0]["level"] == "warning", count


async def test_a_ranking_goes_on_past_its_first_ten_with_more_and_back_with_previous_page(client):
    """ "社员最多的合作社" said "这里列出前 10 个" and "更多" then answered "没有更多了"."""
    w = await make_world()
    for members in range(11, 20):
        await coop_card(await make_unit(f"李家坪村第{members}合作社", UnitType.COOP, w.village2), members=members)
    headers = await login_at(client, "town_viewer", w.town)
    first = blocks(await chat(client, headers, "社员最多的合作社"), "table")[0]
    assert [row[2] for row in first["rows"]] == ["300", "120", "60", *map(str, range(19, 12, -1))]
    assert first["more"]["intent"] == "coop.top" and first["more"]["params"]["field"] == "members"
    second = blocks(await chat(client, headers, "更多"), "table")[0]
    assert second["title"] == first["title"] and [row[2] for row in second["rows"]] == ["12", "11"]
    assert second.get("more") is None
    assert blocks(await chat(client, headers, "更多"), "notice")[0]["text"] == "没有更多了。"
    again = blocks(await chat(client, headers, "上一页"), "table")[0]
    assert again["rows"] == first["rows"]
    tapped = blocks(await chat(client, headers, intent="coop.top", params=first["more"]["params"]), "table")[0]
    assert tapped["rows"] == second["rows"]
    past = await chat(client, headers, intent="coop.top", params={**first["more"]["params"], "cursor": 500})
    assert not blocks(past, "table") and blocks(past, "notice")[0]["text"] == "没有更多了。"
    for cursor in (-10, "abc", 1.5):
        bad = await chat(client, headers, intent="coop.top", params={**first["more"]["params"], "cursor": cursor})
        assert not blocks(bad, "table") and blocks(bad, "notice")[0]["level"] == "warning", cursor


async def test_the_villages_with_the_most_co_ops_go_on_past_the_first_ten_with_more(client):
    w = await make_world()
    for number in range(10):
        village = await make_unit(f"新{number}村", UnitType.VILLAGE, w.town)
        await coop_card(await make_unit(f"新{number}村合作社", UnitType.COOP, village), members=1)
    headers = await login_at(client, "town_viewer", w.town)
    first = blocks(await chat(client, headers, "哪个村合作社最多"), "table")[0]
    assert first["rows"][0][:1] + first["rows"][0][2:] == ["王家湾村", "2"] and len(first["rows"]) == 10
    assert first["more"]["intent"] == "coop.units_most"
    second = blocks(await chat(client, headers, "更多"), "table")[0]
    named = [row[0] for row in first["rows"] + second["rows"]]
    assert sorted(named) == sorted(["王家湾村", *(f"新{n}村" for n in range(10))])  # 李家坪村's co-op has no card
    assert second.get("more") is None


async def test_a_co_ops_contact_person_named_finds_its_card(client):
    """ "范雪丽的电话" (a co-op's contact, no account) answered "没有找到名为“范雪丽”的单位"."""
    w = await make_world()
    await CoopCard.filter(unit_id=w.veg.id).update(contact_name="赵小红")
    await CoopCard.filter(unit_id=w.sibling_coop.id).update(contact_name="钱七")
    headers = await login_at(client, "town_viewer", w.town)
    for text in ("赵小红的电话", "赵小红的联系方式", "赵小红"):  # the name alone was "没有找到"
        card = blocks(await chat(client, headers, text), "card")[0]
        assert (card["title"], card["subtitle"]) == ("王家湾村果蔬合作社", "信息卡"), text
    await CoopCard.filter(unit_id=w.town_coop.id).update(contact_name="赵小红")
    choose = blocks(await chat(client, headers, "赵小红的电话"), "card")[0]
    assert sorted(a["label"] for a in choose["actions"]) == ["王家湾村果蔬合作社", "白沙镇供销社"]
    assert all(a["intent"] == "coop.card" for a in choose["actions"])
    for text in ("钱七的电话", "钱七"):  # the contact of a co-op outside the scope
        outside = await chat(client, headers, text)
        assert not blocks(outside, "card") and "刘家岭" not in str(outside), text


@pytest.mark.parametrize("text", ["王家湾村的负责人", "谁是王家湾村的负责人", "王家湾村的电话"])
async def test_who_runs_a_unit_that_is_no_co_op_answers_its_unit_card(client, text):
    """ "王家湾村的负责人" answered "“王家湾村”不是合作社，没有信息卡"."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    card = blocks(await chat(client, headers, text), "card")[0]
    assert card["title"] == "王家湾村" and card["subtitle"] == "村", text


async def test_villages_or_townships_are_ranked_by_a_figure_of_their_co_ops(client):
    """ "哪个乡镇社员最多" was looked up as a name; only co-op counts could rank villages."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    for text in ("哪个乡镇社员最多", "社员最多的乡镇", "各乡镇社员排名"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "青山县社员最多的乡镇" and table["columns"][2] == "社员数", text
        assert [(row[0], row[2]) for row in table["rows"]] == [("桃源乡", "999"), ("白沙镇", "480")], text
    staff = blocks(await chat(client, headers, "哪个村从业人员最多"), "table")[0]
    assert [(row[0], row[2]) for row in staff["rows"]] == [("刘家岭村", "99"), ("王家湾村", "11")]
    money = await chat(client, headers, "资产最多的村")  # a viewer without finance access `all`
    assert not blocks(money, "table") and "金额" in blocks(money, "notice")[0]["text"]
    rich = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    assets = blocks(await chat(client, rich, "资产最多的村"), "table")[0]
    assert [(row[0], row[2]) for row in assets["rows"]] == [("刘家岭村", "7777.00"), ("王家湾村", "143.46")]
    await chat(client, headers, "哪个村社员最多")
    again = blocks(await chat(client, headers, "白沙镇呢"), "table")[0]  # the figure is kept
    assert again["title"] == "白沙镇社员最多的村"


async def test_townships_or_counties_are_ranked_by_their_co_ops_of_a_kind(client):
    """ "标杆社最多的县" and "各县标杆社数量" were looked up as names."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    for text in ("标杆社最多的乡镇", "哪个乡镇标杆社最多", "各乡镇标杆社数量"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "青山县标杆社最多的乡镇" and table["columns"][2] == "标杆社", text
        assert [(row[0], row[2]) for row in table["rows"]] == [("白沙镇", "2"), ("桃源乡", "1")], text
    village_level = blocks(await chat(client, headers, "各乡镇村级社数量"), "table")[0]
    assert [(row[0], row[2]) for row in village_level["rows"]] == [("白沙镇", "2"), ("桃源乡", "1")]
    poor = blocks(await chat(client, headers, "贫困县基层社最多的乡镇"), "table")[0]
    assert [(row[0], row[2]) for row in poor["rows"]] == [("桃源乡", "1")]  # none of that kind: no answer


async def test_a_provinces_counties_are_ranked_by_their_co_ops(client):
    """ "哪个县合作社最多" was looked up as a name: only villages and townships were levels."""
    province = await make_unit("云岭省", UnitType.PROVINCE)
    city = await make_unit("青州市", UnitType.CITY, province)
    for county_name, count in (("石门县", 1), ("龙泉县", 2)):
        county = await make_unit(county_name, UnitType.COUNTY, city)
        for n in range(count):
            await coop_card(await make_unit(f"{county_name}第{n}社", UnitType.COOP, county), members=1)
    headers = await login_at(client, "province_viewer", province)
    table = blocks(await chat(client, headers, "哪个县合作社最多"), "table")[0]
    assert table["title"] == "云岭省合作社最多的县"
    assert [(row[0], row[1], row[2]) for row in table["rows"]] == [("龙泉县", "青州市", "2"), ("石门县", "青州市", "1")]


async def _founded_in(w, **years: int) -> None:
    for name, year in years.items():
        await CoopCard.filter(unit_id=getattr(w, name).id).update(founded_year=year)


@pytest.mark.parametrize(
    ("text", "title", "rows"),
    [
        (
            "2020年以后成立的合作社",
            "白沙镇2020年及以后成立的合作社",
            [("王家湾村茶叶专业合作社", "2020"), ("王家湾村果蔬合作社", "2024")],
        ),
        ("2020年以前成立的合作社", "白沙镇2019年及以前成立的合作社", [("白沙镇供销社", "2010")]),
        ("王家湾村2020年成立的合作社有哪些", "王家湾村2020年成立的合作社", [("王家湾村茶叶专业合作社", "2020")]),
        ("近三年新成立的合作社", "白沙镇2024年及以后成立的合作社", [("王家湾村果蔬合作社", "2024")]),
        ("前年注册的合作社", "白沙镇2024年成立的合作社", [("王家湾村果蔬合作社", "2024")]),
        ("前年新成立了多少合作社", "白沙镇2024年成立的合作社", [("王家湾村果蔬合作社", "2024")]),
        (
            "2020年以后成立了几家合作社",
            "白沙镇2020年及以后成立的合作社",
            [("王家湾村茶叶专业合作社", "2020"), ("王家湾村果蔬合作社", "2024")],
        ),
    ],
)
async def test_the_co_ops_founded_in_after_or_before_a_year_are_listed(client, text, title, rows):
    """ "2020年以后成立的合作社" was looked up as a unit named 2020年以后成立 (the clock says 2026)."""
    w = await make_world()
    await _founded_in(w, town_coop=2010, tea=2020, veg=2024, sibling_coop=2021)
    headers = await login_at(client, "town_viewer", w.town)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert table["title"] == title and table["columns"] == ["名称", "所属区域", "成立年份"], text
    assert [(row[0], row[2]) for row in table["rows"]] == rows, text


async def test_the_co_ops_founded_after_a_year_are_listed_by_their_year(client):
    """They came in card order: a co-op of 2024 before one of 2020."""
    w = await make_world()
    await _founded_in(w, town_coop=2022, tea=2024, veg=2020)
    headers = await login_at(client, "town_viewer", w.town)
    table = blocks(await chat(client, headers, "2020年以后成立的合作社"), "table")[0]
    assert [row[2] for row in table["rows"]] == ["2020", "2022", "2024"]


async def test_a_founding_year_list_keeps_its_years_for_a_follow_up_and_refuses_a_bad_button(client):
    w = await make_world()
    await _founded_in(w, tea=2020, sibling_coop=2021)
    headers = await login_at(client, "county_viewer", w.county)
    assert (
        blocks(await chat(client, headers, "今年成立的合作社"), "notice")[0]["text"] == "青山县暂无2026年成立的合作社。"
    )
    await chat(client, headers, "2021年成立的合作社")
    other = blocks(await chat(client, headers, "桃源乡呢"), "table")[0]
    assert other["title"] == "桃源乡2021年成立的合作社" and [r[0] for r in other["rows"]] == ["刘家岭村茶叶合作社"]
    for params in ({"from_year": "abc"}, {"from_year": -1}, {}, {"recent": "五百"}):
        bad = await chat(client, headers, intent="coop.founded", params={"region_id": w.county.id, **params})
        assert not blocks(bad, "table") and blocks(bad, "notice")[0]["level"] == "warning", params


@pytest.mark.parametrize("finance", [FinanceAccess.NONE, FinanceAccess.OWN_REGION])
async def test_the_co_ops_at_a_loss_need_finance_access_to_every_card(client, finance):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town, finance=finance)
    for reply in (
        await chat(client, headers, "亏损的合作社"),
        await chat(client, headers, intent="coop.loss", params={"region_id": w.town.id}),
    ):
        assert not blocks(reply, "table") and "利润" in blocks(reply, "notice")[0]["text"]


async def test_the_co_ops_at_a_loss_are_listed_in_scope_for_who_sees_all_money(client):
    """ "亏损的合作社" was looked up as a unit named 亏损."""
    w = await make_world()
    await CoopCard.filter(unit_id=w.sibling_coop.id).update(profit_fen=-5_000_000)
    headers = await login_at(client, "town_viewer", w.town, finance=FinanceAccess.ALL)
    for text in ("亏损的合作社", "哪些合作社亏损了", "白沙镇利润为负的合作社"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇亏损的合作社" and table["columns"][2] == "利润（万元）", text
        assert [(row[0], row[2]) for row in table["rows"]] == [("王家湾村茶叶专业合作社", "-1.50")], text
    assert (
        blocks(await chat(client, headers, "李家坪村亏损的合作社"), "notice")[0]["text"] == "李家坪村暂无亏损的合作社。"
    )


async def test_the_co_ops_with_the_biggest_loss_are_ranked_for_who_sees_all_money(client):
    """ "哪个合作社亏损最多" was looked up as a unit named 亏损最多; profit ranked only highest first."""
    w = await make_world()
    await coop_card(w.bare, members=5, profit=-3)
    headers = await login_at(client, "town_viewer", w.town, finance=FinanceAccess.ALL)
    for text in ("哪个合作社亏损最多", "亏损最多的合作社", "亏损最严重的合作社", "合作社按亏损排名"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "白沙镇亏损最多的合作社" and table["columns"][2] == "利润（万元）", text
        assert [(row[0], row[2]) for row in table["rows"]] == [
            ("李家坪综合社", "-3.00"),
            ("王家湾村茶叶专业合作社", "-1.50"),
        ]
    for finance in (FinanceAccess.NONE, FinanceAccess.OWN_REGION):
        masked = await login_at(client, f"town_{finance.value}", w.town, finance=finance)
        refused = await chat(client, masked, "哪个合作社亏损最多")
        assert not blocks(refused, "table") and "金额" in blocks(refused, "notice")[0]["text"], finance


async def test_the_villages_whose_co_ops_lose_most_are_ranked_by_their_roll_ups(client):
    w = await make_world()
    await coop_card(w.bare, members=5, profit=-3)
    await coop_card(await make_unit("刘家岭村养殖合作社", UnitType.COOP, w.sibling_village), members=5, profit=-20)
    headers = await login_at(client, "county_all", w.county, finance=FinanceAccess.ALL)
    table = blocks(await chat(client, headers, "哪个村亏损最多"), "table")[0]
    assert table["title"] == "青山县合作社亏损最多的村" and table["columns"][2] == "利润（万元）"
    # 王家湾村's co-ops make 0.50 in all: a village whose co-ops gain is no loss
    assert [(row[0], row[2]) for row in table["rows"]] == [("刘家岭村", "-20.00"), ("李家坪村", "-3.00")]
    # a founding year does not add up: no village is ranked by it
    params = {"region_id": w.county.id, "level": "village", "field": "newest"}
    tapped = await chat(client, headers, intent="coop.units_most", params=params)
    assert not blocks(tapped, "table") and blocks(tapped, "notice")[0]["level"] == "warning"


_NEWEST = [("王家湾村果蔬合作社", "2024"), ("王家湾村茶叶专业合作社", "2020")]


@pytest.mark.parametrize(
    ("text", "title", "rows"),
    [
        ("新成立的合作社", "白沙镇最新成立的合作社", _NEWEST),
        ("最近新成立的合作社有哪些", "白沙镇最新成立的合作社", _NEWEST),
        ("王家湾村最新成立的合作社", "王家湾村最新成立的合作社", _NEWEST),
        ("成立最早的合作社", "白沙镇成立最早的合作社", _NEWEST[::-1]),
        ("最老的合作社", "白沙镇成立最早的合作社", _NEWEST[::-1]),
    ],
)
async def test_the_newest_or_oldest_co_ops_are_ranked_by_founding_year(client, text, title, rows):
    """ "新成立的合作社" was looked up as a unit named 新成立; a card without a founding year is left out."""
    w = await make_world()
    await _founded_in(w, tea=2020, veg=2024, sibling_coop=2025)
    headers = await login_at(client, "town_viewer", w.town)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert table["title"] == title and table["columns"][2] == "成立年份", text
    assert [(row[0], row[2]) for row in table["rows"]] == rows, text


async def test_a_follow_up_after_a_ranking_ranks_another_region_by_the_same_figure(client):
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    await chat(client, headers, "从业人员最多的合作社")
    table = blocks(await chat(client, headers, "桃源乡呢"), "table")[0]
    assert table["title"] == "桃源乡从业人员最多的合作社" and table["rows"][0][2] == "99"


@pytest.mark.parametrize(
    ("text", "kind", "title"),
    [
        ("合作社分布", "map", "白沙镇合作社分布"),
        ("王家湾村合作社分布", "map", "王家湾村合作社分布"),
        ("王家湾村的合作社分布图", "map", "王家湾村合作社分布"),
        ("村级社占比", "card", "白沙镇合作社统计指标"),
        ("村级社占多少", "card", "白沙镇合作社统计指标"),
        ("王家湾村标杆社比例", "card", "王家湾村合作社统计指标"),
        ("合作社总数", "card", "白沙镇合作社汇总"),
        ("王家湾村合作社数量", "card", "王家湾村合作社汇总"),
        ("社员总数", "card", "白沙镇合作社汇总"),
        ("资产总额是多少", "card", "白沙镇合作社汇总"),
        ("平均每个合作社多少社员", "card", "白沙镇合作社统计指标"),
        ("王家湾村平均每个社有多少社员", "card", "王家湾村合作社统计指标"),
        ("合作社平均资产", "card", "白沙镇合作社统计指标"),
        ("平均社员数", "card", "白沙镇合作社统计指标"),
    ],
)
async def test_the_map_statistics_and_summary_are_asked_for_by_the_words_their_answers_use(client, text, kind, title):
    """ "青山县合作社分布" (the map's own title), "村级社占比" and "合作社总数" were looked up as names."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    found = blocks(await chat(client, headers, text), kind)
    assert found and found[0]["title"] == title, text


@pytest.mark.parametrize("text", ["王家湾村的合作社情况", "王家湾村合作社怎么样", "帮我看看王家湾村的合作社情况"])
async def test_how_a_units_co_ops_are_doing_is_its_summary(client, text):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, text), "card")[0]["title"] == "王家湾村合作社汇总", text


async def test_the_villages_with_the_most_co_ops_and_those_with_none_are_listed(client):
    """ "哪个村合作社最多" and "哪些村没有合作社" were looked up as names ("没有找到")."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    for text in ("哪个村合作社最多", "合作社最多的村", "各村合作社数量"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert table["title"] == "青山县合作社最多的村", text
        assert [row[:1] + row[2:] for row in table["rows"]] == [["王家湾村", "2"], ["刘家岭村", "1"]], text
    towns = blocks(await chat(client, headers, "哪个乡镇合作社最多"), "table")[0]
    assert [row[0] for row in towns["rows"]] == ["白沙镇", "桃源乡"]
    for text in ("哪些村没有合作社", "没有合作社的村", "白沙镇没有合作社的村有哪些"):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert [row[:2] for row in table["rows"]] == [["李家坪村", "白沙镇"]], text
    town = await login_at(client, "town_viewer", w.town)
    mine = blocks(await chat(client, town, "哪个村合作社最多"), "table")[0]
    assert [row[0] for row in mine["rows"]] == ["王家湾村"]  # a sibling's village never appears


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("王家湾村有没有合作社", "card"),
        ("王家湾村有合作社吗", "card"),
        ("有没有标杆社", "table"),
        ("白沙镇有没有村级社", "table"),
    ],
)
async def test_asking_whether_there_are_co_ops_answers_them(client, text, kind):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, text), kind), text


@pytest.mark.parametrize(
    "text",
    ["白沙镇和桃源乡哪个合作社多", "白沙镇与桃源乡谁的社员多", "白沙镇和桃源乡哪个资产更多"],
)
async def test_which_of_two_units_has_more_answers_them_side_by_side(client, text):
    """ "张家冲村和陈家寨村哪个合作社多" was looked up as one name ("没有找到")."""
    w = await make_world()
    headers = await login_at(client, "county_viewer", w.county)
    table = blocks(await chat(client, headers, text), "table")[0]
    assert table["title"] == "合作社汇总对比" and [row[0] for row in table["rows"]] == ["白沙镇", "桃源乡"], text


async def test_asking_where_a_co_op_without_a_card_is_answers_its_unit_card(client):
    """ "李家坪综合社在哪" answered "该合作社还没有建立信息卡", which does not say where it is."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, f"{w.bare.name}在哪")
    cards = blocks(reply, "card")
    assert [c["title"] for c in cards] == [w.bare.name], reply
    assert {f["label"]: f["value"] for f in cards[0]["fields"]}["所属"] == "白沙镇 / 李家坪村"


async def test_a_follow_up_after_asking_where_a_unit_is_asks_where_the_other_is(client):
    """ "王家湾村在哪" then "李家坪村呢" answered "“李家坪村”不是合作社，没有信息卡": the follow-up
    dropped what the question asked (where), leaving a request for an info card."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert [c["title"] for c in blocks(await chat(client, headers, "王家湾村在哪"), "card")] == ["王家湾村"]
    reply = await chat(client, headers, "李家坪村呢")
    assert not blocks(reply, "notice"), reply
    assert [c["title"] for c in blocks(reply, "card")] == ["李家坪村"], reply


async def test_village_talk_names_the_own_unit_and_a_level_that_is_not_below_says_so(client):
    """ "村里的合作社" asked for a unit named 村里; a village's "哪个村合作社最多" said its villages had
    no co-ops, when it has no villages at all."""
    w = await make_world()
    headers = await login_at(client, "village_viewer", w.village)
    table = blocks(await chat(client, headers, "村里的合作社"), "table")[0]
    assert table["title"] == "王家湾村的合作社"
    for text in ("哪个村合作社最多", "哪些村没有合作社"):
        assert blocks(await chat(client, headers, text), "notice")[0]["text"] == "王家湾村下面没有村。", text


async def test_a_figure_asked_with_no_unit_is_about_the_unit_shown_last(client):
    """ "社员多少" under a co-op's card answered the township's summary: a figure typed with no unit
    asks about the unit just shown; "汇总" typed alone stays the own unit's (a standing question)."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    assert blocks(await chat(client, headers, "社员多少"), "card")[0]["title"] == "白沙镇合作社汇总"  # none shown
    await chat(client, headers, "王家湾村茶叶专业合作社")
    figure = blocks(await chat(client, headers, "社员多少"), "card")[0]
    assert (figure["title"], figure["subtitle"]) == ("王家湾村茶叶专业合作社", "信息卡"), figure
    await chat(client, headers, "王家湾村")
    assert blocks(await chat(client, headers, "资产有多少"), "card")[0]["title"] == "王家湾村合作社汇总"
    assert blocks(await chat(client, headers, "汇总"), "card")[0]["title"] == "白沙镇合作社汇总"


async def test_quick_replies_under_another_units_answer_ask_about_that_unit(client):
    """The quick replies 汇总 / 村级社 / 地图 under 王家湾村's card or summary were typed words, which
    alone mean the own unit: a cadre tapping 汇总 under a village read the township's figures."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    card = await chat(client, headers, "王家湾村")
    [summary_chip] = [s for s in card["suggestions"] if s["label"] == "汇总"]
    tapped = await chat(
        client, headers, intent=summary_chip["action"]["intent"], params=summary_chip["action"]["params"]
    )
    assert blocks(tapped, "card")[0]["title"] == "王家湾村合作社汇总"
    chips = {s["label"]: s.get("action") for s in tapped["suggestions"]}
    for label in ("汇总", "村级社", "标杆社", "统计指标", "地图"):
        reply = await chat(client, headers, intent=chips[label]["intent"], params=chips[label]["params"])
        assert reply["context"] == "王家湾村", (label, reply)
    own = await chat(client, headers, "汇总")  # under the own unit's answers they stay words
    assert all(s.get("text") for s in own["suggestions"])


async def test_a_question_naming_no_unit_after_the_unit_shown_left_the_scope_is_about_the_own_unit(client):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    await chat(client, headers, "李家坪村")
    await Unit.filter(id=w.village2.id).update(parent_id=w.sibling.id, path=f"{w.sibling.path}{w.village2.id}/")
    assert blocks(await chat(client, headers, "汇总"), "card")[0]["title"] == "白沙镇合作社汇总"


async def test_co_ops_over_or_under_a_figure_are_listed_with_that_figure(client):
    """ "社员超过100人的合作社" looked for a unit named 社员超过一百 ("没有找到")."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    for text, expected in (
        ("社员超过100人的合作社", [("白沙镇供销社", "300"), ("王家湾村茶叶专业合作社", "120")]),
        ("社员120人以上的合作社", [("白沙镇供销社", "300"), ("王家湾村茶叶专业合作社", "120")]),
        ("社员少于一百的社", [("王家湾村果蔬合作社", "60")]),
        ("王家湾村从业人员不超过八人的合作社", [("王家湾村茶叶专业合作社", "8"), ("王家湾村果蔬合作社", "3")]),
    ):
        table = blocks(await chat(client, headers, text), "table")[0]
        assert sorted((row[0], row[2]) for row in table["rows"]) == sorted(expected), (text, table)
        assert table["columns"][2] in ("社员数", "从业人员"), table
    titled = blocks(await chat(client, headers, "社员超过100人的合作社"), "table")[0]
    assert titled["title"] == "白沙镇社员数超过100的合作社"
    none = await chat(client, headers, "社员超过10000人的合作社")
    assert not blocks(none, "table") and "暂无" in blocks(none, "notice")[0]["text"]


async def test_co_ops_over_an_amount_need_finance_access_to_every_card(client):
    w = await make_world()
    masked = await login_at(client, "town_viewer", w.town)
    refused = await chat(client, masked, "资产超过100万的合作社")
    assert not blocks(refused, "table") and "财务权限" in blocks(refused, "notice")[0]["text"]
    headers = await login_at(client, "town_all", w.town, finance=FinanceAccess.ALL)
    table = blocks(await chat(client, headers, "资产超过100万的合作社"), "table")[0]
    assert sorted(row[2] for row in table["rows"]) == ["123.46", "500.00"] and table["columns"][2] == "资产总额（万元）"
    big = await chat(client, headers, "资产在1亿以上的合作社")  # 10000 万元: none
    assert not blocks(big, "table")


@pytest.mark.parametrize(
    "params",
    [
        {"field": "members", "op": "x", "amount": "1"},
        {"field": "members", "op": "gt", "amount": "-1"},
        {"field": "members", "op": "gt", "amount": "abc"},
        {"field": "members", "op": "gt", "amount": "1.5"},
        {"field": "members", "op": "gt", "amount": True},
        {"field": "loss", "op": "gt", "amount": "1"},
        {"field": "members", "op": "gt", "amount": "1e400"},
        {"field": "members", "op": "gt"},
    ],
)
async def test_a_threshold_button_with_a_bad_parameter_is_refused(client, params):
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town)
    reply = await chat(client, headers, intent="coop.over", params={"region_id": w.town.id, **params})
    assert not blocks(reply, "table") and blocks(reply, "notice")[0]["level"] == "warning", reply


@pytest.mark.parametrize(
    ("finance", "said"),
    # in the glossary's word, as "我是谁" and the person card say it (it said "金额权限")
    [
        (FinanceAccess.NONE, "您的财务权限是“无”"),
        (FinanceAccess.OWN_REGION, "您的财务权限是“仅本区域”"),
        (FinanceAccess.ALL, "您的财务权限是“全部”"),
    ],
)
async def test_why_an_amount_shows_no_access_is_answered_with_the_own_finance_access(client, finance, said):
    """ "为什么看不到利润" and "谁能看利润" looked for units named 为什么看不到 and 谁能看."""
    w = await make_world()
    headers = await login_at(client, "town_viewer", w.town, finance=finance)
    for text in ("为什么看不到利润", "谁能看利润", "无权限是什么意思", "利润为什么显示无权限"):
        answer = blocks(await chat(client, headers, text), "notice")[0]["text"]
        assert said in answer and "没有找到" not in answer, (text, answer)
