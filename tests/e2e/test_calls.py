"""Calls through the switch: SIPp citizens -> line 12345 -> queue -> SIPp agents, and their tickets."""
import re
import time

import pytest

from conftest import agent_uas, caller, register, sip_send

TICKET_NUMBER = re.compile(r"^\d{8}-\d{6}$")


def common_ticket_checks(t, number, line="12345"):
    assert t.get("channel") == "voice", t
    assert str(t.get("caller")) == number, t
    assert str(t.get("line")) == line, t
    assert TICKET_NUMBER.match(str(t.get("number", ""))), f"human number YYYYMMDD-NNNNNN expected: {t}"
    assert t.get("call_id"), f"SIP Call-ID missing: {t}"
    assert t.get("created_at") and t.get("ended_at"), f"created_at/ended_at missing: {t}"


def test_answered_call(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True, status="available", state="idle")
    agent = agent_uas(ctx, "1001", d=1000)
    c = caller(ctx, number="13800000001", d=6000)
    hl.wait_agent("1001", state="ringing", timeout=10)
    hl.wait_agent("1001", state="in_call", timeout=10)
    c.ok("(caller, answered call)")
    agent.ok("(agent 1001 answering)")
    # the agent's phone shows the caller's number in From
    invite = agent.messages().split("INVITE sip:", 1)
    assert len(invite) == 2, "the agent never received an INVITE"
    from_line = next((ln for ln in invite[1].splitlines() if ln.lower().startswith(("from:", "f:"))), "")
    assert "13800000001" in from_line, f"caller number not in the agent INVITE's From: {from_line!r}"
    t = hl.wait_ticket("13800000001", "answered")
    common_ticket_checks(t, "13800000001")
    assert str(t.get("agent_id")) == "1001", f"first-contact agent must be 1001: {t}"
    assert t.get("queue") == "general", t
    assert t.get("queued_at") and t.get("answered_at"), t
    assert (t.get("talk_secs") or 0) > 0, f"talk_secs must be > 0: {t}"
    assert t.get("wait_secs") is not None and t["wait_secs"] >= 0, t
    # after the call: wrap-up (1 s) then idle again
    hl.wait_agent("1001", state="idle", timeout=10)
    tid = t["id"]
    detail = hl.ticket_detail(tid)
    assert str(tid) in str(detail), detail


def test_abandoned_while_queued(hl, ctx):
    # nobody registered: the caller waits in the queue (music on hold) and hangs up
    c = caller(ctx, number="13800000002", d=5000)
    c.ok("(caller hanging up while queued)")
    t = hl.wait_ticket("13800000002", "abandoned")
    common_ticket_checks(t, "13800000002")
    assert t.get("queue") == "general" and t.get("queued_at"), f"an abandoned call was queued: {t}"
    assert t.get("agent_id") in (None, ""), f"no agent for an abandoned call: {t}"
    assert not t.get("answered_at"), t


def test_ivr_only_hangup_during_greeting(hl, ctx):
    # line 12300 has the long greeting: hang up 2 s into it, before the queue
    c = caller(ctx, line="12300", number="13800000003", d=2000)
    c.ok("(caller hanging up during the greeting)")
    t = hl.wait_ticket("13800000003", "ivr_only")
    common_ticket_checks(t, "13800000003", line="12300")
    assert not t.get("queued_at"), f"ivr_only: never queued: {t}"
    assert t.get("agent_id") in (None, ""), t


