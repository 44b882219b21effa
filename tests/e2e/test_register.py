"""Agent registration with digest auth (MD5, SHA-256), and no user enumeration."""
import hashlib
import random
import re
import time

import pytest

from conftest import AGENTS, header_all, register, sip_send


def register_msg(user, auth=None, cseq=1, callid=None, transport="UDP"):
    callid = callid or f"e2e-{random.getrandbits(48):x}"
    return (f"REGISTER sip:hotline.local SIP/2.0\n"
            f"Via: SIP/2.0/{transport} 127.0.0.1:LOCALPORT;branch=z9hG4bK{random.getrandbits(48):x};rport\n"
            f"Max-Forwards: 70\n"
            f"From: <sip:{user}@hotline.local>;tag={random.getrandbits(32):x}\n"
            f"To: <sip:{user}@hotline.local>\n"
            f"Call-ID: {callid}\n"
            f"CSeq: {cseq} REGISTER\n"
            f"Contact: <sip:{user}@127.0.0.1:6100>\n"
            f"Expires: 60\n"
            + (f"Authorization: {auth}\n" if auth else "")
            + "Content-Length: 0\n\n")


def params(challenge):
    assert challenge.lower().startswith("digest "), f"not a Digest challenge: {challenge}"
    return {k.lower(): (v1 if v1 else v2) for k, v1, v2 in
            re.findall(r'([\w-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', challenge[7:])}


def digest(user, password, challenge, method="REGISTER", uri="sip:hotline.local"):
    p = params(challenge)
    alg = p.get("algorithm", "MD5").upper()
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[alg]

    def H(s):
        return h(s.encode()).hexdigest()

    ha1 = H(f"{user}:{p['realm']}:{password}")
    ha2 = H(f"{method}:{uri}")
    cnonce, nc = f"{random.getrandbits(40):x}", "00000001"
    if "auth" in [q.strip() for q in p.get("qop", "").split(",")]:
        resp = H(f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        resp = H(f"{ha1}:{p['nonce']}:{ha2}")
        extra = ""
    opaque = f', opaque="{p["opaque"]}"' if "opaque" in p else ""
    return (f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{uri}", '
            f'response="{resp}", algorithm={alg}{extra}{opaque}')


def final(resps, what):
    assert resps, f"no response to {what}"
    return resps[-1]


def challenges(user, transport="udp"):
    st, hdrs, raw = final(sip_send(register_msg(user), transport), f"REGISTER {user} without credentials")
    assert st == 401, f"REGISTER {user} without credentials must be challenged 401, got:\n{raw}"
    ch = header_all(hdrs, "www-authenticate")
    assert ch, f"401 without WWW-Authenticate:\n{raw}"
    return ch


def shape(ch):
    """What a scanner could compare: the algorithms offered and the parameter names, not the nonces."""
    return [(params(c).get("algorithm", "MD5").upper(), sorted(params(c))) for c in ch]


def auth_attempt(user, password, alg="MD5"):
    ch = challenges(user)
    c = next((c for c in ch if params(c).get("algorithm", "MD5").upper() == alg), None)
    assert c, f"no {alg} challenge offered: {ch}"
    resps = sip_send(register_msg(user, digest(user, password, c), cseq=2))
    return final(resps, f"REGISTER {user} with {alg} credentials")


def test_sipp_registration_with_digest(hl, ctx):
    register(ctx, AGENTS[:2])
    for a in AGENTS[:2]:
        hl.wait_agent(a, registered=True, timeout=5)
    assert hl.agent(AGENTS[2])["registered"] is False


def test_challenge_md5_first_and_sha256_offered(hl):
    ch = challenges("1001")
    algs = [params(c).get("algorithm", "MD5").upper() for c in ch]
    assert algs[0] == "MD5", f"MD5 must be the first challenge (SIPp and many phones read only the first): {ch}"
    assert "SHA-256" in algs, f"a SHA-256 challenge must be offered too (RFC 8760): {ch}"
    for c in ch:
        p = params(c)
        assert p.get("realm") == "hotline.local", f"realm must be sip.domain: {c}"
        assert "auth" in p.get("qop", ""), f"qop=auth expected: {c}"


def test_md5_and_sha256_success(hl):
    st, _, raw = auth_attempt("1003", "secret1003", "MD5")
    assert st == 200, f"MD5 digest with the right password must give 200:\n{raw}"
    st, _, raw = auth_attempt("1004", "secret1004", "SHA-256")
    assert st == 200, f"SHA-256 digest with the right password must give 200:\n{raw}"
    hl.wait_agent("1003", registered=True, timeout=5)
    hl.wait_agent("1004", registered=True, timeout=5)


def test_wrong_password_and_unknown_user_look_alike(hl):
    st_known, h_known, raw_known = auth_attempt("1001", "wrong-password")
    assert st_known in (401, 403), f"a wrong password must be refused (401/403):\n{raw_known}"
    st_unknown, h_unknown, raw_unknown = auth_attempt("7777", "whatever")
    assert st_unknown == st_known, (f"unknown user got {st_unknown}, known user with a wrong password got "
                                    f"{st_known}: a scanner can enumerate extensions\n{raw_unknown}")
    assert shape(header_all(h_unknown, "www-authenticate")) == shape(header_all(h_known, "www-authenticate")), \
        f"WWW-Authenticate differs between unknown and known users:\n{raw_known}\n---\n{raw_unknown}"
    assert shape(challenges("7777")) == shape(challenges("1001")), "first challenge differs for unknown users"
    assert hl.agent("1001")["registered"] is False, "a wrong password must not register"


def test_register_over_tcp(hl):
    ch = challenges("1002", transport="tcp")
    resps = sip_send(register_msg("1002", digest("1002", "secret1002", ch[0]), cseq=2, transport="TCP"), "tcp")
    st, _, raw = final(resps, "REGISTER over TCP")
    assert st == 200, f"REGISTER over TCP with the right password must give 200:\n{raw}"


@pytest.mark.hotline(sip_extra="nonce_ttl_secs = 2")
def test_expired_nonce_is_stale(hl):
    ch = challenges("1002")
    time.sleep(3.5)
    resps = sip_send(register_msg("1002", digest("1002", "secret1002", ch[0]), cseq=2))
    st, hdrs, raw = final(resps, "REGISTER with an expired nonce")
    assert st == 401, f"an expired nonce must be challenged again (401), got:\n{raw}"
    stale = [c for c in header_all(hdrs, "www-authenticate") if params(c).get("stale", "").lower() == "true"]
    assert stale, f"the new challenge must say stale=true (right password, old nonce):\n{raw}"
    resps = sip_send(register_msg("1002", digest("1002", "secret1002", stale[0]), cseq=3))
    st, _, raw = final(resps, "REGISTER with the fresh nonce")
    assert st == 200, f"retrying with the fresh nonce must succeed:\n{raw}"
