"""Feature codes from the agent's own account: *2 break, *1 available, *0 logged out."""
import pytest

from conftest import Sipp, register


@pytest.mark.parametrize("code,status", [("*2", "break"), ("*0", "logged_out"), ("*1", "available")])
def test_feature_code(hl, ctx, code, status):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    start = "available" if status != "available" else "break"
    hl.set_status("1001", start)
    s = Sipp(ctx, "agent_feature.xml", m=1, timeout=20,
             args=["-s", code, "-key", "user", "1001", "-au", "1001", "-ap", "secret1001"],
             label=f"feature{code.strip('*')}")
    s.ok(f"(agent 1001 dialling {code}: answered, prompt, BYE from the switch)")
    hl.wait_agent("1001", status=status, timeout=5)


def test_feature_code_wrong_password_refused(hl, ctx):
    hl.set_status("1001", "available")
    s = Sipp(ctx, "agent_feature.xml", m=1, timeout=8,
             args=["-s", "*2", "-key", "user", "1001", "-au", "1001", "-ap", "wrong"], label="feature-badpw")
    assert s.wait() != 0, "a feature code with a wrong password must not be accepted"
    assert hl.agent("1001")["status"] == "available", "status changed without valid credentials"
