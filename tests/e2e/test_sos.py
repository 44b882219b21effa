"""SOS handsets: a registered device's call is served before earlier normal calls and rings `ring_agents`
agents at once; with no agent, the switch escalates to 120 (baresip stand-in: it hears the announcement and
the elder, the elder hears 120); an agent answering later joins the elder and 120; the INVITE's PIDF-LO
location goes on the ticket; after the call the elder's emergency contacts are called until one presses 1."""
import shutil
import time

import pytest

from conftest import SOUNDS, Sipp, agent_uas, caller, http, register
from test_conference import copy_rec, mic, stop, tts
from test_softphone import baresip_dir, wavcmp

AGENTS = ["1001", "1002", "1003", "1004"]


def sos_config(escalate_after=60, ring_agents=2, trunk=False):
    return f"""
[[lines]]
number = "96120"
name = "SOS"
greeting = "status_available"
kind = "sos"
queue = "sos"

[[queues]]
name = "sos"
ring_timeout_secs = 15
wrap_up_secs = 1

[emergency]
"120" = "sip:120@127.0.0.1:5090"

[sos]
queue = "sos"
ring_agents = {ring_agents}
escalate_after_secs = {escalate_after}
escalate_to = "120"
contact_ring_secs = 10
announcements_dir = "sos-voice"
""" + ('\n[trunks.outbound]\nuri = "sip:127.0.0.1:5094"\ncaller_id = "12345"\n' if trunk else "")


ON_BREAK = {a: 'initial_status = "break"' for a in AGENTS}
BOTH_QUEUES = {a: '["general", "sos"]' for a in AGENTS}
ELDER = {
    "number": "13900000061",
    "name": "Zhang Guilan",
    "age": 82,
    "address": "Room 502, Building 3, 1002 Huaqiangbei Road, Futian, Shenzhen",
    "medical_notes": "heart disease",
    "community": "Huaqiangbei",
    "preferred_hospital": "Futian People's Hospital",
    "contacts": [{"name": "Li Ming", "relation": "son", "number": "13700000001"}],
}


def register_device(device):
    st, js = http("POST", "/api/v1/sos/devices", device)
    assert st == 201, js
    return js


def calls():
    st, js = http("GET", "/api/v1/calls")
    assert st == 200, js
    return js["items"]


def wait_call(pred, what, timeout=15):
    deadline = time.monotonic() + timeout
    cs = []
    while time.monotonic() < deadline:
        cs = calls()
        for c in cs:
            if pred(c):
                return c
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen within {timeout}s; calls: {cs}")


def offered(hl, ticket_id):
    return [i["detail"]["agent"] for i in hl.ticket_detail(ticket_id)["interactions"] if i["kind"] == "offered"]


@pytest.mark.hotline(agents=AGENTS, agent_queues=BOTH_QUEUES, agent_extra=ON_BREAK, extra=sos_config())
def test_sos_device_is_served_before_earlier_calls(hl, ctx):
    register(ctx, AGENTS)
    register_device(ELDER)
    # Registration prepares the device's announcement for 120 (espeak-ng, on this machine).
    deadline = time.monotonic() + 15
    voice = []
    while time.monotonic() < deadline and not voice:
        voice = list((ctx.dir / "sos-voice").glob(f"{ELDER['number']}-*.wav"))
        time.sleep(0.2)
    assert voice, "no announcement generated under sos-voice/"
    assert voice[0].stat().st_size > 8000 * 2 * 3, "announcement shorter than 3 s"
    normal = caller(ctx, number="13800000060", d=14000)
    wait_call(lambda c: c["caller"] == "13800000060" and c["state"] == "queued", "normal call queued")
    sos = caller(ctx, number=ELDER["number"], d=4000)
    c = wait_call(lambda c: c["caller"] == ELDER["number"] and c["state"] == "queued", "SOS call queued")
    assert c["sos"] and c["queue"] == "sos", c
    assert c["sos_device"]["name"] == "Zhang Guilan" and c["sos_device"]["medical_notes"] == "heart disease", c
    # One agent comes back: the SOS call, which arrived later, gets it.
    a1 = agent_uas(ctx, "1001")
    time.sleep(1)
    hl.set_status("1001", "available")
    wait_call(lambda c: c["caller"] == ELDER["number"] and c["state"] == "talking", "SOS call answered")
    assert [x for x in calls() if x["caller"] == "13800000060"][0]["state"] == "queued", \
        "the earlier normal call still waits"
    hl.set_status("1001", "break")
    sos.ok()
    a1.ok()
    t = hl.wait_ticket(ELDER["number"], "answered", timeout=10)
    assert t["agent_id"] == "1001" and t["queue"] == "sos", t
    assert t["priority"] >= 1000000, t
    assert t["sos_profile"]["name"] == "Zhang Guilan" and t["sos_profile"]["contacts"][0]["number"] == "13700000001", t
    assert t["location"]["source"] == "registered" and "Huaqiangbei" in t["location"]["description"], t

    normal.ok()


