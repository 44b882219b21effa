"""The whole engine on PostgreSQL: a call answered by an agent leaves its ticket and interaction log there.

scripts/test.sh starts a throw-away cluster and sets HOTLINE_E2E_PG_URL to its unix socket (the
network namespace of the e2e run has its own loopback, but shares the file system)."""
import os

import pytest

from conftest import agent_uas, caller, register

PG = os.environ.get("HOTLINE_E2E_PG_URL")


@pytest.mark.skipif(not PG, reason="HOTLINE_E2E_PG_URL unset (scripts/test.sh sets it)")
@pytest.mark.hotline(database_url=PG or "")
def test_answered_call_on_postgres(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True, status="available", state="idle")
    agent = agent_uas(ctx, "1001", d=500)
    c = caller(ctx, number="13900000001", d=4000)
    c.ok("(caller on postgres)")
    agent.ok("(agent 1001 on postgres)")
    t = hl.wait_ticket("13900000001", "answered")
    assert str(t.get("agent_id")) == "1001", t
    assert (t.get("talk_secs") or 0) > 0, t
    detail = hl.ticket_detail(t["id"])
    kinds = [i.get("kind") for i in detail.get("interactions", [])]
    assert "queued" in kinds and "answered" in kinds, f"interaction log on postgres: {kinds}"
