"""IVR menus on a sub-line: digits by RFC 4733 and by SIP INFO, barge-in, the route and the path on the ticket."""
import datetime

import pytest

from conftest import agent_uas, caller, register

# 12349: a sub-line with a menu (GB/T 33358: menus only on sub-lines); the menu prompt is long (8.7 s) so a
# digit 1.5 s after the answer proves barge-in.
MENU_LINE = """
[[lines]]
number = "12349"
name = "12349 养老服务热线"
greeting = "status_available"
menu = "elderly"
queue = "elderly"
priority = 10

[menus.elderly]
prompt = "welcome"
timeout_secs = 3
retries = 1
options = { "1" = "queue:elderly", "2" = "queue:general", "9" = "repeat" }
on_timeout = "queue:general"
on_invalid = "repeat"

[[queues]]
name = "elderly"
ring_timeout_secs = 4
wrap_up_secs = 1
"""

MENU_CONFIG = dict(extra=MENU_LINE, agents=["1001", "1002"],
                   agent_queues={"1001": '["elderly"]', "1002": '["general"]'})


def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def routed_within(hl, ticket, secs):
    detail = hl.ticket_detail(ticket["id"])
    ivr = [i for i in detail["interactions"] if i["kind"] == "ivr"]
    assert ivr, f"no ivr interaction: {detail['interactions']}"
    took = (ts(ivr[0]["at"]) - ts(ticket["created_at"])).total_seconds()
    assert took < secs, f"menu routed {took:.1f}s after the call started: no barge-in?"
    return ivr[0]


@pytest.mark.hotline(**MENU_CONFIG)
def test_menu_digit_by_rfc4733_routes_to_its_queue(hl, ctx):
    register(ctx, ["1001", "1002"])
    elderly = agent_uas(ctx, "1001")
    agent_uas(ctx, "1002")
    caller(ctx, line="12349", number="13800000011", scenario="caller_menu_rfc4733.xml", d=3000).ok()
    elderly.ok("(agent 1001 answers the elderly queue)")
    t = hl.wait_ticket("13800000011", "answered")
    assert t["agent_id"] == "1001" and t["queue"] == "elderly", t
    assert t["priority"] == 10, t
    assert "press 1" in (t.get("ivr_path") or ""), t
    ivr = routed_within(hl, t, 6)
    assert ivr["detail"]["route"] == "queue:elderly"
    digits = [i for i in hl.ticket_detail(t["id"])["interactions"] if i["kind"] == "dtmf"]
    assert digits and digits[0]["detail"]["via"] == "rfc4733", digits


@pytest.mark.hotline(**MENU_CONFIG)
def test_menu_digit_by_sip_info_routes_to_its_queue(hl, ctx):
    register(ctx, ["1001", "1002"])
    agent_uas(ctx, "1001")
    general = agent_uas(ctx, "1002")
    caller(ctx, line="12349", number="13800000012", scenario="caller_menu_info.xml", d=3000,
           args=["-key", "digit", "2"]).ok()
    general.ok("(agent 1002 answers the general queue)")
    t = hl.wait_ticket("13800000012", "answered")
    assert t["agent_id"] == "1002" and t["queue"] == "general", t
    assert "press 2" in (t.get("ivr_path") or ""), t
    routed_within(hl, t, 6)
    digits = [i for i in hl.ticket_detail(t["id"])["interactions"] if i["kind"] == "dtmf"]
    assert digits and digits[0]["detail"]["via"] == "sip_info", digits


@pytest.mark.hotline(**MENU_CONFIG)
def test_menu_timeout_takes_on_timeout_route(hl, ctx):
    register(ctx, ["1002"])
    general = agent_uas(ctx, "1002")
    # no digit: menu prompt (8.7 s) + 3 s timeout, one retry, then on_timeout = queue:general
    caller(ctx, line="12349", number="13800000013", d=20000, timeout=60).ok()
    general.ok()
    t = hl.wait_ticket("13800000013", "answered")
    assert t["queue"] == "general" and t["agent_id"] == "1002", t
    assert "timeout" in (t.get("ivr_path") or ""), t
