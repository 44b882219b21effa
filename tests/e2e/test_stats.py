"""Queue and agent statistics against a hand-computed scenario, live (ACD) and per interval (tickets), and
the Prometheus endpoint."""
import datetime
import time
import urllib.request

import pytest

from conftest import HTTP, agent_uas, caller, http, register


@pytest.mark.hotline(agents=["1001"])
def test_statistics_match_a_hand_computed_scenario(hl, ctx):
    register(ctx, ["1001"])
    agent = agent_uas(ctx, "1001")
    # A: answered at once and talks 12 s (1001 is then busy).
    # B: joins ~1 s later, hangs up ~1 s after queueing: abandoned within 5 s.
    # C: joins ~2 s later, hangs up ~7 s after queueing: abandoned, not within 5 s.
    a = caller(ctx, number="13800000041", d=12000)
    time.sleep(1)
    b = caller(ctx, number="13800000042", d=3000)
    time.sleep(1)
    c = caller(ctx, number="13800000043", d=9000)
    for s in (a, b, c):
        s.ok()
    agent.ok()
    hl.wait_ticket("13800000041", "answered")
    tb = hl.wait_ticket("13800000042", "abandoned")
    tc = hl.wait_ticket("13800000043", "abandoned")
    assert tb["wait_secs"] < 5 <= tc["wait_secs"], (tb, tc)

    st, live = http("GET", "/api/v1/queues/general/stats")
    assert st == 200, live
    expect = dict(offered=3, answered=1, abandoned=2, abandoned_within_5s=1, answered_within_15s=1,
                  answered_within_20s=1, answered_within_30s=1)
    for k, v in expect.items():
        assert live[k] == v, f"live {k}: {live[k]} != {v}: {live}"
    assert live["answer_rate"] == pytest.approx(1 / 3) and live["service_level_15s"] == pytest.approx(1 / 3)
    assert 0 <= live["asa_secs"] < 3, live
    assert 9 <= live["avg_talk_secs"] <= 12, live  # 12 s call minus the ~2 s greeting
    assert live["waiting"] == 0 and live["source"] == "live"

    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    st, day = http("GET", f"/api/v1/queues/general/stats?from={today}")
    assert st == 200, day
    for k, v in expect.items():
        assert day[k] == v, f"interval {k}: {day[k]} != {v}: {day}"
    assert day["source"] == "interval"
    st, later = http("GET", "/api/v1/queues/general/stats?from=2099-01-01&to=2099-01-02")
    assert st == 200 and later["offered"] == 0, later
    st, bad = http("GET", "/api/v1/queues/general/stats?from=yesterday")
    assert st == 400 and bad["error"] == "bad_request", bad
    st, missing = http("GET", "/api/v1/queues/nope/stats")
    assert st == 404, missing

    st, agent_stats = http("GET", "/api/v1/agents/1001/stats")
    assert st == 200 and agent_stats["answered"] == 1, agent_stats
    st, agent_day = http("GET", f"/api/v1/agents/1001/stats?from={today}")
    assert st == 200 and agent_day["answered"] == 1 and agent_day["talk_secs"] >= 9, agent_day

    st, queues = http("GET", "/api/v1/queues")
    assert st == 200 and [q["queue"] for q in queues] == ["general"], queues

    with urllib.request.urlopen(f"http://{HTTP}/metrics", timeout=5) as r:
        text = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/plain")
    assert 'hotline_queue_offered_total{queue="general"} 3' in text, text
    assert 'hotline_queue_abandoned_within_5s_total{queue="general"} 1' in text, text
    assert "# TYPE hotline_queue_waiting gauge" in text


@pytest.mark.hotline(agents=["1001"], wrap_up=30)
def test_wrap_up_ended_early_by_the_api_and_written_to_the_ticket(hl, ctx):
    register(ctx, ["1001"])
    agent = agent_uas(ctx, "1001")
    caller(ctx, number="13800000044", d=2000).ok()
    agent.ok()
    hl.wait_agent("1001", state="wrap_up", timeout=5)
    time.sleep(1)
    st, view = http("POST", "/api/v1/agents/1001/wrap-up/end")
    assert st == 200 and view["state"] == "idle", (st, view)
    t = hl.wait_ticket("13800000044", "answered")
    deadline = time.monotonic() + 5
    while not t.get("wrap_up_secs") and time.monotonic() < deadline:
        time.sleep(0.2)
        t = hl.wait_ticket("13800000044", "answered")
    assert 0.5 <= (t.get("wrap_up_secs") or 0) < 10, t
    st, js = http("POST", "/api/v1/agents/9999/wrap-up/end")
    assert st == 404, js
