"""The routing core through the real binary, as a new centre would use it.

The engine runs in a temp dir with the standard test config and no [routing] section, so it works from the
routing data and official calendars built into the binary. A citizen's call leaves a draft ticket; the agent
logs in with the SIP password, fills the ticket in, accepts and dispatches it by the catalogue; an admin creates
the unit's liaison, who logs in, signs and replies; the agent approves and calls back; the ticket closes.
An SMS contact comes in through the API with its original time. Then `hotline audit verify` checks the chain
and catches an edit made behind the engine's back."""
import sqlite3
import subprocess
import urllib.parse

from conftest import agent_uas, caller, hotline_bin, http, register


def act(tid, body, token):
    return http("POST", f"/api/v1/tickets/{tid}/actions", body, token=token)


def login(user, password):
    st, js = http("POST", "/api/v1/login", {"user": user, "password": password}, token=None)
    assert st == 200, (st, js)
    return js["token"]


def test_call_ticket_lifecycle_and_audit(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True, status="available", state="idle")
    agent = agent_uas(ctx, "1001", d=500)
    c = caller(ctx, number="13900000555", d=4000)
    c.ok("(caller)")
    agent.ok("(agent 1001)")
    t = hl.wait_ticket("13900000555", "answered")
    tid = t["id"]
    assert t["state"] == "draft", t

    # The agent logs in with the SIP password of the config and fills the ticket in.
    agent_token = login("1001", "secret1001")
    st, me = http("GET", "/api/v1/me", token=agent_token)
    assert st == 200 and me["role"] == "agent", me
    st, js = act(tid, {"action": "accept"}, agent_token)
    assert st == 400 and "ticket_type" in js["reason"], (st, js)
    st, js = http("PATCH", f"/api/v1/tickets/{tid}", {
        "ticket_type": "complaint", "category": "construction.construction_noise",
        "area": "dongcheng.xinhua.wenhua", "content": "工地夜间施工噪音扰民", "request": "要求夜间停工"},
        token=agent_token)
    assert st == 200, (st, js)
    assert js["district"] == "dongcheng", js
    st, js = act(tid, {"action": "accept"}, agent_token)
    assert st == 200 and js["state"] == "accepted", (st, js)
    st, js = act(tid, {"action": "dispatch"}, agent_token)
    assert st == 200 and js["state"] == "dispatched", (st, js)
    lead = js["lead_unit"]

    # The catalogue's lead unit gets a liaison (created by the admin), who sees the work and answers it.
    st, unit = http("GET", f"/api/v1/units/{lead}")
    assert st == 200, (st, unit)
    st, js = http("POST", "/api/v1/users", {"id": "liaison1", "name": "王联络员", "role": "liaison",
                                            "unit_id": lead, "password": "liaison-pass-1"})
    assert st == 201, (st, js)
    liaison = login("liaison1", "liaison-pass-1")
    st, work = http("GET", "/api/v1/assignments?state=open", token=liaison)
    assert st == 200 and work["total"] == 1 and work["items"][0]["ticket_id"] == tid, work
    # The liaison may not touch the call centre.
    st, _ = http("GET", "/api/v1/agents", token=liaison)
    assert st == 403
    st, js = act(tid, {"action": "sign"}, liaison)
    assert st == 200 and js["state"] == "in_progress", (st, js)
    st, js = act(tid, {"action": "reply", "outcome": "resolved", "contact_method": "phone",
                       "public_text": "已约谈施工单位，夜间停止施工"}, liaison)
    assert st == 200 and js["state"] == "replied", (st, js)
    st, js = act(tid, {"action": "review", "approve": True}, liaison)
    assert st == 403, (st, js)
    st, js = act(tid, {"action": "review", "approve": True}, agent_token)
    assert st == 200 and js["state"] == "pending_callback", (st, js)
    st, js = act(tid, {"action": "callback", "reached": True, "resolved": True, "grade": "satisfied"},
                 agent_token)
    assert st == 200 and js["state"] == "closed", (st, js)
    st, hist = http("GET", f"/api/v1/tickets/{tid}/history")
    actions = [e["action"] for e in hist["items"]]
    assert actions == ["edit", "accept", "queue_for_dispatch", "dispatch", "sign", "reply", "review",
                       "callback"], actions
    assert hist["items"][4]["actor"].startswith("liaison:"), hist["items"][4]

    # Another channel: an SMS with its original time, answered at intake from the knowledge base.
    st, kb = http("POST", "/api/v1/kb", {"question": "社保卡丢了怎么补办？",
                                          "answer": "携带身份证到任一社保服务网点办理，当场制卡。",
                                          "category": "labour", "keywords": ["社保卡", "补办"]})
    assert st == 201, (st, kb)
    st, hits = http("GET", "/api/v1/kb?q=" + urllib.parse.quote("社保卡补办"), token=agent_token)
    assert st == 200 and hits["items"][0]["id"] == kb["id"], hits
    st, sms = http("POST", "/api/v1/tickets", {"channel": "sms", "caller": "13900000666",
                                                "type": "consult", "content": "社保卡丢了怎么办",
                                                "received_at": "2026-11-20T01:00:00Z"}, token=agent_token)
    assert st == 201 and sms["state"] == "accepted", (st, sms)
    assert sms["received_at"] == "2026-11-20T01:00:00Z", sms
    assert sms["agent_id"] == "1001", sms
    st, js = act(sms["number"], {"action": "close", "note": hits["items"][0]["answer"]}, agent_token)
    assert st == 200 and js["state"] == "closed", (st, js)
    st, js = act(sms["id"], {"action": "dispatch"}, agent_token)
    assert st == 409, (st, js)

    st, v = http("GET", "/api/v1/audit/verify")
    assert st == 200 and v["ok"], v
    st, rep = http("GET", "/api/v1/reports/kpi?from=2026-01-01&to=2030-01-01&format=json")
    assert st == 200, (st, rep)
    st, doc = http("GET", "/api/v1/openapi.yaml", token=None)
    assert st == 200, st

    # `hotline audit verify` from the command line, then after tampering.
    hl.stop()
    run = lambda: subprocess.run([hotline_bin(), "--config", str(hl.cfg), "audit", "verify"],
                                 capture_output=True, text=True, timeout=60)
    out = run()
    assert out.returncode == 0 and "audit chain OK" in out.stdout, out.stdout + out.stderr
    db = sqlite3.connect(str(ctx.dir / "db" / "hotline.db"))
    db.execute("UPDATE audit_events SET actor = 'agent:9999' WHERE seq = 3")
    db.commit()
    db.close()
    out = run()
    assert out.returncode == 1 and "BROKEN at event 3" in out.stdout, out.stdout + out.stderr
