from tests.factories import login, make_account, make_tree


async def test_health_answers_ok_when_database_and_redis_are_up(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "up", "redis": "up"}


async def test_admin_logs_in_and_sees_own_unit(client):
    tree = await make_tree()
    await make_account("town_admin", tree.own, role="admin")
    headers = await login(client, "town_admin")
    response = await client.get("/api/session", headers=headers)
    assert response.status_code == 200
    assert response.json()["unit"]["unit_name"] == "白沙镇"
