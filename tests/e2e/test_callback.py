"""Call-backs (回拨): a waiting citizen presses the call-back key and hangs up; later an agent is rung first,
hears the number, and the switch dials the citizen through [trunks.outbound] (a SIPp "carrier"). Missed calls
(漏接回拨) are listed and dialled back from the API the same way."""
import time

import pytest

from conftest import Sipp, agent_uas, caller, http, register

CARRIER_PORT = 5092
TRUNK = f'[trunks.outbound]\nuri = "sip:127.0.0.1:{CARRIER_PORT}"\ncaller_id = "12345"\n'
ON_BREAK = dict(extra=TRUNK, agents=["1001"], agent_extra={"1001": 'initial_status = "break"'})


def carrier(ctx, talk_ms=2000):
    return Sipp(ctx, "carrier.xml", remote=None, port=CARRIER_PORT, media_port=7500, rtp_echo=True,
                d=talk_ms, timeout=60, label=f"carrier-{ctx.n + 1}")


def callbacks(**q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    st, js = http("GET", "/api/v1/callbacks" + (f"?{query}" if query else ""))
    assert st == 200, (st, js)
    return js["items"]


def wait_callback(cid, status, timeout=30):
    deadline = time.monotonic() + timeout
    cb = None
    while time.monotonic() < deadline:
        st, cb = http("GET", f"/api/v1/callbacks/{cid}")
        assert st == 200, (st, cb)
        if cb["status"] == status:
            return cb
        time.sleep(0.2)
    raise AssertionError(f"callback {cid}: wanted status {status} within {timeout}s, last {cb}")


def interaction_kinds(hl, ticket_id):
    return [i["kind"] for i in hl.ticket_detail(ticket_id)["interactions"]]


@pytest.mark.hotline(**ON_BREAK)
def test_callback_key_keeps_the_place_then_agent_then_citizen(hl, ctx):
    register(ctx, ["1001"])
    c = caller(ctx, number="13800000021", scenario="caller_callback.xml", args=["-key", "digit", "1"])
    c.ok("(presses 1, hears the confirmation, the switch hangs up)")
    t = hl.wait_ticket("13800000021", "callback_requested")
    [cb] = [x for x in callbacks(kind="requested") if x["caller"] == "13800000021"]
    assert cb["status"] == "pending" and cb["queue"] == "general" and cb["ticket_id"] == t["id"], cb
    # the call-back still holds its place: the agent becomes available and is rung first
    gw = carrier(ctx)
    agent = agent_uas(ctx, "1001")
    time.sleep(1)  # SIPp needs a moment before its first pause works; the agent is rung at once
    st, _ = http("PUT", "/api/v1/agents/1001/status", {"status": "available"})
    assert st == 200
    gw.ok("(carrier: the citizen's number is dialled after the agent answered)")
    agent.ok("(agent: rung first, whisper, then bridged to the citizen)")
    assert "INVITE sip:13800000021@127.0.0.1:5092" in gw.messages(), gw.describe()
    done = wait_callback(cb["id"], "connected")
    assert done["agent_id"] == "1001" and done["attempts"] == 1, done
    deadline = time.monotonic() + 10
    while "callback_ended" not in interaction_kinds(hl, t["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    k = interaction_kinds(hl, t["id"])
    for want in ("callback_requested", "callback_waiting", "offered", "answered", "callback_dialing",
                 "callback_connected", "callback_ended"):
        assert want in k, f"{want} missing from the ticket log {k}"
    assert k.index("callback_requested") < k.index("callback_dialing") < k.index("callback_connected")


@pytest.mark.hotline(**ON_BREAK)
def test_missed_call_listed_and_dialled_back_from_the_api(hl, ctx):
    caller(ctx, number="13800000022", d=3000).ok()
    t = hl.wait_ticket("13800000022", "abandoned")
    missed = [x for x in callbacks(kind="missed", status="pending") if x["caller"] == "13800000022"]
    assert len(missed) == 1 and missed[0]["ticket_id"] == t["id"], missed
    cid = missed[0]["id"]
    # a second missed call from the same number does not add a second entry
    caller(ctx, number="13800000022", d=2500).ok()
    assert len([x for x in callbacks(kind="missed") if x["caller"] == "13800000022"]) == 1

    register(ctx, ["1001"])
    gw = carrier(ctx)
    agent = agent_uas(ctx, "1001")
    time.sleep(1)
    st, js = http("POST", f"/api/v1/callbacks/{cid}/dial")
    assert st == 202 and js["id"] == cid, (st, js)
    st, js = http("POST", f"/api/v1/callbacks/{cid}/dial")
    assert st == 409 and js["error"] == "conflict", (st, js)
    st, _ = http("PUT", "/api/v1/agents/1001/status", {"status": "available"})
    assert st == 200
    gw.ok("(carrier answers the call-back)")
    agent.ok()
    done = wait_callback(cid, "connected")
    assert done["agent_id"] == "1001", done
    st, js = http("POST", f"/api/v1/callbacks/{cid}/dial")
    assert st == 409, (st, js)
    st, js = http("POST", "/api/v1/callbacks/999999/dial")
    assert st == 404 and js["error"] == "not_found", (st, js)
    assert "callback_connected" in interaction_kinds(hl, t["id"])


@pytest.mark.hotline(agents=["1001"], agent_extra={"1001": 'initial_status = "break"'})
def test_without_outbound_trunk_dial_is_refused_and_key_ignored(hl, ctx):
    caller(ctx, number="13800000023", d=2500).ok()
    hl.wait_ticket("13800000023", "abandoned")
    [cb] = [x for x in callbacks(kind="missed") if x["caller"] == "13800000023"]
    st, js = http("POST", f"/api/v1/callbacks/{cb['id']}/dial")
    assert st == 503 and js["error"] == "unavailable" and "trunks.outbound" in js["reason"], (st, js)


@pytest.mark.hotline(**ON_BREAK)
def test_pending_callback_survives_a_restart_without_holding_up_shutdown(hl, ctx):
    register(ctx, ["1001"])
    caller(ctx, number="13800000024", scenario="caller_callback.xml", args=["-key", "digit", "1"]).ok()
    t = hl.wait_ticket("13800000024", "callback_requested")
    [cb] = [x for x in callbacks(kind="requested") if x["caller"] == "13800000024"]
    # a call-back waiting with nobody on the line must not keep shutdown waiting for its grace period
    t0 = time.monotonic()
    hl.stop()
    assert time.monotonic() - t0 < 10, "shutdown waited for a parked call-back"
    hl.start()
    # back in its queue after the restart: the agent is rung, then the citizen
    register(ctx, ["1001"])
    gw = carrier(ctx)
    agent = agent_uas(ctx, "1001")
    time.sleep(1)
    st, _ = http("PUT", "/api/v1/agents/1001/status", {"status": "available"})
    assert st == 200
    gw.ok("(carrier: the call-back requested before the restart is dialled)")
    agent.ok()
    done = wait_callback(cb["id"], "connected")
    assert done["agent_id"] == "1001", done
    assert "callback_queued" in interaction_kinds(hl, t["id"])
