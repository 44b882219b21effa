"""HTTP API: health without auth, bearer token, agent listing and status changes."""
from conftest import AGENTS, http


def test_health_and_auth(hl):
    st, _ = http("GET", "/health", token=None)
    assert st == 200, "GET /health must answer 200 without auth"
    st, body = http("GET", "/api/v1/tickets", token=None)
    assert st == 401, f"GET /api/v1/tickets without a token must be 401, got {st} {body}"
    st, body = http("GET", "/api/v1/tickets", token="wrong-token")
    assert st == 401, f"GET /api/v1/tickets with a wrong token must be 401, got {st} {body}"
    st, body = http("GET", "/api/v1/agents", token=None)
    assert st == 401, f"GET /api/v1/agents without a token must be 401, got {st} {body}"
    assert hl.tickets() == [], "a fresh database has no tickets"


def test_agents_listing_and_status(hl):
    agents = hl.agents()
    assert sorted(agents) == AGENTS, f"configured agents {AGENTS}, API lists {sorted(agents)}"
    for aid, a in agents.items():
        assert a.get("registered") is False, f"agent {aid} is not registered yet: {a}"
        assert a.get("status") in ("available", "break", "logged_out"), a
        assert a.get("state") == "idle", f"agent {aid} state should be idle: {a}"
    for status in ("break", "logged_out", "available"):
        hl.set_status("1002", status)
        assert hl.agent("1002")["status"] == status
    st, body = http("PUT", "/api/v1/agents/1002/status", {"status": "dancing"})
    assert 400 <= st < 500, f"an invalid status must be a 4xx, got {st} {body}"
    st, body = http("PUT", "/api/v1/agents/9999/status", {"status": "break"})
    assert st == 404, f"an unknown agent must be 404, got {st} {body}"
    st, body = http("PUT", "/api/v1/agents/1002/status", {"status": "break"}, token=None)
    assert st == 401, f"PUT without a token must be 401, got {st} {body}"
