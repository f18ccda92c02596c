"""Pinyin keys of unit and account names stay in step with the names, however they are written."""

from __future__ import annotations

from backend.accounts.models import Account
from backend.core.names import alternate_keys, match_key, pinyin_keys
from backend.units.models import Unit
from tests.factories import login, make_account, make_tree


def test_pinyin_keys_are_whole_and_initials_without_tones():
    assert pinyin_keys("王家湾村") == ("wangjiawancun", "wjwc")
    assert pinyin_keys("王家弯") == ("wangjiawan", "wjw")  # a homophone typo keys the same


def test_lookup_keys_ignore_characters_that_show_as_nothing():
    """A name stored before such characters were dropped (or typed with one) keys as the name seen:
    "王家\\u200b湾村" had "\\u200b" in its pinyin and in its match key, and matched no lookup."""
    for pasted in ("王家\u200b湾村", "\ufeff王家湾\u2060村\u200d", "王\u00ad家湾村\u3164"):
        assert match_key(pasted) == match_key("王家湾村") == "王家湾村"
        assert pinyin_keys(pasted) == ("wangjiawancun", "wjwc")
    assert alternate_keys("长\u200b岭村") == alternate_keys("长岭村") == (("changlingcun", "clc"),)


async def test_units_get_their_keys_on_create_and_on_rename(client):
    tree = await make_tree()
    await make_account("county_admin", tree.parent, role="admin")
    headers = await login(client, "county_admin")
    created = await client.post(
        "/api/units/", headers=headers, json={"parent_id": tree.own.id, "name": "李家坪村", "type": "village"}
    )
    unit = await Unit.get(id=created.json()["id"])
    assert (unit.name_pinyin, unit.name_initials) == ("lijiapingcun", "ljpc")
    await client.patch(f"/api/units/{unit.id}", headers=headers, json={"name": "李家坡村"})
    assert (await Unit.get(id=unit.id)).name_pinyin == "lijiapocun"


async def test_account_keys_follow_a_profile_rename(client):
    tree = await make_tree()
    account = await make_account("renamed", tree.own)
    headers = await login(client, "renamed")
    await client.patch("/api/profile", headers=headers, json={"name": "张三丰"})
    stored = await Account.get(id=account.id)
    assert (stored.name_pinyin, stored.name_initials) == ("zhangsanfeng", "zsf")
