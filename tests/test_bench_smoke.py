"""The benchmarks still run: a change to the code it drives (a signature, a seed's shape) breaks
this test instead of the next person's benchmark run. Figures are not judged here (bench/README.md)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _bench(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))


def _smoke(bench: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``bench/<bench>.py --smoke`` in its own process; its JSON report once it exited 0."""
    report_file = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, f"bench/{bench}.py", "--smoke", "--var-dir", str(tmp_path), "--json", str(report_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads(report_file.read_text())


def test_chat_bench_runs_every_case_end_to_end_on_the_small_seed(tmp_path: Path) -> None:
    report = _smoke("chat", tmp_path)
    firsts = {key: turn["first"] for key, turn in report["turns"].items()}
    for actor in ("county", "province"):
        assert firsts[f"{actor}-name"] == firsts[f"{actor}-pinyin"] == "王家湾村"
        assert report["turns"][f"{actor}-id"]["blocks"] == ["card"]
        assert firsts[f"{actor}-summary_named"] == "青山县合作社汇总"
    assert firsts["province-summary"] == "云岭省合作社汇总"
    assert set(report["verdicts"]) == set(report["turns"])
    assert all(report["naive_checked"].values())


def test_chat_bench_failures_name_every_phase_with_a_failed_or_missing_answer() -> None:
    chat = _bench("chat")
    good: dict[str, Any] = {"count": 5, "errors": 0, "first_error": None}
    report = {
        "naive_checked": {"naive-1": True, "naive-3": False},
        "figures": {
            "county-id": {"chat": {"alone": good, "open": dict(good, errors=2, first_error="HTTP 500")}},
            "county-name": {"bare": {"idle": dict(good, count=0)}, "chat": {"alone": good}},
        },
    }
    assert chat.failures(report) == [
        "naive-3: naive totals differ from the roll-up row",
        "county-id/chat/open: 5 answers, 2 failed (HTTP 500)",
        "county-name/bare/idle: 0 answers, 0 failed (None)",
    ]
    report["naive_checked"]["naive-3"] = True
    report["figures"] = {"county-id": {"chat": {"alone": good}}}
    assert chat.failures(report) == []


def test_rest_bench_answers_every_endpoint_of_both_admins_on_the_small_seed(tmp_path: Path) -> None:
    report = _smoke("rest", tmp_path)
    figures = report["figures"]
    assert len(figures) == 2 * 36
    assert {key.split(" ")[0] for key in figures} == {"county", "province"}
    assert all(item["errors"] == 0 and item["count"] == report["plan"]["requests"] for item in figures.values())
    # the synthetic audit entries are readable through the API and its filters find them
    assert report["audit"]["synthetic"] == report["plan"]["audit_entries"] > 0
    assert figures["province /api/audit/?outcome=failure"]["rows"] > 0
    assert figures["county /api/audit/?action=auth.login"]["rows"] > 0


def test_rest_bench_failures_name_every_endpoint_that_failed_or_answered_short() -> None:
    rest = _bench("rest")
    good: dict[str, Any] = {"count": 3, "errors": 0, "first_error": None}
    figures = {
        "county /api/session": good,
        "county /api/reviews/": dict(good, count=0, errors=1, first_error="404 not found"),
        "province /api/coops/map": dict(good, count=2),
    }
    assert rest.failures(figures, 3) == [
        "county /api/reviews/: 0 of 3 answered, 1 failed (404 not found)",
        "province /api/coops/map: 2 of 3 answered, 0 failed (None)",
    ]
    assert rest.failures({"county /api/session": good}, 3) == []
