"""Demo data: a realistic region tree with Chinese names and demo accounts.

``small``: one province with a handful of cities, counties, townships and villages, and one demo
account per role and level (printed with their passwords, demo only). ``large``: the same plus
generated regions up to about 14 cities, 120 counties, 1,500 townships, 20,000 villages and
100,000 accounts, inserted in bulk (the bulk accounts share one precomputed password hash), for
measuring at scale. Demo data is written directly, not through actions: it is not a user's change.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backend.accounts.models import Account, Membership
from backend.coops import rollups
from backend.coops.models import CoopCard
from backend.core import db, identifiers, names, runtime
from backend.core.passwords import generate_temporary_password, hash_password_sync
from backend.core.roles import FinanceAccess, Role
from backend.demo.requests import add_pending_requests
from backend.units.models import Unit, UnitType

PROVINCE_CODE = "53"
SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金廖贾夏韦方邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
PLACE_FIRST = "青白石桃柳杨清红金银龙凤云松梅竹兰翠碧丰安平宁兴和太永长新东西南北中上下大小高双三五古"
PLACE_SECOND = "山水河溪桥江坪田林岭源口塘湖洲沙阳冲坝岗庄寨湾"
VILLAGE_SUFFIX = (
    "家湾",
    "家坪",
    "家冲",
    "家村",
    "家寨",
    "家岭",
    "家庄",
    "家河",
    "家桥",
    "家塘",
    "家岗",
    "家坝",
    "家沟",
)
GIVEN_NAMES = "建国志强秀英桂兰海燕丽娟明华永红国庆小平玉梅德胜春生文斌晓东雪梅红霞金花伟军"

# The named part of the demo tree: (name, type, children).
DEMO_TREE: tuple[Any, ...] = (
    "云岭省",
    UnitType.PROVINCE,
    (
        (
            "青州市",
            UnitType.CITY,
            (
                (
                    "青山县",
                    UnitType.COUNTY,
                    (
                        (
                            "白沙镇",
                            UnitType.TOWNSHIP,
                            (
                                ("王家湾村", UnitType.VILLAGE, ()),
                                ("李家坪村", UnitType.VILLAGE, ()),
                                ("张家冲村", UnitType.VILLAGE, ()),
                                ("陈家寨村", UnitType.VILLAGE, ()),
                            ),
                        ),
                        (
                            "桃源乡",
                            UnitType.TOWNSHIP,
                            (
                                ("刘家岭村", UnitType.VILLAGE, ()),
                                ("杨家河村", UnitType.VILLAGE, ()),
                                ("黄家塘村", UnitType.VILLAGE, ()),
                            ),
                        ),
                    ),
                ),
                (
                    "石门县",
                    UnitType.COUNTY,
                    (
                        (
                            "清溪镇",
                            UnitType.TOWNSHIP,
                            (
                                ("赵家庄村", UnitType.VILLAGE, ()),
                                ("周家桥村", UnitType.VILLAGE, ()),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        (
            "白水市",
            UnitType.CITY,
            (
                (
                    "龙泉县",
                    UnitType.COUNTY,
                    (
                        (
                            "金沙镇",
                            UnitType.TOWNSHIP,
                            (
                                ("吴家坝村", UnitType.VILLAGE, ()),
                                ("徐家沟村", UnitType.VILLAGE, ()),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# (username, role, unit name, must change password); the agent holds two units.
DEMO_ACCOUNTS: tuple[tuple[str, Role, tuple[str, ...], bool], ...] = (
    ("demo_sysadmin", Role.SYSADMIN, ("云岭省",), False),
    ("demo_province_admin", Role.ADMIN, ("云岭省",), False),
    ("demo_city_admin", Role.ADMIN, ("青州市",), False),
    ("demo_county_admin", Role.ADMIN, ("青山县",), False),
    ("demo_county_viewer", Role.VIEWER, ("青山县",), False),
    ("demo_town_admin", Role.ADMIN, ("白沙镇",), False),
    ("demo_town_clerk", Role.CLERK, ("白沙镇",), False),
    ("demo_town_viewer", Role.VIEWER, ("白沙镇",), False),
    ("demo_village_admin", Role.ADMIN, ("王家湾村",), False),
    ("demo_village_clerk", Role.CLERK, ("王家湾村",), False),
    ("demo_village_viewer", Role.VIEWER, ("王家湾村",), False),
    ("demo_agent", Role.CLERK, ("李家坪村", "张家冲村"), False),
    ("demo_newcomer", Role.CLERK, ("王家湾村",), True),
)

LARGE_TARGET = {"cities": 14, "counties": 120, "townships": 1500, "villages": 20000, "accounts": 100_000}

# Co-ops (D1): each township has its grassroots supply-and-marketing co-op; each village a village-level
# service co-op and maybe specialised ones. ``large`` has about COOPS_PER_VILLAGE co-ops per village
# (30,000 at 20,000 villages); counties listed here, and every fourth generated one, are poverty counties.
COOPS_PER_VILLAGE = 1.5
POVERTY_COUNTIES = ("石门县", "龙泉县")
SPECIALISED_COOPS = ("茶叶专业合作社", "果蔬专业合作社", "养殖专业合作社", "农机服务合作社", "中药材专业合作社")


@dataclass
class _Plan:
    next_id: int
    units: list[Unit]
    now: datetime


def demo_file(var_dir: Path) -> Path:
    return var_dir / "demo-accounts.json"


def _phone(n: int) -> str:
    return f"139{n:08d}"


def _id_number(region_code: str, n: int) -> str:
    birth = f"19{60 + n % 40:02d}{1 + n % 12:02d}{1 + n % 28:02d}"
    first17 = f"{region_code[:6]}{birth}{n % 1000:03d}"
    return first17 + identifiers.id_number_check_char(first17)


def _person_name(rng: random.Random) -> str:
    given = GIVEN_NAMES[rng.randrange(0, len(GIVEN_NAMES) - 1, 2)]
    return rng.choice(SURNAMES) + given + (GIVEN_NAMES[rng.randrange(len(GIVEN_NAMES))] if rng.random() < 0.6 else "")


def _add(plan: _Plan, name: str, unit_type: UnitType, parent: Unit | None, region_code: str) -> Unit:
    unit_id = plan.next_id
    plan.next_id += 1
    unit = Unit(
        id=unit_id,
        parent_id=parent.id if parent else None,
        name=name,
        type=unit_type,
        region_code=region_code,
        path=f"{parent.path if parent else '/'}{unit_id}/",
        depth=(parent.depth + 1) if parent else 0,
        created_at=plan.now,
        updated_at=plan.now,
    )
    names.fill(unit)  # bulk_create bypasses save()
    plan.units.append(unit)
    return unit


_LEVEL_CODE = {
    UnitType.CITY: (2, 2),
    UnitType.COUNTY: (4, 2),
    UnitType.TOWNSHIP: (6, 3),
    UnitType.VILLAGE: (9, 3),
}


def _child_code(parent_code: str, unit_type: UnitType, index: int) -> str:
    start, width = _LEVEL_CODE[unit_type]
    return (parent_code[:start] + f"{index:0{width}d}").ljust(12, "0")


def _build_named(plan: _Plan, node: tuple[Any, ...], parent: Unit | None, code: str) -> dict[str, Unit]:
    name, unit_type, children = node
    unit = _add(plan, name, unit_type, parent, code)
    found = {name: unit}
    for index, child in enumerate(children, start=1):
        found.update(_build_named(plan, child, unit, _child_code(code, child[1], index)))
    return found


def _place(rng: random.Random, suffix: str) -> str:
    return rng.choice(PLACE_FIRST) + rng.choice(PLACE_SECOND) + suffix


def _build_generated(plan: _Plan, province: Unit, rng: random.Random) -> None:
    """Fill the province up to the large targets, spreading counties, townships and villages evenly."""
    cities = [u for u in plan.units if u.type == UnitType.CITY]
    counties = [u for u in plan.units if u.type == UnitType.COUNTY]
    townships = [u for u in plan.units if u.type == UnitType.TOWNSHIP]
    villages = [u for u in plan.units if u.type == UnitType.VILLAGE]
    children: dict[int, int] = {}
    for unit in plan.units:
        if unit.parent_id is not None:
            children[unit.parent_id] = children.get(unit.parent_id, 0) + 1

    def grow(level: list[Unit], parents: list[Unit], target: int, unit_type: UnitType, suffixes: tuple[str, ...]):
        index = 0
        while len(level) < target:
            parent = parents[index % len(parents)]
            index += 1
            children[parent.id] = children.get(parent.id, 0) + 1
            code = _child_code(parent.region_code or "", unit_type, children[parent.id])
            if unit_type == UnitType.VILLAGE:
                name = rng.choice(SURNAMES) + rng.choice(VILLAGE_SUFFIX) + "村"
            else:
                name = _place(rng, rng.choice(suffixes))
            level.append(_add(plan, name, unit_type, parent, code))

    grow(cities, [province], LARGE_TARGET["cities"], UnitType.CITY, ("市",))
    grow(counties, cities, LARGE_TARGET["counties"], UnitType.COUNTY, ("县",))
    grow(townships, counties, LARGE_TARGET["townships"], UnitType.TOWNSHIP, ("镇", "乡"))
    grow(villages, townships, LARGE_TARGET["villages"], UnitType.VILLAGE, ("村",))


async def is_empty() -> bool:
    return not await Unit.exists()


async def seed(scale: str, var_dir: Path, *, rng_seed: int = 20261122) -> dict[str, Any]:
    """Seed an empty database; returns the demo accounts and the counts written."""
    if not await is_empty():
        raise RuntimeError("the database already has units; demo data goes only into an empty database")
    rt = runtime.get()
    rng = random.Random(rng_seed)
    plan = _Plan(next_id=1, units=[], now=rt.clock.now())
    named = _build_named(plan, DEMO_TREE, None, PROVINCE_CODE.ljust(12, "0"))
    if scale == "large":
        _build_generated(plan, named["云岭省"], rng)

    demo: list[dict[str, Any]] = []
    accounts: list[Account] = []
    memberships: list[tuple[int, int, Role]] = []  # (account id, unit id, role)
    account_id = 1
    for username, role, unit_names, must_change in DEMO_ACCOUNTS:
        password = generate_temporary_password()
        unit = named[unit_names[0]]
        accounts.append(
            _account(
                account_id,
                username,
                _person_name(rng),
                unit,
                account_id,
                hash_password_sync(password),
                must_change,
                plan.now,
            )
        )
        memberships += [(account_id, named[n].id, role) for n in unit_names]
        demo.append(
            {
                "username": username,
                "password": password,
                "role": role.value,
                "units": list(unit_names),
                "must_change_password": must_change,
            }
        )
        account_id += 1

    bulk_password = ""
    if scale == "large":
        bulk_password = generate_temporary_password()
        shared_hash = hash_password_sync(bulk_password)
        per_type = {
            UnitType.PROVINCE: 60,
            UnitType.CITY: 10,
            UnitType.COUNTY: 40,
            UnitType.TOWNSHIP: 10,
            UnitType.VILLAGE: 4,
        }
        roles = (Role.ADMIN, Role.CLERK, Role.VIEWER, Role.VIEWER)
        for unit in plan.units:
            for k in range(per_type[UnitType(unit.type)]):
                if account_id > LARGE_TARGET["accounts"]:
                    break
                accounts.append(
                    _account(
                        account_id,
                        f"u{account_id:06d}",
                        _person_name(rng),
                        unit,
                        account_id,
                        shared_hash,
                        False,
                        plan.now,
                    )
                )
                memberships.append((account_id, unit.id, roles[k % len(roles)]))
                account_id += 1

    coop_units, cards = _plan_coops(plan, random.Random(rng_seed + 1), scale)

    async with db.atomic():
        await Unit.bulk_create(plan.units, batch_size=2000)
        await Account.bulk_create(accounts, batch_size=2000)
        await Membership.bulk_create(
            [
                Membership(
                    account_id=a,
                    unit_id=u,
                    role=r,
                    finance_access=FinanceAccess.ALL if r in (Role.ADMIN, Role.SYSADMIN) else FinanceAccess.NONE,
                    created_at=plan.now,
                )
                for a, u, r in memberships
            ],
            batch_size=2000,
        )
        await Unit.bulk_create(coop_units, batch_size=2000)
        await CoopCard.bulk_create(cards, batch_size=2000)
        if rt.settings.dialect == "postgres":  # explicit ids were inserted: move the sequences past them
            for table in ("unit", "account", "membership", "coop_card"):
                await db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))", []
                )
        await rollups.rebuild()  # the summaries' roll-ups, from the cards just written, with them
        await add_pending_requests(named["白沙镇"])  # a review and a registration to decide in the chat
    # bulk inserts leave the planner without statistics (SQLite keeps none until analysed)
    if rt.settings.dialect == "postgres":
        await db.db().execute_script(
            "ANALYZE unit; ANALYZE account; ANALYZE membership; ANALYZE coop_card; ANALYZE coop_rollup;"
        )
    else:
        await db.analyze()
    result = {
        "scale": scale,
        "demo_accounts": demo,
        "bulk_password": bulk_password,
        "counts": {
            "units": len(plan.units) + len(coop_units),
            "accounts": len(accounts),
            "memberships": len(memberships),
            "coops": len(cards),
        },
    }
    path = demo_file(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    path.chmod(0o600)
    return result


def _coop_credit_code(region_code: str, n: int) -> str:
    """A unified social credit code with valid check characters: 93 (farmers' co-op) + county + org code."""
    org8 = f"MA{n:06d}"
    first17 = f"93{region_code[:6]}{org8}{identifiers.org_code_check_char(org8)}"
    return first17 + identifiers.credit_code_check_char(first17)


def _plan_coops(plan: _Plan, rng: random.Random, scale: str) -> tuple[list[Unit], list[CoopCard]]:
    """Co-op units below the townships and villages of the plan, each with its info card."""
    by_id = {u.id: u for u in plan.units}
    counties = [u for u in plan.units if u.type == UnitType.COUNTY]
    townships = [u for u in plan.units if u.type == UnitType.TOWNSHIP]
    villages = [u for u in plan.units if u.type == UnitType.VILLAGE]
    poverty = {c.id for i, c in enumerate(counties) if c.name in POVERTY_COUNTIES or (i >= 3 and i % 4 == 0)}
    specialised = max(0, round(len(villages) * COOPS_PER_VILLAGE) - len(villages) - len(townships))
    vault = runtime.get().vault
    units: list[Unit] = []
    cards: list[CoopCard] = []

    def county_of(unit: Unit) -> Unit:
        while unit.type != UnitType.COUNTY:
            unit = by_id[unit.parent_id]  # type: ignore[index]
        return unit

    def add_coop(name: str, parent: Unit, village_level: bool) -> None:
        unit_id = plan.next_id
        plan.next_id += 1
        unit = Unit(
            id=unit_id,
            parent_id=parent.id,
            name=name,
            type=UnitType.COOP,
            credit_code=(credit := _coop_credit_code(parent.region_code or PROVINCE_CODE.ljust(12, "0"), unit_id)),
            org_code=identifiers.org_code_of(credit),  # recovery by unit (R3) finds a unit by either
            path=f"{parent.path}{unit_id}/",
            depth=parent.depth + 1,
            created_at=plan.now,
            updated_at=plan.now,
        )
        names.fill(unit)  # bulk_create bypasses save()
        units.append(unit)
        county = county_of(parent)
        # a county's co-ops cluster around a point of its own; one in ten has no coordinates yet
        located = rng.random() >= 0.1
        centre = (22.5 + county.id * 7919 % 600 / 100, 98.0 + county.id * 104729 % 700 / 100)
        phone = f"137{unit_id:08d}"
        assets = rng.randint(50, 5000) * 1_000_000  # 50 to 5,000 万元, in fen
        cards.append(
            CoopCard(
                unit_id=unit_id,
                members=rng.randint(20, 800),
                staff=rng.randint(1, 40),
                registered_capital_fen=rng.randint(10, 500) * 1_000_000,
                assets_fen=assets,
                revenue_fen=rng.randint(0, assets),
                profit_fen=rng.randint(-assets // 20, assets // 10),
                business_scope="生活服务、代购代销" if village_level else "农资、日用品、农产品收购与销售",
                contact_name=_person_name(rng),
                contact_phone_enc=vault.encrypt("coop.contact_phone", phone),
                contact_phone_index=vault.index("phone", phone),
                address=f"{parent.name}{rng.randint(1, 12)}组" if parent.type == UnitType.VILLAGE else parent.name,
                latitude=round(centre[0] + rng.uniform(-0.15, 0.15), 5) if located else None,
                longitude=round(centre[1] + rng.uniform(-0.15, 0.15), 5) if located else None,
                founded_year=rng.randint(1985, 2024),
                report_year=plan.now.year - 1,
                is_village_level=village_level,
                is_benchmark=rng.random() < 0.15,
                in_poverty_county=county.id in poverty,
                created_at=plan.now,
                updated_at=plan.now,
            )
        )

    for township in townships:
        add_coop(f"{township.name}供销合作社", township, False)
    for village in villages:
        add_coop(f"{village.name}综合服务社", village, True)
        if scale == "small":
            count = 2 if village.name == "王家湾村" else rng.randint(0, 1)
        else:
            count, specialised = (1, specialised - 1) if specialised > 0 else (0, 0)
        for kind in rng.sample(SPECIALISED_COOPS, count):
            add_coop(f"{village.name}{kind}", village, False)
    return units, cards


def _account(
    account_id: int,
    username: str,
    name: str,
    unit: Unit,
    n: int,
    password_hash: str,
    must_change: bool,
    now: datetime,
) -> Account:
    vault = runtime.get().vault
    phone = _phone(n)
    id_number = _id_number(unit.region_code or "530000000000", n)
    account = Account(
        id=account_id,
        username=username,
        username_key=username.lower(),
        name=name,
        phone_enc=vault.encrypt("account.phone", phone),
        phone_index=vault.index("phone", phone),
        login_phone_index=vault.index("phone", phone),
        id_number_enc=vault.encrypt("account.id_number", id_number),
        id_number_index=vault.index("id_number", id_number),
        password_hash=password_hash,
        must_change_password=must_change,
        created_at=now,
        updated_at=now,
    )
    names.fill(account)
    return account


def describe(var_dir: Path) -> str:
    """The demo accounts as text for the console (demo data only, never in production)."""
    path = demo_file(var_dir)
    if not path.exists():
        return "（没有演示账号记录）"
    data = json.loads(path.read_text())
    lines = [
        "",
        "==== 演示账号（仅供演示，切勿用于生产）/ DEMO ACCOUNTS, DEMO ONLY ====",
        f"{'username':<22}{'password':<16}{'role':<10}units",
    ]
    for item in data["demo_accounts"]:
        flag = "  (must change password)" if item["must_change_password"] else ""
        lines.append(f"{item['username']:<22}{item['password']:<16}{item['role']:<10}{'、'.join(item['units'])}{flag}")
    if data.get("bulk_password"):
        lines.append(f"bulk accounts u000014 ... share the password {data['bulk_password']}")
    lines.append("Log in with user name + password + the picture captcha; phone login uses 139000000NN.")
    return "\n".join(lines)
