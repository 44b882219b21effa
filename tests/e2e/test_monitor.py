"""Supervisor monitoring with three baresip phones (citizen, agent 1001, supervisor 9001) and audio checks:
listen (the supervisor hears both, nobody hears the supervisor), whisper (only the agent hears), barge (both
hear). The supervisor changes mode on the same call with POST /api/v1/calls/{id}/monitor."""
import shutil
import time

import pytest

from conftest import http
from test_conference import copy_rec, live_call, mic, stop, tts, wait_leg
from test_softphone import baresip_dir, wavcmp

SUPERVISOR = {"9001": 'role = "supervisor"'}


@pytest.mark.hotline(agents=["1001", "9001"], agent_queues={"9001": "[]"}, agent_extra=SUPERVISOR)
def test_listen_whisper_barge(hl, ctx):
    if not shutil.which("baresip"):
        pytest.fail("baresip missing: scripts/install-deps.sh installs baresip-core")
    c1 = tts(ctx, "citizen", "The water pipe in our building burst this morning and the stairs are flooded.")
    a1 = tts(ctx, "agent", "I understand, I will send the water company and the property manager right away.")
    s1 = tts(ctx, "sup-listen", "Supervisor listening only, nobody should hear this first sentence.")
    s2 = tts(ctx, "sup-whisper", "Whisper to the agent, remember to ask for the exact street address.")
    s3 = tts(ctx, "sup-barge", "This is the duty supervisor joining the call to help you both now.")
    # Seconds after each phone answers: citizen at ~0, agent ~2, supervisor ~3.5 (after the monitor request).
    citizen_mic = mic(ctx, "citizen", [(5, c1)], 42)
    agent_mic = mic(ctx, "agent", [(9, a1)], 70)
    sup_mic = mic(ctx, "supervisor", [(14, s1), (22, s2), (30, s3)], 70)
    adir, arec = baresip_dir(ctx, "agent", 7060, 31000, agent_mic,
                             '<sip:1001@hotline.local>;auth_pass=secret1001;outbound="sip:127.0.0.1:5060";'
                             'answermode=auto;regint=600;audio_codecs=PCMU')
    sdir, srec = baresip_dir(ctx, "supervisor", 7080, 33000, sup_mic,
                             '<sip:9001@hotline.local>;auth_pass=secret9001;outbound="sip:127.0.0.1:5060";'
                             'answermode=auto;regint=600;audio_codecs=PCMU')
    cdir, crec = baresip_dir(ctx, "citizen", 7070, 32000, citizen_mic,
                             "<sip:13900000071@127.0.0.1>;regint=0;audio_codecs=PCMU")
    agent = ctx.spawn(["baresip", "-f", str(adir), "-t", "70"], "baresip-agent.log")
    sup = ctx.spawn(["baresip", "-f", str(sdir), "-t", "70"], "baresip-supervisor.log")
    citizen = None
    try:
        hl.wait_agent("1001", registered=True, timeout=10)
        hl.wait_agent("9001", registered=True, timeout=10)
        citizen = ctx.spawn(["baresip", "-f", str(cdir), "-t", "55", "-e", "/dial sip:12345@127.0.0.1:5060"],
                            "baresip-citizen.log")
        t0 = time.monotonic()
        hl.wait_agent("1001", state="in_call", timeout=15)
        call = live_call("13900000071")
        st, js = http("POST", f"/api/v1/calls/{call['id']}/monitor", {"supervisor": "9001", "mode": "listen"})
        assert st == 202, js
        c = wait_leg(call["id"], "supervisor", "up")
        assert [l["mode"] for l in c["legs"] if l["role"] == "supervisor"] == ["listen"], c
        assert c["state"] == "conference", c

        def at(second):
            time.sleep(max(0.0, second - (time.monotonic() - t0)))

        at(24)  # S1 (listen) is over
        st, js = http("POST", f"/api/v1/calls/{call['id']}/monitor", {"supervisor": "9001", "mode": "whisper"})
        assert st == 202 and any(l.get("mode") == "whisper" for l in js["legs"]), js
        at(32)  # S2 (whisper) is over
        st, js = http("POST", f"/api/v1/calls/{call['id']}/monitor", {"supervisor": "9001", "mode": "barge"})
        assert st == 202 and any(l.get("mode") == "barge" for l in js["legs"]), js
        t = hl.wait_ticket("13900000071", "answered", timeout=40)
    finally:
        stop(*(p for p in (citizen, agent, sup) if p))
    time.sleep(0.5)
    by_sup = copy_rec(ctx, srec, "supervisor")
    by_citizen = copy_rec(ctx, crec, "citizen")
    by_agent = copy_rec(ctx, arec, "agent")
    expect = [
        (c1, by_sup, True, "the supervisor hears the citizen"),
        (a1, by_sup, True, "the supervisor hears the agent"),
        (s1, by_citizen, False, "listen: the citizen does not hear the supervisor"),
        (s1, by_agent, False, "listen: the agent does not hear the supervisor"),
        (s2, by_agent, True, "whisper: the agent hears the supervisor"),
        (s2, by_citizen, False, "whisper: the citizen does not hear the supervisor"),
        (s3, by_agent, True, "barge: the agent hears the supervisor"),
        (s3, by_citizen, True, "barge: the citizen hears the supervisor"),
    ]
    for ref, rec, heard, what in expect:
        rc, out = wavcmp(ref, rec, 40)
        assert (rc == 0) == heard, f"{what}: {out}"
    kinds = [i["kind"] for i in hl.ticket_detail(t["id"])["interactions"]]
    assert kinds.count("supervisor_mode") == 2 and "supervisor_joined" in kinds, kinds
