"""Command line: ``python -m backend serve | migrate | demo seed | demo accounts | demo card | devices approve |
audit verify | coops rebuild-rollups | sms requeue``."""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from redis.asyncio import Redis
from tortoise.exceptions import OperationalError

from backend.core import audit, db, log_privacy, runtime
from backend.core.clock import CHINA_TIME
from backend.core.config import ConfigError, Settings
from backend.core.redis import connect


async def _with_services(settings: Settings, work: Callable[[], Awaitable[int]], *, redis: bool = False) -> int:
    """Run ``work`` with the database (and, if asked, Redis) connected."""
    await db.init_db(settings)
    client = connect(settings) if redis else _no_redis()
    runtime.install(runtime.Runtime(settings=settings, redis=client))
    try:
        return await work()
    except OperationalError as exc:
        if not _MISSING_TABLE.search(str(exc)):
            raise
        # a fresh or mistyped database (DATABASE_URL, VAR_DIR): say what to do, not a traceback
        print(f"the database has no tables yet ({exc}): run `python -m backend migrate` first", file=sys.stderr)
        return 2
    finally:
        await runtime.shutdown()
        await db.close_db()


# SQLite's and PostgreSQL's words for a table that is not there
_MISSING_TABLE = re.compile(r"no such table|relation \"?\S+\"? does not exist")


def _no_redis() -> Redis:
    """A client that is never connected: for commands that touch only the database."""
    return Redis(host="127.0.0.1", port=1)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        await audit.ensure_head()
        print("migrations applied")
        return 0

    asyncio.run(db.migrate(settings))
    return asyncio.run(_with_services(settings, work))


def cmd_demo_seed(settings: Settings, args: argparse.Namespace) -> int:
    from backend.demo import seed

    if settings.production:
        print("demo data is never seeded in production mode", file=sys.stderr)
        return 2

    async def work() -> int:
        if not await seed.is_empty():
            if args.if_empty:
                print("database already has data: demo seed skipped")
                return 0
            print("the database already has units; demo data goes only into an empty database", file=sys.stderr)
            return 1
        result = await seed.seed(args.scale, settings.var_dir)
        print(f"seeded {args.scale}: {result['counts']}")
        return 0

    return asyncio.run(_with_services(settings, work))


def cmd_demo_accounts(settings: Settings, args: argparse.Namespace) -> int:
    from backend.demo import seed

    print(seed.describe(settings.var_dir))
    return 0


def cmd_devices_approve(settings: Settings, args: argparse.Namespace) -> int:
    from backend.core.errors import AppError
    from backend.devices import actions
    from card_service import protocol

    async def work() -> int:
        token = args.token.strip().removeprefix(protocol.ENROL_QR_PREFIX)
        try:
            device = await actions.approve_by_operator(token, unit_id=args.unit_id, name=args.name)
        except AppError as exc:
            print(f"not enrolled: {exc.message} ({exc.code})", file=sys.stderr)
            return 1
        print(f"enrolled {device.name} ({device.device_id}) into {device.unit.name}")
        return 0

    return asyncio.run(_with_services(settings, work, redis=True))


def cmd_demo_card(settings: Settings, args: argparse.Namespace) -> int:
    from backend.demo import cards

    if settings.production:
        print("demo cards exist only outside production", file=sys.stderr)
        return 2

    async def work() -> int:
        found = await cards.demo_card(settings.var_dir, kind=args.kind)
        if found is None:
            print("no demo co-op found: run `python -m backend demo seed` first", file=sys.stderr)
            return 1
        print(found)
        return 0

    return asyncio.run(_with_services(settings, work))


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> int:
        report = await audit.verify_chain()
        if report.ok:
            print(f"audit chain intact: {report.checked} entries checked")
            return 0
        print(
            f"audit chain BROKEN at entry {report.broken_id}: {report.reason} "
            f"({report.checked} entries before it are intact)"
        )
        return 1

    return asyncio.run(_with_services(settings, work))


def cmd_coops_rollups(settings: Settings, args: argparse.Namespace) -> int:
    from backend.coops import rollups

    async def work() -> int:
        report = await rollups.check(repair=not args.check_only)
        print(report.as_dict())
        return 1 if args.check_only and report.drifted else 0

    return asyncio.run(_with_services(settings, work))


