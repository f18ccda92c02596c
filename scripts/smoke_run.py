"""The fresh-machine path, once: `make run` on the embedded default, wait for /healthz, log in as a
demo account through the captcha flow, look at its accounts, stop. Used by .ci/run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make run exited early with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not become healthy in time")


def log_in(base: str, username: str, password: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=10) as http:
        captcha_id = http.get("/api/auth/captcha").json()["captcha_id"]
        answer = http.get(f"/api/dev/captcha/{captcha_id}").json()["answer"]
        response = http.post(
            "/api/auth/login",
            json={"login": username, "password": password, "captcha_id": captcha_id, "captcha_answer": answer},
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="cunwu-smoke-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
    env.update({"VAR_DIR": str(var_dir)})
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_healthy(base, proc)
        demo = json.loads((var_dir / "demo-accounts.json").read_text())
        account = next(a for a in demo["demo_accounts"] if a["username"] == "demo_town_admin")
        headers = log_in(base, account["username"], account["password"])
        session = httpx.get(f"{base}/api/session", headers=headers, timeout=10).json()
        listed = httpx.get(f"{base}/api/accounts/", headers=headers, timeout=10).json()
        assert session["unit"]["unit_name"] == "白沙镇", session
        assert listed["total"] >= 3, listed
        print(f"smoke: make run served {base}, demo login as {account['username']} saw {listed['total']} accounts")
        return 0
    except Exception as exc:  # report and fail the CI run
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
