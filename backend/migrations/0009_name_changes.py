"""The change log that keeps each process's in-memory name index (backend/chat/name_index.py) exact.

Triggers on ``unit``, ``account`` and ``membership`` append one ``name_change`` row for every write
that can change what a name lookup finds, in the writer's own transaction, whoever writes (the ORM,
written SQL, another process), under a version taken from ``name_index_state``: the update of that
one row holds its lock until the writer commits, so versions become visible in the order they were
taken and without gaps (a rolled-back writer takes its number back). A reader that has applied up
to version N reads ``version > N`` and knows it has missed nothing, or, if the first row it sees is
not N + 1 (pruned away), that it must rebuild.

On PostgreSQL a transaction takes one version for all its rows (kept in a transaction-local
setting): bumping the one row for each of a bulk insert's 100,000 rows made every bump walk the
row's earlier versions, and the demo seed never finished. SQLite updates the row in place, so each
row there takes its own version. Either way the rows of a version are whole when a reader sees
them; a transaction that changes names holds the version lock until it ends, so such writers run
one after another.

Kinds: ``account`` (ref: an account whose name keys or memberships changed: re-read its rows),
``unit`` (a unit inserted, given its first path, renamed, retyped, re-parented or deleted: re-read
it) and ``tree`` (a placed unit's path or depth changed: a subtree moved, and every person under it
moved too: rebuild).
SQLite and PostgreSQL write triggers differently; the tables are the same.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLES = """
CREATE TABLE IF NOT EXISTS name_index_state (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO name_index_state (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS name_change (
    version BIGINT NOT NULL,
    kind VARCHAR(8) NOT NULL,
    ref BIGINT NOT NULL,
    PRIMARY KEY (version, kind, ref)
);
"""

ACCOUNT_KEYS = ("name", "name_pinyin", "name_initials", "username_key")
UNIT_KEYS = ("name", "name_pinyin", "name_initials", "type", "parent_id")
TREE_KEYS = ("path", "depth")
MEMBER_KEYS = ("account_id", "unit_id")


def _differs(columns: tuple[str, ...], *, postgres: bool) -> str:
    op = "IS DISTINCT FROM" if postgres else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in columns)


def _unit_changed(*, postgres: bool) -> str:
    """A unit's own entry changed: its name keys, type or parent, or its first path (set just after
    its insert, once its id is known)."""
    return f"({_differs(UNIT_KEYS, postgres=postgres)}) OR (OLD.path = '' AND NEW.path <> '')"


def _tree_changed(*, postgres: bool) -> str:
    """A placed unit moved: its subtree and every person in it moved with it."""
    return f"OLD.path <> '' AND ({_differs(TREE_KEYS, postgres=postgres)})"


def _sqlite_log(kind: str, ref: str) -> str:
    return (
        "UPDATE name_index_state SET version = version + 1 WHERE id = 1; "
        f"INSERT OR IGNORE INTO name_change (version, kind, ref) SELECT version, '{kind}', {ref} "
        "FROM name_index_state WHERE id = 1;"
    )


def sqlite_triggers() -> dict[str, str]:
    """Each trigger's name and the statement that creates it."""

    def trigger(name: str, event: str, body: str, when: str = "") -> tuple[str, str]:
        condition = f" WHEN {when}" if when else ""
        return name, f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} FOR EACH ROW{condition} BEGIN {body} END;"

    return dict([
        trigger(
            "name_change_account_keys",
            "UPDATE ON account",
            _sqlite_log("account", "NEW.id"),
            _differs(ACCOUNT_KEYS, postgres=False),
        ),
        trigger("name_change_account_gone", "DELETE ON account", _sqlite_log("account", "OLD.id")),
        trigger("name_change_member_in", "INSERT ON membership", _sqlite_log("account", "NEW.account_id")),
        trigger("name_change_member_out", "DELETE ON membership", _sqlite_log("account", "OLD.account_id")),
        trigger(
            "name_change_member_moved",
            "UPDATE ON membership",
            _sqlite_log("account", "OLD.account_id") + " " + _sqlite_log("account", "NEW.account_id"),
            _differs(MEMBER_KEYS, postgres=False),
        ),
        trigger("name_change_unit_in", "INSERT ON unit", _sqlite_log("unit", "NEW.id")),
        trigger("name_change_unit_gone", "DELETE ON unit", _sqlite_log("unit", "OLD.id")),
        trigger(
            "name_change_unit_keys",
            "UPDATE ON unit",
            _sqlite_log("unit", "NEW.id"),
            _unit_changed(postgres=False),
        ),
        trigger(
            "name_change_unit_tree",
            "UPDATE ON unit",
            _sqlite_log("tree", "NEW.id"),
            _tree_changed(postgres=False),
        ),
    ])


POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION name_change_log(change_kind TEXT, change_ref BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE taken BIGINT := NULLIF(current_setting('cunwu.name_version', true), '')::BIGINT;
BEGIN
    IF taken IS NULL THEN  -- the transaction's first change: take its version (and the lock)
        UPDATE name_index_state SET version = version + 1 WHERE id = 1 RETURNING version INTO taken;
        PERFORM set_config('cunwu.name_version', taken::TEXT, true);  -- until this transaction ends
    END IF;
    INSERT INTO name_change (version, kind, ref) VALUES (taken, change_kind, change_ref) ON CONFLICT DO NOTHING;
END $$;

CREATE OR REPLACE FUNCTION name_change_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN PERFORM name_change_log('account', OLD.id);
    ELSE PERFORM name_change_log('account', NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION name_change_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM name_change_log('account', OLD.account_id); END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM name_change_log('account', NEW.account_id); END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION name_change_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN PERFORM name_change_log('unit', OLD.id);
    ELSIF TG_OP = 'INSERT' THEN PERFORM name_change_log('unit', NEW.id);
    ELSE
        IF %(unit_keys)s THEN PERFORM name_change_log('unit', NEW.id); END IF;
        IF %(tree_keys)s THEN PERFORM name_change_log('tree', NEW.id); END IF;
    END IF;
    RETURN NULL;
END $$;
"""


def postgres_script() -> str:
    functions = POSTGRES_FUNCTIONS % {
        "unit_keys": _unit_changed(postgres=True),
        "tree_keys": _tree_changed(postgres=True),
    }
    account_when = _differs(ACCOUNT_KEYS, postgres=True)
    member_when = _differs(MEMBER_KEYS, postgres=True)
    triggers = f"""
DROP TRIGGER IF EXISTS name_change_account_keys ON account;
CREATE TRIGGER name_change_account_keys AFTER UPDATE ON account FOR EACH ROW
    WHEN ({account_when}) EXECUTE FUNCTION name_change_account();
DROP TRIGGER IF EXISTS name_change_account_gone ON account;
CREATE TRIGGER name_change_account_gone AFTER DELETE ON account FOR EACH ROW EXECUTE FUNCTION name_change_account();
DROP TRIGGER IF EXISTS name_change_membership ON membership;
CREATE TRIGGER name_change_membership AFTER INSERT OR DELETE ON membership
    FOR EACH ROW EXECUTE FUNCTION name_change_membership();
DROP TRIGGER IF EXISTS name_change_member_moved ON membership;
CREATE TRIGGER name_change_member_moved AFTER UPDATE ON membership FOR EACH ROW
    WHEN ({member_when}) EXECUTE FUNCTION name_change_membership();
DROP TRIGGER IF EXISTS name_change_unit ON unit;
CREATE TRIGGER name_change_unit AFTER INSERT OR DELETE OR UPDATE ON unit FOR EACH ROW EXECUTE FUNCTION name_change_unit();
"""
    return functions + triggers


async def create_change_log(apps, schema_editor) -> None:
    client = schema_editor.client
    await client.execute_script(TABLES)
    if client.capabilities.dialect == "postgres":
        await client.execute_script(postgres_script())
    else:
        for statement in sqlite_triggers().values():
            await client.execute_script(statement)


async def drop_change_log(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "DROP TRIGGER IF EXISTS name_change_account_keys ON account; "
            "DROP TRIGGER IF EXISTS name_change_account_gone ON account; "
            "DROP TRIGGER IF EXISTS name_change_membership ON membership; "
            "DROP TRIGGER IF EXISTS name_change_member_moved ON membership; "
            "DROP TRIGGER IF EXISTS name_change_unit ON unit; "
            "DROP FUNCTION IF EXISTS name_change_unit(); DROP FUNCTION IF EXISTS name_change_membership(); "
            "DROP FUNCTION IF EXISTS name_change_account(); DROP FUNCTION IF EXISTS name_change_log(TEXT, BIGINT);"
        )
    else:
        for name in sqlite_triggers():
            await client.execute_script(f"DROP TRIGGER IF EXISTS {name};")
    await client.execute_script("DROP TABLE IF EXISTS name_change; DROP TABLE IF EXISTS name_index_state;")


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0008_cards_devices")]

    operations = [ops.RunPython(create_change_log, drop_change_log)]