@pytest.mark.hotline(agents=AGENTS[1:], agent_queues=BOTH_QUEUES, extra=sos_config(ring_agents=2))
def test_sos_line_rings_ring_agents_at_once(hl, ctx):
    agents = AGENTS[1:]
    register(ctx, agents)
    rings = [agent_uas(ctx, a, scenario="agent_ring_cancel.xml", timeout=20) for a in agents]
    time.sleep(1)
    sos = caller(ctx, line="96120", number="13800000062", d=3000)
    c = wait_call(lambda c: c["caller"] == "13800000062" and
                  sum(l["role"] == "agent" and l["state"] == "ringing" for l in c["legs"]) >= 2,
                  "two agents ringing")
    time.sleep(1)
    c = [x for x in calls() if x["caller"] == "13800000062"][0]
    ringing = [l["party"] for l in c["legs"] if l["role"] == "agent" and l["state"] == "ringing"]
    assert len(ringing) == 2, c
    assert c["sos"] and c["queue"] == "sos", c
    sos.ok()
    stop(*(r.proc for r in rings))


@pytest.mark.hotline(agents=["1001"], agent_queues={"1001": '["general", "sos"]'},
                     agent_extra={"1001": 'initial_status = "break"'}, extra=sos_config(escalate_after=3))
def test_sos_escalates_to_120_and_they_talk(hl, ctx):
    if not shutil.which("baresip"):
        pytest.fail("baresip missing: scripts/install-deps.sh installs baresip-core")
    elder_says = tts(ctx, "elder", "Help me please, I fell down and I cannot get up from the floor.")
    ambulance_says = tts(ctx, "ambulance", "One two zero here, we are sending an ambulance to you right now.")
    # The elder's line answers at once; escalation dials 120 at 3 s; the announcement to 120 lasts ~12 s.
    elder_mic = mic(ctx, "elder", [(21, elder_says)], 40)
    ambulance_mic = mic(ctx, "ambulance", [(27, ambulance_says)], 70)
    edir, erec = baresip_dir(ctx, "120", 5090, 33000, ambulance_mic,
                             "<sip:120@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU")
    cdir, crec = baresip_dir(ctx, "elder", 7070, 32000, elder_mic,
                             "<sip:13800000063@127.0.0.1>;regint=0;audio_codecs=PCMU")
    ambulance = ctx.spawn(["baresip", "-f", str(edir), "-t", "70"], "baresip-120.log")
    elder = None
    try:
        time.sleep(1)
        elder = ctx.spawn(["baresip", "-f", str(cdir), "-t", "55", "-e", "/dial sip:96120@127.0.0.1:5060"],
                          "baresip-elder.log")
        c = wait_call(lambda c: c["caller"] == "13800000063" and c["state"] == "escalated", "escalation", 30)
        assert c["sos"] and any(l["role"] == "third_party" and l["mode"] == "escalation" for l in c["legs"]), c
        t = hl.wait_ticket("13800000063", "handed_off", timeout=50)
    finally:
        stop(*(p for p in (elder, ambulance) if p))
    time.sleep(0.5)
    heard_by_120 = copy_rec(ctx, erec, "120")
    heard_by_elder = copy_rec(ctx, crec, "elder")
    rc, out = wavcmp(SOUNDS / "en" / "sos-escalation-intro.wav", heard_by_120, 20)
    assert rc == 0, f"120 did not hear the SOS announcement: {out}"
    rc, out = wavcmp(elder_says, heard_by_120, 35)
    assert rc == 0, f"120 did not hear the elder: {out}"
    rc, out = wavcmp(ambulance_says, heard_by_elder, 40)
    assert rc == 0, f"the elder did not hear 120: {out}"
    d = hl.ticket_detail(t["id"])
    h = d["handoffs"]
    assert len(h) == 1 and (h[0]["partner"], h[0]["mode"], h[0]["outcome"]) == ("120", "escalation", "completed"), h
    kinds = [i["kind"] for i in d["interactions"]]
    for k in ("sos", "sos_escalated", "sos_escalation_connected"):
        assert k in kinds, kinds


