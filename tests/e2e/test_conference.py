"""Emergency linkage with real softphones and audio checks: baresip plays the citizen, the agent and a stand-in
120 that records what it hears. The agent brings 120 into a three-way call, speaks, and leaves; the citizen
and 120 must still hear each other. Each check compares a recording with the speech that was played
(../shared/tools/wavcmp.py)."""
import shutil
import subprocess
import time

import pytest

from conftest import SHARED, http
from test_softphone import baresip_dir, recording, wavcmp

EMERGENCY_120 = '[emergency]\n"120" = "sip:120@127.0.0.1:5090"\n'

CITIZEN_1 = "My mother has collapsed in the kitchen and she is not breathing well."
CITIZEN_2 = "Yes, the door is open, we live on the third floor of building seven."
AGENT = "Twelve three four five here, I am connecting you with the ambulance service now."
AMBULANCE = "This is one two zero, the ambulance is on its way, stay with her please."


def tts(ctx, name, text):
    """espeak-ng speech as an 8 kHz mono 16-bit reference WAV."""
    raw, ref = ctx.dir / f"{name}-raw.wav", ctx.dir / f"{name}-ref.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(ref)], check=True)
    return ref


def mic(ctx, name, parts, total):
    """A microphone file: each (start second, reference WAV) placed at its start, silence elsewhere, `total` s."""
    out = ctx.dir / f"{name}-mic.wav"
    args = ["sox", "-m"]
    for start, ref in parts:
        padded = ctx.dir / f"{name}-{start}.wav"
        subprocess.run(["sox", str(ref), str(padded), "pad", str(start), "0"], check=True)
        args.append(str(padded))
    silence = ctx.dir / f"{name}-silence.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(silence), "trim", "0", str(total)],
                   check=True)
    args += [str(silence), str(out), "trim", "0", str(total)]
    subprocess.run(args, check=True)
    return out


