"""Three-way calls and transfers driven by SIPp phones (signalling, the call view and the ticket's handoff):
the agent's own keys (*3 120 #, *0), a busy 120, blind and attended transfers from the API, and a blind
transfer by the agent phone's REFER. Audio through the conference is checked in test_conference.py."""
import time

import pytest

from conftest import Sipp, agent_uas, caller, http, register

EMERGENCY = '[emergency]\n"120" = "sip:120@127.0.0.1:5090"\n"110" = "sip:110@127.0.0.1:5092"\n'


def party(ctx, port, scenario="agent_answer.xml", label=None):
    """A SIPp UAS standing in for 120 (5090) or 110 (5092)."""
    return Sipp(ctx, scenario, remote=None, port=port, media_port=port + 2000, rtp_echo=True, timeout=60,
                label=label or f"party{port}")


def live_call(number, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st, js = http("GET", "/api/v1/calls")
        assert st == 200, js
        for c in js["items"]:
            if c["caller"] == number:
                return c
        time.sleep(0.1)
    raise AssertionError(f"no live call from {number}")


def wait_call(call_id, pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    c = None
    while time.monotonic() < deadline:
        st, c = http("GET", f"/api/v1/calls/{call_id}")
        if st == 200 and pred(c):
            return c
        time.sleep(0.1)
    raise AssertionError(f"call {call_id}: {what} not seen within {timeout}s; last {c}")


def leg(c, role):
    return next((l for l in c["legs"] if l["role"] == role), None)


def handoff(hl, number, disposition="answered"):
    t = hl.wait_ticket(number, disposition, timeout=30)
    d = hl.ticket_detail(t["id"])
    assert len(d["handoffs"]) == 1, d["handoffs"]
    return d, d["handoffs"][0]


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_agent_keys_star3_and_star0(hl, ctx):
    register(ctx, ["1001"])
    p120 = party(ctx, 5090)
    ag = agent_uas(ctx, "1001", scenario="agent_keys.xml", d=3000,
                   args=["-key", "d1", "1", "-key", "d2", "2", "-key", "d3", "0"])
    time.sleep(1)
    c = caller(ctx, number="13800000051", d=12000)
    ag.ok("(keys *3120#, then *0; BYE from the switch)")
    hl.wait_agent("1001", state="wrap_up", timeout=5)
    call = live_call("13800000051")
    assert leg(call, "third_party")["state"] == "up", call
    assert leg(call, "citizen")["state"] == "up", call
    c.ok()
    p120.ok("(120 is hung up when the citizen hangs up)")
    d, h = handoff(hl, "13800000051")
    assert (h["partner"], h["mode"], h["agent_id"], h["outcome"]) == ("120", "three_way", "1001", "completed"), h
    assert h["answered_at"] and h["agent_left_at"] and h["ended_at"], h
    dtmf = [i["detail"]["digit"] for i in d["interactions"] if i["kind"] == "dtmf"]
    assert "".join(dtmf).startswith("*3120#*0"), dtmf
    assert "INVITE sip:120@127.0.0.1:5090" in p120.messages()


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_busy_third_party_keeps_caller_and_agent_together(hl, ctx):
    register(ctx, ["1001"])
    busy = party(ctx, 5090, "party_busy.xml", label="busy120")
    ag = agent_uas(ctx, "1001")
    time.sleep(1)
    c = caller(ctx, number="13800000052", d=7000)
    hl.wait_agent("1001", state="in_call", timeout=10)
    call = live_call("13800000052")
    st, js = http("POST", f"/api/v1/calls/{call['id']}/conference", {"number": "120"})
    assert st == 202, js
    busy.ok("(486)")
    after = wait_call(call["id"], lambda v: leg(v, "third_party") is None, "third party gone")
    assert after["state"] == "talking" and leg(after, "agent")["state"] == "up", after
    assert hl.agent("1001")["state"] == "in_call"
    c.ok()
    ag.ok()
    d, h = handoff(hl, "13800000052")
    assert (h["mode"], h["outcome"], h["answered_at"]) == ("three_way", "busy", None), h
    failed = [i for i in d["interactions"] if i["kind"] == "third_party_failed"]
    assert failed and failed[0]["detail"]["status"] == 486, failed


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_blind_transfer_from_the_api(hl, ctx):
    register(ctx, ["1001"])
    p110 = party(ctx, 5092)
    ag = agent_uas(ctx, "1001")
    time.sleep(1)
    c = caller(ctx, number="13800000053", d=9000)
    hl.wait_agent("1001", state="in_call", timeout=10)
    call = live_call("13800000053")
    st, js = http("POST", f"/api/v1/calls/{call['id']}/transfer", {"number": "110", "mode": "blind"})
    assert st == 202, js
    ag.ok("(the agent is released once 110 answers)")
    v = wait_call(call["id"], lambda v: (leg(v, "agent") or {}).get("state") == "left", "agent left")
    assert leg(v, "third_party")["mode"] == "blind_transfer" and leg(v, "third_party")["state"] == "up", v
    c.ok()
    p110.ok()
    _, h = handoff(hl, "13800000053")
    assert (h["partner"], h["mode"], h["outcome"]) == ("110", "blind_transfer", "completed"), h
    assert h["agent_left_at"] and h["answered_at"], h


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_attended_transfer_from_the_api(hl, ctx):
    register(ctx, ["1001"])
    p110 = party(ctx, 5092)
    ag = agent_uas(ctx, "1001")
    time.sleep(1)
    c = caller(ctx, number="13800000054", d=10000)
    hl.wait_agent("1001", state="in_call", timeout=10)
    call = live_call("13800000054")
    st, js = http("POST", f"/api/v1/calls/{call['id']}/transfer", {"number": "110", "mode": "attended"})
    assert st == 202, js
    v = wait_call(call["id"], lambda v: (leg(v, "third_party") or {}).get("state") == "up", "110 up")
    # Consultation: the agent is still on the call until it hands over.
    assert leg(v, "agent")["state"] == "up" and v["state"] == "conference", v
    time.sleep(1)
    st, js = http("POST", f"/api/v1/calls/{call['id']}/leave")
    assert st == 202, js
    ag.ok()
    c.ok()
    p110.ok()
    _, h = handoff(hl, "13800000054")
    assert (h["mode"], h["outcome"]) == ("attended_transfer", "completed"), h
    assert h["answered_at"] <= h["agent_left_at"], h


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_blind_transfer_by_refer(hl, ctx):
    register(ctx, ["1001"])
    p110 = party(ctx, 5092)
    ag = agent_uas(ctx, "1001", scenario="agent_refer.xml", args=["-key", "target", "110"])
    time.sleep(1)
    c = caller(ctx, number="13800000055", d=9000)
    ag.ok("(REFER 202, NOTIFYs, BYE)")
    msgs = ag.messages()
    assert "SIP/2.0 202 Accepted" in msgs, msgs[-2000:]
    assert "Event: refer" in msgs and "SIP/2.0 100 Trying" in msgs, msgs[-3000:]
    # The final NOTIFY ends the subscription and reports the target's 200.
    final = msgs[msgs.index("Subscription-State: terminated"):]
    assert "SIP/2.0 200 OK" in final.split("-----")[0], final[:600]
    c.ok()
    p110.ok()
    d, h = handoff(hl, "13800000055")
    assert (h["partner"], h["mode"], h["outcome"]) == ("110", "blind_transfer", "completed"), h
    assert any(i["kind"] == "refer" for i in d["interactions"])


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY + '[[agents]]\nid = "9001"\npassword = "secret9001"\nrole = "supervisor"\n')
def test_call_control_errors(hl, ctx):
    # No agent free: the call waits; nothing can be brought in yet.
    hl.set_status("1001", "break")
    c = caller(ctx, number="13800000056", d=4000)
    call = live_call("13800000056")
    for path, body in (("conference", {"number": "120"}), ("transfer", {"number": "110"}), ("leave", None),
                       ("monitor", {"supervisor": "9001", "mode": "listen"})):
        st, js = http("POST", f"/api/v1/calls/{call['id']}/{path}", body)
        assert st == 409 and js["error"] == "conflict" and js["reason"], (path, st, js)
    st, js = http("POST", f"/api/v1/calls/{call['id']}/monitor", {"supervisor": "1001"})
    assert st == 400 and "supervisor" in js["reason"], js
    st, js = http("POST", "/api/v1/calls/999999/conference", {"number": "120"})
    assert st == 404, js
    c.ok()


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY)
def test_attended_transfer_by_refer_with_replaces_from_pjsua(hl, ctx):
    """pjsua2 as the agent: hold, consult 110 with its own call through the switch, transfer (REFER +
    Replaces). The citizen ends up with 110; the ticket records the attended transfer."""
    import subprocess
    import sys
    from pathlib import Path
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        pytest.fail("pjsua2 missing: scripts/install-deps.sh installs pjsua2-python")
    p110 = party(ctx, 5092)
    agent = ctx.spawn([sys.executable, str(Path(__file__).parent / "pjsua_agent.py"), "--agent", "1001",
                       "--port", "7066", "--target", "110", "--talk", "2"], "pjsua-agent.log")
    hl.wait_agent("1001", registered=True, timeout=10)
    c = caller(ctx, number="13800000057", d=14000)
    try:
        rc = agent.wait(40)
    except subprocess.TimeoutExpired:
        agent.kill()
        rc = -9
    log = (ctx.dir / "pjsua-agent.log").read_text(errors="replace")
    assert rc == 0, f"pjsua agent exited {rc}:\n{log[-3000:]}"
    assert "transfer status=200 final=True" in log or "transfer done" in log, log[-2000:]
    v = live_call("13800000057")
    assert leg(v, "third_party")["state"] == "up" and (leg(v, "agent") or {}).get("state") == "left", v
    c.ok()
    p110.ok()
    d, h = handoff(hl, "13800000057")
    assert (h["partner"], h["mode"], h["outcome"]) == ("110", "attended_transfer", "completed"), h
    assert h["answered_at"] <= h["agent_left_at"], h
    kinds = [i["kind"] for i in d["interactions"]]
    for k in ("consultation", "consultation_answered", "refer", "agent_left"):
        assert k in kinds, kinds
