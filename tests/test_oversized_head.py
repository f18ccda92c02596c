"""A URL or headers too long for the server are answered as such, not as a body too large (nothing
was submitted)."""

from __future__ import annotations

import httpx


async def test_a_too_long_address_is_answered_431_not_as_a_body_too_large(server) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=10) as http:
        response = await http.get("/api/units/", params={"q": "w" * 9000})
        header = await http.get("/api/session", headers={"Authorization": "Bearer " + "x" * 9000})
    for answer in (response, header):
        assert answer.status_code == 431, answer.text
        error = answer.json()["error"]
        assert error["code"] == "request_head_too_large" and "过长" in error["message"]
