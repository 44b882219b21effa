"""The spoken position is really heard: baresip calls 12345 while no agent is free and records what it hears;
the recording must contain the position sentence and the number prompt (../shared/tools/wavcmp.py)."""
import shutil
import subprocess

import pytest

from conftest import SHARED, SOUNDS
from test_softphone import baresip_dir, recording, wavcmp


@pytest.mark.hotline(agents=["1001"], agent_extra={"1001": 'initial_status = "break"'})
def test_caller_hears_position_and_number_prompts(hl, ctx):
    if not shutil.which("baresip"):
        pytest.fail("baresip missing: scripts/install-deps.sh installs baresip-core")
    if not (SHARED / "tools" / "wavcmp.py").exists():
        pytest.skip("shared/tools/wavcmp.py missing")
    silence = ctx.dir / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(silence), "trim", "0", "14"],
                   check=True)
    cdir, crec = baresip_dir(ctx, "caller", 7070, 32000, silence,
                             "<sip:13900000031@127.0.0.1>;regint=0;audio_codecs=PCMU")
    call = ctx.spawn(["baresip", "-f", str(cdir), "-t", "30", "-e", "/dial sip:12345@127.0.0.1:5060"],
                     "baresip-caller.log")
    try:
        # the microphone file lasts 14 s: baresip hangs up then; the call is abandoned (nobody available)
        t = hl.wait_ticket("13900000031", "abandoned", timeout=30)
    finally:
        if call.poll() is None:
            call.terminate()
            try:
                call.wait(10)
            except subprocess.TimeoutExpired:
                call.kill()
    ann = [i for i in hl.ticket_detail(t["id"])["interactions"] if i["kind"] == "announced"]
    assert ann and ann[0]["detail"]["position"] == 1, ann
    shutil.copytree(crec, ctx.dir / "rec")
    shutil.rmtree(crec, ignore_errors=True)
    got = recording(ctx.dir / "rec", "dec")
    for prompt in ("queue-position-before", "num-1", "queue-position-after"):
        rc, out = wavcmp(SOUNDS / "en" / f"{prompt}.wav", got, 14)
        assert rc == 0, f"the caller's recording does not contain {prompt}: {out}"
    # negative control: a prompt the caller was never played
    rc, out = wavcmp(SOUNDS / "en" / "status_logged_out.wav", got, 14)
    assert rc != 0, f"wavcmp found a prompt that was never played: {out}"
