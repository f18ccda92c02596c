"""Every change to the unit tree: permission check, one transaction, audit entry inside it."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from backend.core import audit, db, identifiers, runtime
from backend.core.actor import Actor
from backend.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from backend.core.names import same_name_key
from backend.core.roles import allows
from backend.core.scope import path_prefix
from backend.units import messages as msg
from backend.units.models import REGION_TYPES, Unit, UnitType
from backend.units.queries import get_unit, get_unit_below

# How many leading digits of a 12-digit region code belong to each level.
REGION_DIGITS = {
    UnitType.PROVINCE: 2,
    UnitType.CITY: 4,
    UnitType.COUNTY: 6,
    UnitType.TOWNSHIP: 9,
    UnitType.VILLAGE: 12,
}

# The rank of each region level, province first.
REGION_LEVEL = {unit_type: level for level, unit_type in enumerate(REGION_TYPES)}


def _require_manage(actor: Actor) -> None:
    if not allows(actor.role, "units.manage"):
        raise Forbidden()


def region_within(parent: Unit, region_code: str) -> bool:
    """Does ``region_code`` lie in the region of ``parent`` (the rule of the unit tree)?"""
    if parent.region_code is None or parent.type not in REGION_TYPES:
        return True
    digits = REGION_DIGITS.get(UnitType(parent.type))
    return digits is None or region_code.startswith(parent.region_code[:digits])


async def _check_region_code(parent: Unit, region_code: str | None) -> None:
    """``region_code`` must lie in the nearest region at or above ``parent`` that has a code: below a
    co-op, or a township whose code is not filled in yet, that is the village or county above it.

    The caller holds ``parent`` (or the unit below it): a recoding above locks its whole subtree."""
    if region_code is None:
        return
    region: Unit | None = parent
    if parent.type not in REGION_TYPES or parent.region_code is None:
        above = [int(part) for part in parent.path.strip("/").split("/")[:-1]]
        coded = Unit.filter(id__in=above, type__in=list(REGION_TYPES), region_code__isnull=False)
        region = await coded.order_by("-depth").first() if above else None
    if region is not None and not region_within(region, region_code):
        raise ValidationFailed({"region_code": msg.REGION_CODE_OUTSIDE_PARENT})


def sits_below(child: UnitType, parent: UnitType) -> bool:
    """May a unit of type ``child`` sit directly below one of type ``parent``? A region only below a
    region of a higher level (levels may be skipped: a village straight under a county); a co-op,
    school, employer, work team or other unit below any unit."""
    if child not in REGION_LEVEL:
        return True
    return parent in REGION_LEVEL and REGION_LEVEL[parent] < REGION_LEVEL[child]


def _out_of_order(field: str, child: UnitType, parent: UnitType) -> AppError:
    said = msg.LEVEL_ORDER_BELOW.format(child=msg.TYPE_LABELS[child], parent=msg.TYPE_LABELS[parent])
    return AppError("unit_level_order", said, status=422, fields={field: said})


async def _check_retype_in_order(unit: Unit, new_type: UnitType) -> None:
    """Retyped as ``new_type``, the unit must still sit below its parent and above its children.

    The caller holds the unit's row; its children's rows are taken here (top down, as a move or a
    recoding takes them), so that a child being retyped at the same time (it holds its own row, then
    reads this unit's type) either waits and then reads the new type, or is seen here as retyped."""
    if unit.parent_id is not None:
        parent = await Unit.get(id=unit.parent_id)
        if not sits_below(new_type, parent.type):
            raise _out_of_order("type", new_type, parent.type)
    children = (
        await Unit.filter(parent_id=unit.id)
        .order_by("path")
        .select_for_update(no_key=True)
        .only("id", "name", "type", "path")
    )
    for child in children:
        if not sits_below(child.type, new_type):
            labels = {"new": msg.TYPE_LABELS[new_type], "child": msg.TYPE_LABELS[child.type]}
            said = msg.LEVEL_ORDER_RETYPE_CHILD.format(name=child.name, **labels)
            raise AppError("unit_level_order", said, status=422, fields={"type": said})


def _fits(path_length: int) -> bool:
    """Does a path this long fit the path column (a tree deeper than it holds is refused)?"""
    return path_length <= Unit._meta.fields_map["path"].max_length


async def _check_lower_regions(unit: Unit) -> None:
    """The unit's (new) region code and type must still hold the codes of the units below it: a
    typo in a township's code would otherwise leave every village's code outside its parent.

    Inside the transaction, with the unit's row held: its subtree is locked first (top down, as a
    move locks it), so that a code being set below it (an edit holds that unit, a creation holds the
    parent) and this recoding wait for each other, and whichever comes second sees the other."""
    if unit.region_code is None or unit.type not in REGION_TYPES:
        return
    prefix = unit.region_code[: REGION_DIGITS[UnitType(unit.type)]]
    subtree = Unit.filter(path_prefix("path", unit.path))
    await subtree.order_by("path").select_for_update(no_key=True).only("id")
    below = subtree.filter(region_code__isnull=False).exclude(id=unit.id)
    if await below.exclude(region_code__startswith=prefix).exists():
        raise ValidationFailed({"region_code": msg.REGION_CODE_EXCLUDES_LOWER})


async def _check_unique(actor: Actor, unit_id: int | None, unit_code: str | None, credit_code: str | None) -> None:
    fields: dict[str, str] = {}
    if unit_code and await Unit.filter(unit_code=unit_code).exclude(id=unit_id or 0).exists():
        fields["unit_code"] = msg.DUPLICATE_UNIT_CODE
    if credit_code and await Unit.filter(credit_code=credit_code).exclude(id=unit_id or 0).exists():
        fields["credit_code"] = msg.DUPLICATE_CREDIT_CODE
    if fields:
        raise Conflict("duplicate_code", next(iter(fields.values())), fields)
    if credit_code and not (unit_id and await Unit.exists(id=unit_id, credit_code=credit_code)):  # a unit keeps its own
        await _refuse_if_registration_holds(actor, credit_code)


async def refuse_same_name_sibling(parent: Unit, name: str, *, unit_id: int | None = None) -> None:
    """409 when a unit below ``parent`` other than ``unit_id`` has the name (:func:`backend.core.names.same_name_key`):
    lookups by name (chat, ``?name=``) could not tell the two apart.

    The caller holds the parent's row, as a creation, rename or move below it does: one of them
    waits for the other, and then sees its unit."""
    key = same_name_key(name)
    siblings = await Unit.filter(parent_id=parent.id).exclude(id=unit_id or 0).values_list("name", flat=True)
    for sibling in siblings:
        if same_name_key(sibling) == key:  # named as it is written in the tree
            said = msg.SAME_NAME_SIBLING.format(parent=parent.name, name=sibling)
            raise Conflict("duplicate_unit_name", said, {"name": said})


async def _refuse_if_region_code_held(unit_type: UnitType, region_code: str | None, unit_id: int | None) -> None:
    """409 when a region unit takes a code another region unit holds: the code names one region. A
    co-op, school and the like may give the code of the region it lies in, which that region holds.

    The caller holds the parent's row: a unit being given the code below the same parent waits
    (a double-tapped create). Units under different parents given one code at the same moment are
    not held off: no unique index (co-ops share codes), and no row above both is locked."""
    if region_code is None or unit_type not in REGION_TYPES:
        return
    held = Unit.filter(region_code=region_code, type__in=list(REGION_TYPES)).exclude(id=unit_id or 0)
    if await held.exists():
        raise Conflict("duplicate_region_code", msg.DUPLICATE_REGION_CODE, {"region_code": msg.DUPLICATE_REGION_CODE})


async def _refuse_if_registration_holds(actor: Actor, credit_code: str) -> None:
    """A registration waiting for a decision holds its credit code (P12): a unit created with it
    meanwhile would leave the approval failing. The refusal says where it is decided: in the actor's
    scope, the registration by its number; outside it, only the superior it asked to join."""
    from backend.registration.messages import SUPERIOR_GONE
    from backend.registration.models import RegistrationStatus, UnitRegistration

    pending = UnitRegistration.filter(credit_code=credit_code, status=RegistrationStatus.PENDING)
    registration = await pending.select_related("parent").first()
    if registration is None:
        return
    superior: Unit | None = registration.parent  # kept while it waits (see _refuse_if_pending_requests)
    if superior is not None and actor.covers(superior.path):
        said = msg.CREDIT_CODE_PENDING_REGISTRATION.format(
            name=registration.unit_name, superior=superior.name, id=registration.id
        )
    else:
        said = msg.CREDIT_CODE_PENDING_ELSEWHERE.format(superior=superior.name if superior else SUPERIOR_GONE)
    raise Conflict("pending_registration", said, {"credit_code": said})


async def create_unit(
    actor: Actor,
    *,
    parent_id: int,
    name: str,
    unit_type: UnitType,
    region_code: str | None = None,
    unit_code: str | None = None,
    credit_code: str | None = None,
) -> Unit:
    """Create a unit below one in the actor's scope (its own unit included). The codes are checked
    against the parent as it is under its lock: a recoding of the parent waits, or was committed."""
    _require_manage(actor)
    now = runtime.get().clock.now()
    try:
        async with db.atomic():
            parent = await _locked_in_scope(actor, parent_id)
            if not sits_below(unit_type, parent.type):
                raise _out_of_order("type", unit_type, parent.type)
            await _check_region_code(parent, region_code)
            await refuse_same_name_sibling(parent, name)
            await _refuse_if_region_code_held(unit_type, region_code, None)
            await _check_unique(actor, None, unit_code, credit_code)
            unit = await Unit.create(
                parent_id=parent.id,
                name=name,
                type=unit_type,
                region_code=region_code,
                unit_code=unit_code,
                credit_code=credit_code,
                org_code=identifiers.org_code_of(credit_code),
                path="",
                depth=parent.depth + 1,
                created_at=now,
                updated_at=now,
            )
            unit.path = f"{parent.path}{unit.id}/"
            if not _fits(len(unit.path)):  # the row goes with the transaction
                raise ValidationFailed({"parent_id": msg.TREE_TOO_DEEP}, msg.TREE_TOO_DEEP)
            await unit.save(update_fields=["path"])
            await audit.record(
                "unit.create",
                actor=actor,
                scope_path=unit.path,
                target_type="unit",
                target_id=unit.id,
                detail={"parent_id": parent.id, "type": unit_type.value},
            )
    except IntegrityError:
        await _check_unique(actor, None, unit_code, credit_code)
        raise
    return unit


async def _locked_in_scope(actor: Actor, unit_id: int, *, no_key: bool = True) -> Unit:
    """The unit's row locked and read inside the transaction: a move committed since any earlier
    read has rewritten its path (and may have taken it out of the actor's scope). Holding it makes a
    move of the subtree wait, or this wait for the move (see :func:`move_unit`), and likewise a
    change of its region code (see :func:`_check_lower_regions`). ``no_key=False`` (a delete) also
    holds off the rows being written that refer to the unit, whose key check takes a share lock."""
    unit = await Unit.filter(id=unit_id).select_for_update(no_key=no_key).first()
    if unit is None or not actor.covers(unit.path):
        raise NotFound()
    return unit


async def update_unit(actor: Actor, unit_id: int, changes: dict[str, Any]) -> Unit:
    """Edit a unit strictly below the actor's own; ``changes`` holds only the fields to set.

    Every check reads under the unit's lock, in the transaction that writes: the parent's code
    cannot change meanwhile (a recoding of the parent locks its subtree, this unit included). A new
    name or region code is checked against the siblings under the parent's lock, taken first (top
    down, as a recoding takes its subtree): a unit being created or renamed there waits, or is seen."""
    _require_manage(actor)
    if not changes:
        return await get_unit_below(actor, unit_id)
    placed = bool({"name", "type", "region_code"} & changes.keys())  # what the siblings are checked for
    parent_id = (await get_unit_below(actor, unit_id)).parent_id if placed else None
    now = runtime.get().clock.now()
    try:
        async with db.atomic():
            parent = await _locked_parent(parent_id)
            unit = await _locked_in_scope(actor, unit_id)
            if unit.id == actor.unit_id:
                raise NotFound()
            if placed and (parent is None or parent.id != unit.parent_id):  # moved since it was read
                parent = await _locked_parent(unit.parent_id)
            if "type" in changes and changes["type"] != unit.type:  # an unchanged type moves nothing
                await _check_retype_in_order(unit, changes["type"])
            if parent is not None:  # always, as the unit is below the actor's own
                if "region_code" in changes:
                    await _check_region_code(parent, changes["region_code"])
                await _refuse_if_placed_twice(unit, parent, changes)
            await _check_unique(actor, unit.id, changes.get("unit_code"), changes.get("credit_code"))
            if "credit_code" in changes:
                changes = {**changes, "org_code": identifiers.org_code_of(changes["credit_code"])}
            for name, value in changes.items():
                setattr(unit, name, value)
            if "region_code" in changes or "type" in changes:
                await _check_lower_regions(unit)
            if "type" in changes and changes["type"] != UnitType.COOP:
                await _refuse_if_coop_card(unit.id)
            unit.updated_at = now
            await unit.save(update_fields=[*changes.keys(), "updated_at"])
            await audit.record(
                "unit.update",
                actor=actor,
                scope_path=unit.path,
                target_type="unit",
                target_id=unit.id,
                detail={"fields": sorted(changes)},
            )
    except IntegrityError:  # a parallel write took the code after the check: say which, as create does
        await _check_unique(actor, unit.id, changes.get("unit_code"), changes.get("credit_code"))
        raise
    return unit


async def _locked_parent(parent_id: int | None) -> Unit | None:
    """The parent's row locked (as a creation below it locks it), or None for a root."""
    if parent_id is None:
        return None
    return await Unit.filter(id=parent_id).select_for_update(no_key=True).first()


async def _refuse_if_placed_twice(unit: Unit, parent: Unit, changes: dict[str, Any]) -> None:
    """A new name the parent already holds, or a region code another region holds, is refused
    (the caller holds ``parent``). What the edit leaves as it was is not checked: namesakes written
    before the rule (an import, the demo's villages) keep their other fields editable."""
    if "name" in changes and same_name_key(changes["name"]) != same_name_key(unit.name):
        await refuse_same_name_sibling(parent, changes["name"], unit_id=unit.id)
    new_type = UnitType(changes.get("type", unit.type))
    region_code = changes.get("region_code", unit.region_code)
    becomes_region = new_type in REGION_TYPES and unit.type not in REGION_TYPES
    if region_code != unit.region_code or becomes_region:
        await _refuse_if_region_code_held(new_type, region_code, unit.id)


async def _refuse_if_coop_card(unit_id: int) -> None:
    """A co-op with an info card keeps its type: its card would stay counted in every summary above
    it and could no longer be edited or deleted (D1, W4). The caller holds the unit's row, so that a
    card being written at the same time (backend.coops.actions locks it too) waits and then finds
    the new type."""
    from backend.coops.models import CoopCard

    if await CoopCard.exists(unit_id=unit_id):
        raise Conflict("coop_has_card", msg.COOP_TYPE_HAS_CARD, {"type": msg.COOP_TYPE_HAS_CARD})


async def move_unit(actor: Actor, unit_id: int, *, new_parent_id: int) -> Unit:
    """Move a subtree under another parent in scope; every path below is rewritten in one statement.
    The audit entry is filed where the unit arrived and, unless that is still below its old parent,
    where it left (P10: the old place's admins see that it went)."""
    from backend.coops.rollups import move_subtree  # the co-op roll-ups follow the subtree (W4)

    _require_manage(actor)
    await get_unit_below(actor, unit_id)
    await get_unit(actor, new_parent_id)
    now = runtime.get().clock.now()
    async with db.atomic():
        # Lock both rows (in id order) and read them again: a concurrent move may have changed paths.
        locked = {
            u.id: u for u in await Unit.filter(id__in=[unit_id, new_parent_id]).order_by("id").select_for_update()
        }
        unit, new_parent = locked.get(unit_id), locked.get(new_parent_id)
        if (
            unit is None
            or new_parent is None
            or unit.id == actor.unit_id
            or not actor.covers(unit.path)
            or not (actor.covers(new_parent.path))
        ):
            raise NotFound()
        if new_parent.path.startswith(unit.path):
            raise ValidationFailed({"new_parent_id": msg.MOVE_INTO_OWN_SUBTREE}, msg.MOVE_INTO_OWN_SUBTREE)
        if unit.parent_id == new_parent.id:
            raise ValidationFailed({"new_parent_id": msg.SAME_PARENT}, msg.SAME_PARENT)
        if not sits_below(unit.type, new_parent.type):  # the subtree keeps its order below the unit
            raise _out_of_order("new_parent_id", unit.type, new_parent.type)
        await refuse_same_name_sibling(new_parent, unit.name, unit_id=unit.id)  # new_parent is held
        old_path = unit.path
        new_path = f"{new_parent.path}{unit.id}/"
        depth_delta = new_parent.depth + 1 - unit.depth
        # Lock the subtree first (top down, as a parallel move of a unit inside it locks): a unit
        # being created below it holds its parent (create_unit) and this waits for it, so that the
        # UPDATE below, a later statement, also sees and moves the new unit. NO KEY: rows that only
        # refer to these units (memberships, cards, devices) are not held up.
        subtree = (
            await Unit.filter(path_prefix("path", old_path))
            .order_by("path")
            .select_for_update(no_key=True)
            .only("id", "path")
        )
        if not _fits(max(len(u.path) for u in subtree) - len(old_path) + len(new_path)):
            raise ValidationFailed({"new_parent_id": msg.TREE_TOO_DEEP}, msg.TREE_TOO_DEEP)
        await db.execute(
            "UPDATE unit SET path = ? || substr(path, ?), depth = depth + ? WHERE path LIKE ?",
            [new_path, len(old_path) + 1, depth_delta, old_path + "%"],
        )
        await move_subtree(unit.id, old_path, new_path)
        await Unit.filter(id=unit.id).update(parent_id=new_parent.id, updated_at=now)
        # An entry is seen below its path only: the units above the old place that are not above the
        # new one (the township a village left) get an entry of their own, filed where it was.
        moved = {"from_parent_id": unit.parent_id, "to_parent_id": new_parent.id}
        old_parent_path = old_path[: old_path.rstrip("/").rfind("/") + 1]
        places = [(old_path, "from")] if not new_path.startswith(old_parent_path) else []
        for scope_path, side in [*places, (new_path, "to")]:
            await audit.record(
                "unit.move",
                actor=actor,
                scope_path=scope_path,
                target_type="unit",
                target_id=unit.id,
                detail={**moved, "side": side},
            )
    return await Unit.get(id=unit.id)


def _listed(names: list[str], most: int = 3) -> str:
    """The first ``most`` names for a message, "等" when there are more."""
    return "、".join(names[:most]) + (msg.AND_MORE if len(names) > most else "")


async def _refuse_if_pending_requests(unit_id: int) -> None:
    """A registration asking to join the unit, or a manual review about it, that waits for a decision
    holds the unit: an admin decides it first (the refusal names it). A decided one holds nothing: its
    record stays, its link to the unit emptied by the database (``ON DELETE SET NULL``, migration 0014).

    The caller holds the unit's row (FOR UPDATE): a request being filed checks its key against that
    lock and waits, then finds the unit gone; a decision only changes the status, so whichever
    commits first is seen (a request being decided meanwhile still counts as pending: refused)."""
    from backend.registration.models import RegistrationStatus, UnitRegistration
    from backend.reviews.messages import KIND_LABELS
    from backend.reviews.models import ReviewRequest, ReviewStatus

    pending = UnitRegistration.filter(parent_id=unit_id, status=RegistrationStatus.PENDING)
    names = await pending.order_by("id").values_list("unit_name", flat=True)
    if names:
        said = msg.UNIT_HAS_PENDING_REGISTRATIONS.format(count=len(names), names=_listed(list(names)))
        raise Conflict("unit_not_empty", said)
    kinds = await ReviewRequest.filter(unit_id=unit_id, status=ReviewStatus.PENDING).values_list("kind", flat=True)
    if kinds:
        counted = {kind: kinds.count(kind) for kind in KIND_LABELS if kind in kinds}
        named = "、".join(f"{KIND_LABELS[kind]} {count} 份" for kind, count in counted.items())
        raise Conflict("unit_not_empty", msg.UNIT_HAS_PENDING_REVIEWS.format(count=len(kinds), kinds=named))


async def delete_unit(actor: Actor, unit_id: int) -> None:
    """Delete a unit below the actor's own, only when nothing holds it; a refusal names what does.

    Every check reads in the transaction, under the unit's row lock (FOR UPDATE, as the delete takes
    it): a unit being created below it holds it too (create_unit), so does a co-op card being written
    (backend.coops.actions), and a membership or any other row referring to it checks its key against
    that lock. Each waits for the delete and then finds the unit gone, or the delete waits for it and
    then sees it. The audit entry takes the path as locked: a move may have been committed meanwhile."""
    from backend.accounts.models import Membership  # accounts hang off units, not the reverse
    from backend.coops.models import CoopCard
    from backend.devices.models import Device

    _require_manage(actor)
    try:
        async with db.atomic():
            unit = await _locked_in_scope(actor, unit_id, no_key=False)
            if unit.id == actor.unit_id:
                raise NotFound()
            if await Unit.exists(parent_id=unit.id):
                raise Conflict("unit_not_empty", msg.UNIT_HAS_CHILDREN)
            if await Membership.exists(unit_id=unit.id, account__is_active=True):
                raise Conflict("unit_not_empty", msg.UNIT_HAS_ACCOUNTS)
            if await Membership.exists(unit_id=unit.id):  # a deactivated account keeps its unit (the audit's)
                raise Conflict("unit_not_empty", msg.UNIT_HAS_DEACTIVATED_ACCOUNTS)
            if await CoopCard.exists(unit_id=unit.id):
                raise Conflict("unit_not_empty", msg.UNIT_HAS_COOP_CARD)
            if await Device.exists(unit_id=unit.id):  # kept, revoked too: devices are never deleted
                raise Conflict("unit_not_empty", msg.UNIT_HAS_DEVICE)
            await _refuse_if_pending_requests(unit.id)
            await audit.record(
                "unit.delete",
                actor=actor,
                scope_path=unit.path,
                target_type="unit",
                target_id=unit.id,
                detail={"name": unit.name},
            )
            await unit.delete()
    except IntegrityError as exc:  # still referenced by a row the checks above do not know: nothing was deleted
        raise Conflict("unit_not_empty", msg.UNIT_STILL_REFERENCED) from exc
