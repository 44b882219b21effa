"""Agents whose phone vanished are freed: failed OPTIONS keep-alives drop the registration."""
import time

import pytest

from conftest import agent_uas, register


@pytest.mark.hotline(sip_extra="t1_ms = 100\nt2_ms = 400\noptions_keepalive_secs = 1")
def test_phone_that_stops_answering_options_is_unregistered(ctx, hl):
    register(ctx, ["1001", "1002"])
    assert hl.agent("1001")["registered"] and hl.agent("1002")["registered"]
    # 1002's phone answers keep-alives; 1001's "phone" is gone (nothing listens on its Contact).
    alive = agent_uas(ctx, "1002", scenario="options_answer.xml", m=1000, timeout=60)
    # Timer F with T1 = 100 ms is 6.4 s, plus up to 1 s until the next probe.
    hl.wait_agent("1001", timeout=15, registered=False)
    assert hl.agent("1002")["registered"], "a phone that answers OPTIONS keeps its registration"
    time.sleep(2)
    assert hl.agent("1002")["registered"]
    assert "OPTIONS" in alive.messages(), "the live phone was probed"
    assert "phone stopped answering OPTIONS" in hl.log_tail(400)