def _since(text: str) -> float | datetime:
    """``--since``: hours back (a number), or an ISO date and time (Beijing time when it names no zone)."""
    try:
        hours = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(hours) or hours <= 0:
            raise argparse.ArgumentTypeError(f"hours must be a positive number: {text!r}")
        return hours
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"neither hours nor an ISO date and time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TIME)


def cmd_sms_requeue(settings: Settings, args: argparse.Namespace) -> int:
    from backend.core import sms_delivery
    from backend.core.identifiers import mask_phone
    from backend.core.sms import SmsMessage

    def described(message: SmsMessage) -> str:
        try:
            phone = mask_phone(runtime.get().vault.decrypt("sms.phone", message.phone_enc))
        except Exception:  # a changed key or a damaged row
            phone = "?"
        queued = message.created_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
        return f"sms {message.id} ({message.template}) to {phone}, queued {queued}"

    async def work() -> int:
        since = args.since
        if not isinstance(since, datetime):
            since = runtime.get().clock.now() - timedelta(hours=since)
        result = await sms_delivery.requeue_failed(since)
        for message in result.requeued:
            print(f"requeued {described(message)}, last error {message.last_error}")
        for message, reason in result.skipped:
            print(f"not requeued ({reason.value}) {described(message)}")
        print(
            f"requeued {len(result.requeued)} failed message(s) queued since "
            f"{since.astimezone(CHINA_TIME).isoformat(timespec='seconds')}; the job worker sends them"
        )
        return 0

    return asyncio.run(_with_services(settings, work))


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from backend.app import create_app

    app = create_app(settings)
    # The job worker (SMS delivery) runs in this process when asked, and by default with the
    # embedded Redis, which no other process can reach; with REDIS_URL run `python -m jobs worker`.
    app.ctx.run_worker = settings.redis_url is None if args.worker is None else args.worker
    app.run(
        host=args.host or settings.host,
        port=args.port or settings.port,
        single_process=True,
        access_log=False,
        motd=False,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m backend", description="村务通 backend")
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--worker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the job worker in this process (default: yes with the embedded Redis, no with REDIS_URL)",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="demo_command", required=True)
    seed = demo.add_parser("seed", help="seed demo data into an empty database")
    seed.add_argument("--scale", choices=("small", "large"), default="small")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when the database has data")
    seed.set_defaults(func=cmd_demo_seed)
    demo.add_parser("accounts", help="print the demo accounts").set_defaults(func=cmd_demo_accounts)
    card = demo.add_parser("card", help="the demo card issuer and the soft-card arguments of a demo co-op's card")
    card.add_argument("--kind", choices=("legal_rep", "operator"), default="legal_rep")
    card.set_defaults(func=cmd_demo_card)
    devices = sub.add_parser("devices", help="office PCs of the card service").add_subparsers(
        dest="devices_command", required=True
    )
    approve = devices.add_parser("approve", help="enrol a PC from its enrolment QR (operator set-up, the demo)")
    approve.add_argument("token", help="the token or the whole cwt://enrol/... text of the PC's QR")
    approve.add_argument("--unit-id", type=int, required=True)
    approve.add_argument("--name", default="办公室读卡电脑")
    approve.set_defaults(func=cmd_devices_approve)
    audit_cmd = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    audit_cmd.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)
    coops = sub.add_parser("coops", help="co-op info cards").add_subparsers(dest="coops_command", required=True)
    rebuild = coops.add_parser("rebuild-rollups", help="recompute the summary roll-ups from the cards")
    rebuild.add_argument("--check-only", action="store_true", help="report drift without repairing it")
    rebuild.set_defaults(func=cmd_coops_rollups)
    sms = sub.add_parser("sms", help="the SMS outbox").add_subparsers(dest="sms_command", required=True)
    requeue = sms.add_parser(
        "requeue",
        help="queue again the failed messages (no verification codes, no replaced temporary passwords), "
        "once what made the gateway refuse them is fixed",
    )
    requeue.add_argument(
        "--since",
        type=_since,
        required=True,
        help="messages queued since then: hours back (24) or an ISO date and time (2026-03-01T08:00, Beijing time)",
    )
    requeue.set_defaults(func=cmd_sms_requeue)
    return root


def main(argv: list[str] | None = None) -> int:
    log_privacy.configure()  # masks phones and ID numbers in every line and traceback
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return args.func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
