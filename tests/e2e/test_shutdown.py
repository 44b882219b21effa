"""SIGTERM with a call in progress: new INVITEs get 503, the call ends normally, exit code 0."""
import random
import signal
import sqlite3
import time

from conftest import agent_uas, caller, register, sip_send


def invite_msg(number):
    tag, cid, br = (f"{random.getrandbits(40):x}" for _ in range(3))
    sdp = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    return (f"INVITE sip:12345@127.0.0.1:5060 SIP/2.0\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=z9hG4bK{br};rport\n"
            f"Max-Forwards: 70\nFrom: <sip:{number}@127.0.0.1>;tag={tag}\nTo: <sip:12345@127.0.0.1>\n"
            f"Call-ID: {cid}\nCSeq: 1 INVITE\nContact: <sip:{number}@127.0.0.1:LOCALPORT>\n"
            f"Content-Type: application/sdp\nContent-Length: {len(sdp)}\n\n{sdp}")


def test_sigterm_drains_calls(hl, ctx):
    register(ctx, ["1001"])
    hl.wait_agent("1001", registered=True)
    agent = agent_uas(ctx, "1001")
    c = caller(ctx, number="13800000010", d=9000)
    hl.wait_agent("1001", state="in_call", timeout=12)
    hl.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert hl.proc.poll() is None, f"hotline exited at once with a call in progress\n{hl.log_tail()}"
    resps = sip_send(invite_msg("13800000011"))
    finals = [r[0] for r in resps if r[0] >= 200]
    assert finals and finals[-1] == 503, (f"a new INVITE during shutdown must get 503, got "
                                          f"{[r[0] for r in resps] or 'nothing'}\n{hl.log_tail()}")
    c.ok("(caller whose call was in progress at SIGTERM)")
    agent.ok("(agent)")
    try:
        rc = hl.proc.wait(40)
    except Exception:
        raise AssertionError(f"hotline still running 40 s after SIGTERM and the last call\n{hl.log_tail()}")
    assert rc == 0, f"exit code {rc} after SIGTERM\n{hl.log_tail()}"
    # the ticket of the drained call was committed before exit
    db = ctx.dir / "db" / "hotline.db"
    if db.exists():
        con = sqlite3.connect(str(db))
        try:
            tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
            if "tickets" in tables:
                cols = [r[1] for r in con.execute("pragma table_info(tickets)")]
                if "caller" in cols and "disposition" in cols:
                    rows = con.execute("select disposition from tickets where caller = ?",
                                       ("13800000010",)).fetchall()
                    assert rows and rows[0][0] == "answered", f"drained call's ticket: {rows}"
        finally:
            con.close()