@pytest.mark.hotline(ring_timeout=15)
def test_cancel_to_ringing_agent_when_caller_hangs_up(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001", scenario="agent_ring_cancel.xml")
    c = caller(ctx, number="13800000004", d=5000)
    hl.wait_agent("1001", state="ringing", timeout=10)
    c.ok("(caller hanging up while the agent rings)")
    agent.ok("(agent 1001 must see CANCEL and answer 487)")
    t = hl.wait_ticket("13800000004", "abandoned")
    assert t.get("agent_id") in (None, ""), f"nobody answered: {t}"
    hl.wait_agent("1001", state="idle", timeout=10)


def _a_rings_first(hl, ctx, scenario_a, number):
    register(ctx, ["1001", "1002"])
    hl.wait_agent("1001", registered=True)
    hl.wait_agent("1002", registered=True)
    a = agent_uas(ctx, "1001", scenario=scenario_a)
    b = agent_uas(ctx, "1002", d=500)
    hl.set_status("1002", "break")            # make sure 1001 is offered first
    c = caller(ctx, number=number, d=12000)
    hl.wait_agent("1001", state="ringing", timeout=10)
    hl.set_status("1002", "available")
    return a, b, c


def test_no_answer_goes_to_next_agent(hl, ctx):
    a, b, c = _a_rings_first(hl, ctx, "agent_ring_cancel.xml", "13800000005")
    t0 = time.monotonic()
    a.ok("(agent 1001 never answers: the switch must CANCEL after ring_timeout_secs=4)")
    assert time.monotonic() - t0 < 9, "the ring timeout (4 s) was not honoured"
    hl.wait_agent("1002", state="in_call", timeout=10)
    c.ok("(caller)")
    b.ok("(agent 1002 answering after 1001's no-answer)")
    t = hl.wait_ticket("13800000005", "answered")
    assert str(t.get("agent_id")) == "1002", f"agent 1002 answered: {t}"


@pytest.mark.parametrize("scenario,code", [("agent_busy.xml", 486), ("agent_decline.xml", 603)])
def test_busy_goes_to_next_agent(hl, ctx, scenario, code):
    a, b, c = _a_rings_first(hl, ctx, scenario, "13800000006")
    a.ok(f"(agent 1001 answering {code})")
    hl.wait_agent("1002", state="in_call", timeout=10)
    c.ok("(caller)")
    b.ok(f"(agent 1002 answering after 1001's {code})")
    t = hl.wait_ticket("13800000006", "answered")
    assert str(t.get("agent_id")) == "1002", f"agent 1002 answered: {t}"


def test_hold_unhold_reinvite(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001")
    c = caller(ctx, number="13800000007", d=4000, scenario="caller_hold.xml")
    c.ok("(caller: hold, unhold, BYE)")
    agent.ok("(agent)")
    t = hl.wait_ticket("13800000007", "answered")
    assert str(t.get("agent_id")) == "1001" and (t.get("talk_secs") or 0) > 0, t
    detail = hl.ticket_detail(t["id"])
    held = [(i.get("kind"), (i.get("detail") or {}).get("by")) for i in detail.get("interactions", [])
            if i.get("kind") in ("hold", "unhold")]
    assert held == [("hold", "caller"), ("unhold", "caller")], f"hold/unhold by the caller on the ticket: {held}"


def test_dtmf_info_and_rfc4733_on_ticket(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001")
    c = caller(ctx, number="13800000008", d=2500, scenario="caller_dtmf.xml")
    c.ok("(caller sending INFO dtmf-relay 5, INFO dtmf 7, RFC 4733 1)")
    agent.ok("(agent)")
    t = hl.wait_ticket("13800000008", "answered")
    detail = hl.ticket_detail(t["id"])
    inter = detail.get("interactions") if isinstance(detail, dict) else None
    assert isinstance(inter, list), f"ticket detail has no interactions list: {detail}"
    digits = []
    for i in inter:
        text = str(i).lower()
        if "dtmf" in text or "digit" in text:
            digits += re.findall(r"['\"]([0-9*#])['\"]", str(i))
    for d in "571":
        assert d in digits, (f"DTMF {d!r} missing from the ticket's interaction log (INFO dtmf-relay 5, INFO "
                             f"application/dtmf 7, RFC 4733 1); got digits {digits} from {inter}")


def test_answered_call_over_tcp(hl, ctx):
    """The citizen's leg over TCP (SIPp -t t1), the agent's over UDP."""
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001")
    c = caller(ctx, number="13800000009", d=3000, args=["-t", "t1"])
    c.ok("(caller over TCP)")
    agent.ok("(agent)")
    t = hl.wait_ticket("13800000009", "answered")
    assert str(t.get("agent_id")) == "1001" and (t.get("talk_secs") or 0) > 0, t


def test_failed_call_without_usable_codec(hl, ctx):
    # G.729 only: no codec in common, so the switch answers 488 and the ticket says `failed`.
    number = "13800000009"
    sdp = ("v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
    invite = (
        "INVITE sip:12345@127.0.0.1:5060 SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=z9hG4bK-failed-1;rport\n"
        "Max-Forwards: 70\n"
        f"From: <sip:{number}@127.0.0.1>;tag=f1\n"
        "To: <sip:12345@127.0.0.1>\n"
        "Call-ID: failed-codec-1@127.0.0.1\n"
        "CSeq: 1 INVITE\n"
        "Contact: <sip:caller@127.0.0.1:LOCALPORT>\n"
        "Content-Type: application/sdp\n"
        f"Content-Length: {len(sdp)}\n\n" + sdp.replace("\r\n", "\n")
    )
    resps = sip_send(invite)
    finals = [r[0] for r in resps if r[0] >= 200]
    assert finals == [488], f"expected 488 Not Acceptable Here, got {[r[0] for r in resps]}"
    t = hl.wait_ticket(number, "failed")
    common_ticket_checks(t, number)
    assert not t.get("answered_at") and t.get("agent_id") in (None, ""), t


def test_agent_puts_caller_on_hold_and_back(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001", scenario="agent_hold.xml")
    c = caller(ctx, number="13800000010", d=6000)
    c.ok("(caller, held by the agent)")
    agent.ok("(agent: hold, unhold)")
    t = hl.wait_ticket("13800000010", "answered")
    detail = hl.ticket_detail(t["id"])
    held = [(i.get("kind"), (i.get("detail") or {}).get("by")) for i in detail.get("interactions", [])
            if i.get("kind") in ("hold", "unhold")]
    assert held == [("hold", "agent"), ("unhold", "agent")], f"hold/unhold by the agent on the ticket: {held}"