def stop(*procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def live_call(caller, timeout=15):
    deadline = time.monotonic() + timeout
    calls = []
    while time.monotonic() < deadline:
        st, js = http("GET", "/api/v1/calls")
        assert st == 200, js
        calls = [c for c in js["items"] if c["caller"] == caller]
        if calls:
            return calls[0]
        time.sleep(0.1)
    raise AssertionError(f"no live call from {caller}: {calls}")


def wait_leg(call_id, role, state, timeout=15):
    deadline = time.monotonic() + timeout
    c = None
    while time.monotonic() < deadline:
        st, c = http("GET", f"/api/v1/calls/{call_id}")
        if st == 200 and any(l["role"] == role and l["state"] == state for l in c["legs"]):
            return c
        time.sleep(0.1)
    raise AssertionError(f"call {call_id}: no {role} leg {state} within {timeout}s: {c}")


def copy_rec(ctx, rec, name):
    dst = ctx.dir / f"baresip-{name}" / "rec"
    shutil.copytree(rec, dst)
    shutil.rmtree(rec, ignore_errors=True)
    return recording(dst, "dec")


@pytest.mark.hotline(agents=["1001"], extra=EMERGENCY_120,
                     media_extra='record = true\nrecordings_dir = "recordings"')
def test_three_way_with_120_then_agent_leaves(hl, ctx):
    if not shutil.which("baresip"):
        pytest.fail("baresip missing: scripts/install-deps.sh installs baresip-core")
    c1, c2, ag, amb = (tts(ctx, n, t) for n, t in
                       (("citizen1", CITIZEN_1), ("citizen2", CITIZEN_2), ("agent", AGENT), ("ambulance", AMBULANCE)))
    # Times are seconds after each phone's call is answered. The citizen's call is answered at once and the
    # agent's about a second later; 120 answers about 3 s after that.
    # Nobody talks over anyone: C1 ~5-10 s, agent ~12-17 s, the agent leaves at 19 s, 120 ~23-28 s, C2 ~30-35 s.
    citizen_mic = mic(ctx, "citizen", [(5, c1), (30, c2)], 38)
    agent_mic = mic(ctx, "agent", [(10, ag)], 60)
    ambulance_mic = mic(ctx, "ambulance", [(21, amb)], 60)
    adir, arec = baresip_dir(ctx, "agent", 7060, 31000, agent_mic,
                             '<sip:1001@hotline.local>;auth_pass=secret1001;outbound="sip:127.0.0.1:5060";'
                             'answermode=auto;regint=600;audio_codecs=PCMU')
    edir, erec = baresip_dir(ctx, "120", 5090, 33000, ambulance_mic,
                             "<sip:120@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU")
    cdir, crec = baresip_dir(ctx, "citizen", 7070, 32000, citizen_mic,
                             "<sip:13900000041@127.0.0.1>;regint=0;audio_codecs=PCMU")
    agent = ctx.spawn(["baresip", "-f", str(adir), "-t", "70"], "baresip-agent.log")
    ambulance = ctx.spawn(["baresip", "-f", str(edir), "-t", "70"], "baresip-120.log")
    caller = None
    try:
        hl.wait_agent("1001", registered=True, timeout=10)
        caller = ctx.spawn(["baresip", "-f", str(cdir), "-t", "50", "-e", "/dial sip:12345@127.0.0.1:5060"],
                           "baresip-citizen.log")
        t0 = time.monotonic()
        hl.wait_agent("1001", state="in_call", timeout=15)
        call = live_call("13900000041")
        st, js = http("POST", f"/api/v1/calls/{call['id']}/conference", {"number": "120"})
        assert st == 202, js
        assert any(l["role"] == "third_party" and l["party"] == "120" for l in js["legs"]), js
        c = wait_leg(call["id"], "third_party", "up")
        assert c["state"] == "conference", c
        # The agent's sentence is over ~17 s after the citizen dialled: leave at 19 s.
        time.sleep(max(0.0, 19 - (time.monotonic() - t0)))
        st, js = http("POST", f"/api/v1/calls/{call['id']}/leave")
        assert st == 202, js
        hl.wait_agent("1001", state="wrap_up", timeout=5)
        c = wait_leg(call["id"], "agent", "left")
        assert any(l["role"] == "citizen" and l["state"] == "up" for l in c["legs"]), c
        # The citizen hangs up when the microphone file ends (38 s).
        t = hl.wait_ticket("13900000041", "answered", timeout=45)
    finally:
        stop(*(p for p in (caller, agent, ambulance) if p))
    time.sleep(0.5)
    heard_by_120 = copy_rec(ctx, erec, "120")
    heard_by_citizen = copy_rec(ctx, crec, "citizen")
    copy_rec(ctx, arec, "agent")
    for ref, what in ((c1, "the citizen in the three-way call"), (ag, "the agent"),
                      (c2, "the citizen after the agent left")):
        rc, out = wavcmp(ref, heard_by_120, 30)
        assert rc == 0, f"120 did not hear {what}: {out}"
    rc, out = wavcmp(amb, heard_by_citizen, 30)
    assert rc == 0, f"the citizen did not hear 120 after the agent left: {out}"
    rc, out = wavcmp(ag, heard_by_citizen, 30)
    assert rc == 0, f"the citizen did not hear the agent: {out}"

    detail = hl.ticket_detail(t["id"])
    hand = detail["handoffs"]
    assert len(hand) == 1, hand
    h = hand[0]
    assert (h["partner"], h["number"], h["mode"], h["agent_id"]) == ("120", "120", "three_way", "1001"), h
    assert h["dialled_at"] and h["answered_at"] and h["agent_left_at"] and h["ended_at"], h
    assert h["dialled_at"] <= h["answered_at"] <= h["agent_left_at"] <= h["ended_at"], h
    assert h["outcome"] == "completed", h
    kinds = [i["kind"] for i in detail["interactions"]]
    for k in ("third_party_dialled", "third_party_answered", "agent_left"):
        assert k in kinds, kinds

    # The recording holds the mix: the citizen, the agent and 120.
    assert detail["recording"], detail
    st, wav = http_bytes(f"/api/v1/tickets/{t['id']}/recording")
    assert st == 200, wav[:200]
    rec = ctx.dir / "recording.wav"
    rec.write_bytes(wav)
    for ref, what in ((c1, "citizen"), (ag, "agent"), (amb, "120")):
        rc, out = wavcmp(ref, rec, 35)
        assert rc == 0, f"the recording does not hold the {what}'s voice: {out}"


def http_bytes(path):
    import urllib.request
    from conftest import HTTP, TOKEN
    req = urllib.request.Request(f"http://{HTTP}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
