#!/usr/bin/env python3
"""An agent softphone on pjsua2 doing an attended transfer the way desk phones do: register as AGENT, answer the
call the switch offers, hold it, call TARGET through the switch (the consultation), then transfer with REFER +
Replaces (Call.xferReplaces). Prints one line per event; exits 0 when the transfer was reported successful (a
final NOTIFY with 200), 1 otherwise.

  pjsua_agent.py --agent 1001 --password secret1001 --port 7066 --target 110 [--talk 2]
"""
import argparse
import sys
import time

import pjsua2 as pj

EVENTS = []


def log(msg):
    line = f"{time.monotonic():.3f} {msg}"
    EVENTS.append(msg)
    print(line, flush=True)


class Call(pj.Call):
    def __init__(self, acc, name, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(acc, call_id)
        self.name = name
        self.confirmed = False
        self.disconnected = False
        self.xfer_final = None

    def onCallState(self, prm):
        ci = self.getInfo()
        log(f"{self.name} state={ci.stateText} code={ci.lastStatusCode}")
        if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed = True
        if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected = True

    def onCallTransferStatus(self, prm):
        log(f"{self.name} transfer status={prm.statusCode} final={prm.finalNotify}")
        if prm.finalNotify:
            self.xfer_final = prm.statusCode


class Account(pj.Account):
    def __init__(self):
        super().__init__()
        self.incoming = []

    def onIncomingCall(self, prm):
        c = Call(self, "citizen", prm.callId)
        self.incoming.append(c)
        op = pj.CallOpParam()
        op.statusCode = 200
        c.answer(op)
        log("answered the offered call")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", default="1001")
    ap.add_argument("--password", default="secret1001")
    ap.add_argument("--port", type=int, default=7066)
    ap.add_argument("--switch", default="127.0.0.1:5060")
    ap.add_argument("--target", default="110")
    ap.add_argument("--talk", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=40.0)
    a = ap.parse_args()

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.uaConfig.maxCalls = 4
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = a.port
    tcfg.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    # PCMU only, so the test does not depend on which wideband codecs this pjsua build has.
    for c in ep.codecEnum2():
        ep.codecSetPriority(c.codecId, 255 if c.codecId.startswith("PCMU/") else 0)

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{a.agent}@hotline.local"
    acfg.regConfig.registrarUri = f"sip:{a.switch}"
    acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", a.agent, 0, a.password))
    acc = Account()
    acc.create(acfg)
    deadline = time.monotonic() + a.timeout
    ok = False
    citizen = consult = None
    stage = "register"
    try:
        while time.monotonic() < deadline:
            ep.libHandleEvents(20)
            if stage == "register" and acc.getInfo().regIsActive:
                log("registered")
                stage = "wait_call"
            elif stage == "wait_call" and acc.incoming and acc.incoming[0].confirmed:
                citizen = acc.incoming[0]
                t_answer = time.monotonic()
                stage = "talk"
            elif stage == "talk" and time.monotonic() - t_answer > a.talk:
                citizen.setHold(pj.CallOpParam(True))
                log("citizen on hold")
                consult = Call(acc, "consult")
                consult.makeCall(f"sip:{a.target}@{a.switch}", pj.CallOpParam(True))
                log(f"consulting {a.target}")
                stage = "consult"
            elif stage == "consult" and consult.confirmed:
                t_consult = time.monotonic()
                stage = "consult_talk"
            elif stage == "consult" and consult.disconnected:
                log("consultation failed")
                break
            elif stage == "consult_talk" and time.monotonic() - t_consult > a.talk:
                citizen.xferReplaces(consult, pj.CallOpParam(True))
                log("REFER with Replaces sent")
                stage = "transfer"
            elif stage == "transfer" and citizen.xfer_final is not None:
                ok = citizen.xfer_final == 200
                log(f"transfer {'done' if ok else 'failed'}")
                stage = "hangup"
                t_done = time.monotonic()
            elif stage == "hangup" and (citizen.disconnected and consult.disconnected
                                         or time.monotonic() - t_done > 3):
                log(f"citizen disconnected={citizen.disconnected} consult disconnected={consult.disconnected}")
                break
        else:
            log(f"timeout in stage {stage}")
    finally:
        try:
            ep.hangupAllCalls()
            for _ in range(20):
                ep.libHandleEvents(20)
        except pj.Error:
            pass
        # pjsua2 aborts in libDestroy while Python still holds calls.
        acc.incoming = []
        citizen = consult = None
        acc.shutdown()
        ep.libDestroy()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
