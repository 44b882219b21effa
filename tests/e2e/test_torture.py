"""RFC 4475 / RFC 5118 torture messages replayed with ../shared/tools/sip_replay.py: the server must
stay up, and give the status codes the corpus READMEs name for the clear cases."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED

# file -> acceptable final statuses (None: any answer or silence, the server just has to survive)
RFC4475_EXPECT = {
    "badvers.dat": {505},
    "unkscm.dat": {416},
    "novelsc.dat": {416},
    "bext01.dat": {420},
    "badinv01.dat": {400},
    "quotbal.dat": {400},
    "clerr.dat": {400, None},
    "scalar02.dat": {400},
    "ltgtruri.dat": {400},
    "lwsruri.dat": {400},
    "regbadct.dat": {400},
    "baddn.dat": {400},
    "mismatch01.dat": {400},
    "mismatch02.dat": {501, 400},
    "multi01.dat": {400},
    "mcl01.dat": {400, None},
    "ncl.dat": {400, None},
    "invut.dat": {415},
    "intmeth.dat": {501},
    "esc02.dat": {501},
    # responses with no transaction: absorbed silently
    "unreason.dat": {None},
    "noreason.dat": {None},
    "scalarlg.dat": {None},
    "bigcode.dat": {None},
    "bcast.dat": {None},
}
# valid messages: any answer but 400 (and never a 2xx to a REGISTER without credentials)
RFC4475_NOT_400 = ["wsinv.dat", "esc01.dat", "escnull.dat", "lwsdisp.dat", "longreq.dat", "dblreq.dat",
                   "semiuri.dat", "transports.dat", "mpart01.dat", "cparam01.dat", "cparam02.dat",
                   "regescrt.dat", "inv2543.dat", "zeromf.dat", "regaut01.dat"]
NO_2XX = ["regaut01.dat", "cparam01.dat", "cparam02.dat", "regescrt.dat", "unksm2.dat", "dblreq.dat"]
RFC5118_EXPECT = {"ipv6-bad.dat": {400}, "mult-ip-in-header.dat": {481}}
RFC5118_NOT_400 = ["ipv6-good.dat", "port-ambiguous.dat", "port-unambiguous.dat",
                   "via-received-param-with-delim.dat", "via-received-param-no-delim.dat", "ipv6-in-sdp.dat",
                   "mult-ip-in-header.dat", "mult-ip-in-sdp.dat", "ipv4-mapped-ipv6.dat",
                   "ipv6-correct-abnf-2-colons.dat"]


# unkscm.dat has the same Via branch, sent-by, method and CSeq as novelsc.dat: by RFC 3261 §17.2.3 it
# matches novelsc's server transaction, so in one run the server rightly retransmits novelsc's answer
# (which sip_replay discards). Replay such files on their own, before the others.
SEPARATE = {"rfc4475": ["unkscm.dat"]}


def _run(tool, files):
    return subprocess.run([sys.executable, str(tool), "raw", "--target", "127.0.0.1:5060", "--timeout", "0.6",
                           *files], capture_output=True, text=True, timeout=300)


def replay(ctx, folder, label):
    tool = SHARED / "tools" / "sip_replay.py"
    corpus = SHARED / "corpus" / folder
    if not tool.exists() or not corpus.exists():
        pytest.skip(f"{tool} or {corpus} missing (shared/ is expected beside the checkout)")
    files = sorted(str(p) for p in corpus.glob("*.dat"))
    first = [f for f in files if Path(f).name in SEPARATE.get(folder, [])]
    runs = [_run(tool, [f]) for f in first] + [_run(tool, [f for f in files if f not in first])]
    out = "".join(r.stdout for r in runs)
    err = "".join(r.stderr for r in runs)
    (ctx.dir / f"{label}.tsv").write_text(out)
    (ctx.dir / f"{label}.stderr").write_text(err)
    rows = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] != "name":
            name, _, statuses, probe = parts
            codes = [int(s) for s in statuses.split(",") if s.isdigit()]
            rows[name] = (codes, probe)
    dead = [n for n, (_, p) in rows.items() if p == "DEAD"]
    rcs = [r.returncode for r in runs]
    assert not any(rcs) and not dead, (f"hotline stopped answering OPTIONS after {dead or '?'} "
                                       f"(sip_replay rc={rcs})\n{out}\n{err}")
    assert len(rows) == len(files), f"replayed {len(rows)} of {len(files)} files\n{out}\n{err}"
    return rows


def check(rows, expect, not_400, no_2xx=()):
    problems = []
    for name, allowed in expect.items():
        codes = rows[name][0]
        finals = [c for c in codes if c >= 200]
        got = finals[-1] if finals else None
        if got not in allowed:
            problems.append(f"{name}: expected {sorted(allowed, key=str)}, got {codes or 'nothing'}")
    for name in not_400:
        if 400 in rows[name][0]:
            problems.append(f"{name}: a valid message was rejected with 400")
    for name in no_2xx:
        if any(200 <= c < 300 for c in rows[name][0]):
            problems.append(f"{name}: 2xx without valid credentials ({rows[name][0]})")
    return problems


def test_rfc4475_torture(hl, ctx):
    rows = replay(ctx, "rfc4475", "rfc4475")
    problems = check(rows, RFC4475_EXPECT, RFC4475_NOT_400, NO_2XX)
    assert not problems, "RFC 4475 answers differ from corpus/rfc4475/README.md:\n  " + "\n  ".join(problems)
    assert hl.proc.poll() is None


def test_rfc5118_torture(hl, ctx):
    rows = replay(ctx, "rfc5118/wire", "rfc5118")
    problems = check(rows, RFC5118_EXPECT, RFC5118_NOT_400)
    assert not problems, "RFC 5118 answers differ from corpus/rfc5118/README.md:\n  " + "\n  ".join(problems)
    assert hl.proc.poll() is None
