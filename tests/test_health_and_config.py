"""/healthz against a real redis-server that is stopped and restarted; production settings; OpenAPI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.core import runtime
from backend.core.config import ConfigError, Settings
from backend.core.redis import connect


async def _health_until(client: httpx.AsyncClient, status: int, attempts: int = 50) -> httpx.Response:
    """Poll /healthz until it answers ``status`` (the server needs a moment to bind its port)."""
    response = await client.get("/healthz")
    for _ in range(attempts):
        if response.status_code == status:
            break
        await asyncio.sleep(0.1)
        response = await client.get("/healthz")
    return response


async def test_health_reports_redis_down_then_recovers_by_itself(client, settings, redis_process):
    rt = runtime.get()
    original = rt.redis
    rt.redis = connect(
        Settings.from_env(
            {
                "APP_ENV": "test",
                "VAR_DIR": str(settings.var_dir),
                "REDIS_URL": f"redis://127.0.0.1:{redis_process.port}/0",
            }
        )
    )
    try:
        assert (await _health_until(client, 200)).status_code == 200
        redis_process.stop()
        down = await client.get("/healthz")
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "redis_unavailable"
        assert down.json()["checks"] == {"database": "up", "redis": "down"}
        redis_process.start()
        back = await _health_until(client, 200)
        assert back.status_code == 200 and back.json()["checks"]["redis"] == "up"
    finally:
        await rt.redis.aclose()
        rt.redis = original


async def test_a_request_while_redis_is_down_gets_503_in_the_error_shape(client, settings, redis_process):
    rt = runtime.get()
    original = rt.redis
    rt.redis = connect(
        Settings.from_env(
            {
                "APP_ENV": "test",
                "VAR_DIR": str(settings.var_dir),
                "REDIS_URL": f"redis://127.0.0.1:{redis_process.port}/0",
            }
        )
    )
    try:
        redis_process.stop()
        response = await client.get("/api/session", headers={"Authorization": "Bearer abc"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "service_unavailable"
    finally:
        await rt.redis.aclose()
        rt.redis = original


def test_production_refuses_to_start_without_its_secrets(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"APP_ENV": "production", "VAR_DIR": str(tmp_path)})
    for name in ("DATABASE_URL", "REDIS_URL", "DATA_KEY", "INDEX_KEY"):
        assert name in str(raised.value)
    assert not (tmp_path / "dev-keys.json").exists()


def test_production_start_stops_with_a_clear_message(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DATA_KEY", "INDEX_KEY")}
    env.update({"APP_ENV": "production", "VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "backend", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "production mode needs these settings" in result.stderr


def test_bad_keys_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="32 bytes"):
        Settings.from_env({"VAR_DIR": str(tmp_path), "DATA_KEY": "c2hvcnQ=", "INDEX_KEY": "c2hvcnQ="})


def test_development_keys_are_made_once_and_kept(tmp_path: Path):
    first = Settings.from_env({"VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"VAR_DIR": str(tmp_path)})
    assert first.data_key == second.data_key and first.index_key == second.index_key
    assert first.data_key != first.index_key


def test_production_app_has_no_development_hooks(tmp_path: Path):
    key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    settings = Settings.from_env(
        {
            "APP_ENV": "production",
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": "sqlite://:memory:",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DATA_KEY": key,
            "INDEX_KEY": key,
        }
    )
    app = create_app(settings, manage_services=False, name="cunwu_production_check")
    app.router.finalize()
    paths = {route.path for route in app.router.routes}
    assert not any(path.startswith("api/dev/") for path in paths)
    assert "api/auth/login" in paths


async def test_openapi_documents_every_endpoint_with_schemas(client):
    spec = (await client.get("/docs/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/auth/login",
        "/api/accounts",
        "/api/accounts/{account_id}",
        "/api/units/{unit_id}/move",
        "/api/audit",
        "/api/session",
        "/healthz",
    ):
        assert path in paths, path
    login = paths["/api/auth/login"]["post"]
    assert "requestBody" in login and "200" in login["responses"]
    assert not any(path.startswith("/api/dev/") for path in paths)
    for path in ("/api/devices/enrolments", "/api/pairings", "/api/pairings/{pairing_id}/card"):
        assert path in paths, path