@pytest.mark.hotline(agents=["1001"], agent_queues={"1001": '["general", "sos"]'},
                     agent_extra={"1001": 'initial_status = "break"'}, extra=sos_config(escalate_after=2))
def test_agent_joins_after_escalation_and_location_from_pidf(hl, ctx):
    register(ctx, ["1001"])
    p120 = Sipp(ctx, "agent_answer.xml", remote=None, port=5090, media_port=7090, rtp_echo=True, timeout=90,
                label="party120")
    time.sleep(1)
    elder = caller(ctx, line="96120", number="13800000064", d=30000, scenario="caller_geo.xml", timeout=60)
    wait_call(lambda c: c["caller"] == "13800000064" and c["state"] == "escalated", "escalation", 30)
    a1 = agent_uas(ctx, "1001")
    time.sleep(1)
    hl.set_status("1001", "available")
    c = wait_call(lambda c: c["caller"] == "13800000064" and c["state"] == "conference", "agent joined", 15)
    roles = sorted(l["role"] for l in c["legs"] if l["state"] == "up")
    assert roles == ["agent", "citizen", "third_party"], c
    elder.ok()
    a1.ok()
    p120.ok()
    t = hl.wait_ticket("13800000064", "answered", timeout=10)
    assert t["location"]["source"] == "pidf-lo", t
    assert "深圳市" in t["location"]["description"] and abs(t["location"]["lat"] - 22.5431) < 1e-6, t
    assert t["agent_id"] == "1001", t


@pytest.mark.hotline(agents=["1001"], agent_queues={"1001": '["general", "sos"]'},
                     extra=sos_config(trunk=True))
def test_emergency_contact_is_called_and_confirms(hl, ctx):
    register(ctx, ["1001"])
    register_device(ELDER)
    contact = Sipp(ctx, "contact_confirm.xml", remote=None, port=5094, media_port=7094, rtp_echo=True, d=1500,
                   timeout=60, label="contact")
    a1 = agent_uas(ctx, "1001")
    time.sleep(1)
    sos = caller(ctx, number=ELDER["number"], d=3000)
    sos.ok()
    a1.ok()
    contact.ok("(answers, presses 1, gets BYE)")
    assert "INVITE sip:13700000001@127.0.0.1:5094" in contact.messages()
    t = hl.wait_ticket(ELDER["number"], "answered", timeout=10)
    deadline = time.monotonic() + 20
    kinds = []
    while time.monotonic() < deadline:
        inter = hl.ticket_detail(t["id"])["interactions"]
        kinds = [i["kind"] for i in inter]
        if "sos_contacts_done" in kinds:
            break
        time.sleep(0.3)
    attempts = [i["detail"] for i in inter if i["kind"] == "sos_contact_attempt"]
    assert attempts == [{"order": 1, "name": "Li Ming", "relation": "son", "number": "13700000001",
                         "result": "confirmed"}], inter
    done = [i["detail"] for i in inter if i["kind"] == "sos_contacts_done"]
    assert done == [{"confirmed_by": "13700000001"}], kinds
