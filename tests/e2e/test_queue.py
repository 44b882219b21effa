"""Waiting in a queue: spoken position, max wait, strategies, tiers, skills, and agents who do not answer,
answer and vanish. Each test drives the release binary with SIPp agents and callers."""
import datetime
import time

import pytest

from conftest import agent_uas, caller, http, register


def kinds(hl, ticket):
    return [i for i in hl.ticket_detail(ticket["id"])["interactions"]]


def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.hotline(queue_extra="announce_every_secs = 3")
def test_position_announced_on_entry_and_every_interval(hl, ctx):
    # nobody registered: the caller waits ~8 s and gives up
    caller(ctx, number="13800000031", d=8000).ok()
    t = hl.wait_ticket("13800000031", "abandoned")
    ann = [i for i in kinds(hl, t) if i["kind"] == "announced"]
    assert len(ann) >= 2, f"announced on entry and again after 3 s: {ann}"
    assert all(a["detail"]["position"] == 1 for a in ann), ann
    gap = (ts(ann[1]["at"]) - ts(ann[0]["at"])).total_seconds()
    assert 2.5 <= gap <= 5, f"announce_every_secs = 3, got {gap:.1f}s"
    assert ann[0]["detail"]["estimated_wait_secs"] >= 0


@pytest.mark.hotline(queue_extra='max_wait_secs = 3\non_max_wait = "queue:overflow"',
                     agents=["1001", "1002"], agent_queues={"1002": '["overflow"]'},
                     extra='[[queues]]\nname = "overflow"\nring_timeout_secs = 4\nwrap_up_secs = 1\n')
def test_max_wait_moves_the_caller_to_another_queue(hl, ctx):
    register(ctx, ["1002"])  # 1001 (general) is not registered: nobody answers there
    overflow = agent_uas(ctx, "1002")
    caller(ctx, number="13800000032", d=12000).ok()
    overflow.ok("(agent 1002 in queue overflow)")
    t = hl.wait_ticket("13800000032", "answered")
    assert t["queue"] == "overflow" and t["agent_id"] == "1002", t
    mw = [i for i in kinds(hl, t) if i["kind"] == "max_wait"]
    assert mw and mw[0]["detail"]["action"] == "queue:overflow", mw
    assert t["wait_secs"] >= 3, t


@pytest.mark.hotline(queue_extra='max_wait_secs = 2\non_max_wait = "hangup"')
def test_max_wait_hangup_says_goodbye_and_hangs_up(hl, ctx):
    c = caller(ctx, number="13800000033", scenario="caller_await_bye.xml", timeout=40)
    c.ok("(the switch hangs up after max_wait_secs)")
    t = hl.wait_ticket("13800000033", "abandoned")
    assert any(i["kind"] == "max_wait" for i in kinds(hl, t)), kinds(hl, t)


@pytest.mark.hotline(queue_extra='strategy = "ring-all"', agents=["1001", "1002"])
def test_ring_all_rings_every_agent_and_the_first_answer_wins(hl, ctx):
    register(ctx, ["1001", "1002"])
    silent = agent_uas(ctx, "1001", scenario="agent_ring_cancel.xml")
    answering = agent_uas(ctx, "1002", d=1500)
    c = caller(ctx, number="13800000034", d=6000)
    silent.ok("(1001 rang at the same time and was CANCELled when 1002 answered)")
    c.ok()
    answering.ok()
    t = hl.wait_ticket("13800000034", "answered")
    assert t["agent_id"] == "1002", t
    offered = sorted(i["detail"]["agent"] for i in kinds(hl, t) if i["kind"] == "offered")
    assert offered == ["1001", "1002"], offered


@pytest.mark.hotline(ring_timeout=2, queue_extra="max_no_answer = 2", agents=["1001"])
def test_agent_who_never_answers_goes_on_break_no_answer(hl, ctx):
    register(ctx, ["1001"])
    agent = agent_uas(ctx, "1001", scenario="agent_ring_cancel.xml", m=2)
    c = caller(ctx, number="13800000035", d=12000)
    agent.ok("(rung twice, CANCELled twice)")
    a = hl.wait_agent("1001", status="break", timeout=10)
    assert a["break_reason"] == "no_answer", a
    c.wait()
    t = hl.wait_ticket("13800000035", "abandoned", timeout=20)
    misses = [i for i in kinds(hl, t) if i["kind"] == "no_answer"]
    assert len(misses) == 2, misses


@pytest.mark.hotline(media_extra="rtp_timeout_secs = 3", agents=["1001"])
def test_agent_that_vanishes_after_answering_is_freed(hl, ctx):
    register(ctx, ["1001"])
    agent = agent_uas(ctx, "1001", scenario="agent_vanish.xml")
    c = caller(ctx, number="13800000036", d=20000, timeout=40)
    agent.ok("(answers, then disappears: no BYE, no RTP)")
    hl.wait_agent("1001", state="in_call", timeout=5)
    # the switch notices the silent agent leg (rtp_timeout_secs) and ends the call itself
    a = hl.wait_agent("1001", state="idle", timeout=15)
    assert a["status"] == "available", a
    t = hl.wait_ticket("13800000036", "answered", timeout=10)
    assert any(i["kind"] == "rtp_timeout" for i in kinds(hl, t)), kinds(hl, t)
    c.wait()


@pytest.mark.hotline(queue_extra="tier_escalate_secs = 3", agents=["1001", "1002"],
                     agent_queues={"1001": '[{ name = "general", tier = 1 }]',
                                   "1002": '[{ name = "general", tier = 2 }]'},
                     agent_extra={"1001": 'initial_status = "break"'})
def test_second_tier_only_after_tier_escalate_secs(hl, ctx):
    register(ctx, ["1002"])
    second = agent_uas(ctx, "1002")
    caller(ctx, number="13800000037", d=9000).ok()
    second.ok()
    t = hl.wait_ticket("13800000037", "answered")
    assert t["agent_id"] == "1002", t
    assert t["wait_secs"] >= 2.8, f"tier 2 was offered before tier_escalate_secs: {t}"


@pytest.mark.hotline(queue_extra='skills = ["cantonese"]', agents=["1001", "1002"],
                     agent_extra={"1001": "skills = { mandarin = 5 }",
                                  "1002": "skills = { cantonese = 2 }"})
def test_queue_skills_pick_the_agent_who_has_them(hl, ctx):
    register(ctx, ["1001", "1002"])
    agent_uas(ctx, "1001")
    speaker = agent_uas(ctx, "1002")
    caller(ctx, number="13800000038", d=2000).ok()
    speaker.ok()
    t = hl.wait_ticket("13800000038", "answered")
    assert t["agent_id"] == "1002", t


@pytest.mark.hotline(agents=["1001"], agent_extra={"1001": 'initial_status = "break"'},
                     extra='[caller_priority]\n"13800000052" = 20\n')
def test_priority_caller_is_served_before_an_earlier_caller(hl, ctx):
    register(ctx, ["1001"])
    agent = agent_uas(ctx, "1001")
    first = caller(ctx, number="13800000051", d=12000)
    time.sleep(3)
    vip = caller(ctx, number="13800000052", d=6000)
    time.sleep(3)  # both wait; then the only agent becomes available
    st, _ = http("PUT", "/api/v1/agents/1001/status", {"status": "available"})
    assert st == 200
    vip.ok()
    agent.ok()
    first.wait()
    t = hl.wait_ticket("13800000052", "answered")
    assert t["agent_id"] == "1001" and t["priority"] == 20, t
    assert hl.wait_ticket("13800000051", "abandoned", timeout=15)["priority"] == 0
