#!/usr/bin/env bash
# Benchmark: SIPp citizens (RTP from a u-law WAV) -> line 12345 -> short greeting -> queue ->
# registered SIPp agents whose media is echoed (and counted) by `hotline-loadgen rtp-echo`.
#
#   scripts/bench.sh [--cps 100] [--concurrency 1000] [--calls 3000] [--agents N] [--hold-secs 20]
#                    [--max-secs 300]
#   scripts/bench.sh --conferences N [--secs 10]   # the conference mixer alone: N three-way rooms over UDP
#
# Prints: CPS achieved, failed calls, peak concurrent calls, RTP packets relayed/lost, CPU % and RSS of
# hotline. Runs in a private network namespace (loopback only); kills only the PIDs it started.
# HOTLINE_BIN / HOTLINE_LOADGEN_BIN override the binaries (otherwise built with cargo --release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CPS=100 CONC=1000 CALLS=3000 AGENTS="" HOLD=20 MAXSECS=300 CONFERENCES="" SECS=10
while [ $# -gt 0 ]; do
    case "$1" in
        --conferences) CONFERENCES=$2; shift 2 ;;
        --secs) SECS=$2; shift 2 ;;
        --cps) CPS=$2; shift 2 ;;
        --concurrency) CONC=$2; shift 2 ;;
        --calls) CALLS=$2; shift 2 ;;
        --agents) AGENTS=$2; shift 2 ;;
        --hold-secs) HOLD=$2; shift 2 ;;
        --max-secs) MAXSECS=$2; shift 2 ;;
        -h|--help) sed -n 2,12p "$0"; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -n "$CONFERENCES" ]; then
    cargo build --release -q -p hotline-media --example conference_load
    bin=${CARGO_TARGET_DIR:-target}/release/examples/conference_load
    if [ "$(id -u)" -eq 0 ]; then ns=(unshare -n); else ns=(unshare -r -n); fi
    exec "${ns[@]}" sh -c 'ip link set lo up && exec "$0" "$@"' "$bin" "$CONFERENCES" "$SECS"
fi
# enough agents that nobody waits in the queue: every concurrent call has an agent
AGENTS=${AGENTS:-$((CONC + 10))}

if [ "${HOTLINE_BENCH_IN_NETNS:-}" != 1 ]; then
    if [ -z "${HOTLINE_BIN:-}" ]; then
        cargo build --release -p hotline >&2
        HOTLINE_BIN=${CARGO_TARGET_DIR:-target}/release/hotline
    fi
    if [ -z "${HOTLINE_LOADGEN_BIN:-}" ]; then
        cargo build --release -p hotline-loadgen >&2
        HOTLINE_LOADGEN_BIN=${CARGO_TARGET_DIR:-target}/release/hotline-loadgen
    fi
    export HOTLINE_BIN=$(realpath "$HOTLINE_BIN") HOTLINE_LOADGEN_BIN=$(realpath "$HOTLINE_LOADGEN_BIN")
    export HOTLINE_BENCH_IN_NETNS=1
    if [ "$(id -u)" -eq 0 ]; then ns=(unshare -n); else ns=(unshare -r -n); fi
    exec "${ns[@]}" sh -c 'ip link set lo up && exec "$0" "$@"' "$0" \
        --cps "$CPS" --concurrency "$CONC" --calls "$CALLS" --agents "$AGENTS" --hold-secs "$HOLD" \
        --max-secs "$MAXSECS"
fi

ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
WORK=$(mktemp -d /tmp/hotline-bench.XXXXXX)
echo "bench: work dir $WORK (cps=$CPS concurrency=$CONC calls=$CALLS agents=$AGENTS hold=${HOLD}s)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

TOKEN=bench-token
ECHO_PORT=40000
UAS_PORT=5090
{
    cat <<EOF
[sip]
listen = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]
domain = "hotline.local"
trunks = ["127.0.0.0/8"]

[media]
ip = "127.0.0.1"
rtp_ports = [20000, 39999]

[http]
listen = "127.0.0.1:8080"
admin_token = "$TOKEN"

[database]
url = "sqlite://$WORK/db/hotline.db"

[sounds]
dir = "$ROOT/sounds"
language = "en"

[[lines]]
number = "12345"
name = "bench"
greeting = "status_break"
queue = "general"

[[queues]]
name = "general"
ring_timeout_secs = 15
wrap_up_secs = 0
EOF
    for i in $(seq 1 "$AGENTS"); do
        id=$((100000 + i))
        printf '\n[[agents]]\nid = "%s"\npassword = "pw%s"\nname = "bench %s"\nqueues = ["general"]\n' "$id" "$id" "$id"
    done
} > "$WORK/hotline.toml"
{
    echo SEQUENTIAL
    for i in $(seq 1 "$AGENTS"); do id=$((100000 + i)); echo "$id;$UAS_PORT;[authentication username=$id password=pw$id]"; done
} > "$WORK/users.csv"
sox "$ROOT/sounds/en/welcome.wav" -e u-law -r 8000 -c 1 "$WORK/caller.ulaw.wav"

RUST_LOG=${RUST_LOG:-warn} "$HOTLINE_BIN" --config "$WORK/hotline.toml" > "$WORK/hotline.log" 2>&1 &
HPID=$!
PIDS+=("$HPID")
for _ in $(seq 1 100); do
    python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8080/health", timeout=1)' 2>/dev/null && break
    kill -0 "$HPID" 2>/dev/null || { tail -30 "$WORK/hotline.log"; echo "bench: hotline died" >&2; exit 1; }
    sleep 0.1
done

"$HOTLINE_LOADGEN_BIN" rtp-echo --bind "127.0.0.1:$ECHO_PORT" --max-secs "$((MAXSECS + 60))" \
    --stats "$WORK/echo.json" > "$WORK/echo.log" 2>&1 &
EPID=$!
PIDS+=("$EPID")

SIPP=(sipp -i 127.0.0.1 -mi 127.0.0.1 -nostdin -buff_size 4194304 -trace_err)
cd "$WORK"
# agents' phone: one UAS answering every agent (all Contacts point at it)
"${SIPP[@]}" -sf "$ROOT/tests/sipp/bench_agent.xml" -p "$UAS_PORT" -mp 6000 -cp 8901 -key echo_port "$ECHO_PORT" \
    -m "$CALLS" -timeout "$((MAXSECS + 30))s" -error_file "$WORK/agents.err" > "$WORK/agents.out" 2>&1 &
UPID=$!
PIDS+=("$UPID")
# registrations
if ! "${SIPP[@]}" -sf "$ROOT/tests/sipp/register.xml" -inf "$WORK/users.csv" -m "$AGENTS" -r 500 -l 200 \
    -p 5091 -mp 6100 -cp 8902 -timeout 60s -error_file "$WORK/register.err" 127.0.0.1:5060 > "$WORK/register.out" 2>&1; then
    echo "bench: registration of $AGENTS agents failed (see $WORK/register.err)" >&2
    tail -20 "$WORK/register.err" >&2 || true
    exit 1
fi
registered=$(TOKEN=$TOKEN python3 -c '
import json, os, urllib.request as u
r = u.Request("http://127.0.0.1:8080/api/v1/agents", headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
d = json.load(u.urlopen(r, timeout=10))
d = d if isinstance(d, list) else next(v for v in d.values() if isinstance(v, list))
print(sum(1 for a in d if a.get("registered")))' 2>/dev/null || echo "?")
echo "bench: $registered agents registered"

# sample hotline CPU %, RSS and bridged calls (agents in_call) once a second
HPID=$HPID TOKEN=$TOKEN MAXSECS=$MAXSECS python3 - > "$WORK/samples.txt" 2>/dev/null <<'PY' &
import json, os, time, urllib.request as u
pid, hz = int(os.environ["HPID"]), os.sysconf("SC_CLK_TCK")
req = u.Request("http://127.0.0.1:8080/api/v1/agents", headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
prev = None
end = time.monotonic() + int(os.environ["MAXSECS"]) + 120
while time.monotonic() < end:
    try:
        st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        ticks = int(st[11]) + int(st[12])
        rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
    except (OSError, StopIteration):
        break
    now = time.monotonic()
    try:
        d = json.load(u.urlopen(req, timeout=2))
        d = d if isinstance(d, list) else next(v for v in d.values() if isinstance(v, list))
        in_call = sum(1 for a in d if a.get("state") == "in_call")
    except Exception:
        in_call = -1
    if prev:
        print(f"{(ticks - prev[0]) / hz / (now - prev[1]) * 100:.1f} {rss} {in_call}", flush=True)
    prev = (ticks, now)
    time.sleep(max(0.0, 1 - (time.monotonic() - now)))
PY
SPID=$!
PIDS+=("$SPID")

# callers (each streams caller.ulaw.wav as PCMU for the whole call)
T0=$(date +%s.%N)
grep '^Udp:' /proc/net/snmp > "$WORK/udp-before.txt"   # per network namespace: only our traffic
set +e
"${SIPP[@]}" -sf "$ROOT/tests/sipp/caller.xml" -s 12345 -key caller 13800000000 -p 5070 -mp 10000 -cp 8903 \
    -r "$CPS" -l "$CONC" -m "$CALLS" -d "$((HOLD * 1000))" -timeout "${MAXSECS}s" -timeout_error \
    -trace_stat -stf "$WORK/callers.csv" -fd 1 -error_file "$WORK/callers.err" \
    127.0.0.1:5060 > "$WORK/callers.out" 2>&1
CRC=$?
set -e
T1=$(date +%s.%N)
grep '^Udp:' /proc/net/snmp > "$WORK/udp-after.txt"
sleep 1
kill -TERM "$EPID" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
metrics=$(python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:8080/metrics", timeout=5).read().decode())' 2>/dev/null | grep -Ei '^[a-z_]*(rtp|call|packet)[a-z_]* ' | head -20 || true)

TOKEN=$TOKEN python3 - "$WORK" "$CALLS" "$CPS" "$CONC" "$T0" "$T1" "$CRC" <<'EOF'
import csv, json, os, sys, urllib.request
work, calls, cps, conc, t0, t1, crc = sys.argv[1:]
try:
    rows = list(csv.DictReader(open(f"{work}/callers.csv"), delimiter=";"))
except OSError:
    rows = []
def col(r, name):
    for k, v in r.items():
        if k and k.strip() == name:
            try:
                return float(v)
            except (TypeError, ValueError):
                return 0.0
    return 0.0
last = rows[-1] if rows else {}
ok = col(last, "SuccessfulCall(C)")
failed = col(last, "FailedCall(C)")
created = col(last, "OutgoingCall(C)")
peak = max((col(r, "CurrentCall") for r in rows), default=0)
# creation phase: until the cumulative outgoing count stops growing
# (one stats row per second: -fd 1)
t_created = next((i + 1 for i, r in enumerate(rows) if col(r, "OutgoingCall(C)") >= created), len(rows)) or 1
print()
print("=== hotline bench ===")
print(f"target: {cps} calls/s, {conc} concurrent, {calls} calls (sipp rc={crc})")
print(f"calls created {int(created)}, successful {int(ok)}, failed {int(failed)}")
print(f"CPS achieved ≈ {created / t_created:.1f} (calls created / seconds until the last was created; "
      f"bounded by --concurrency / call length)")
samples = [l.split() for l in open(f"{work}/samples.txt") if l.strip()]
bridged = max((int(x[2]) for x in samples), default=-1)
print(f"peak concurrent calls: {int(peak)} at SIPp, {bridged} bridged to agents at hotline")
try:
    e = json.load(open(f"{work}/echo.json"))
    print(f"RTP at the agents' echo: {e['packets_in']} packets in, {e['packets_out']} echoed, "
          f"{e['streams']} streams, lost {e['lost']} of {e['expected']} ({e['loss_pct']:.3f} %)")
except Exception as x:
    print(f"RTP echo stats unavailable: {x}")
def total(disposition):
    r = urllib.request.Request(f"http://127.0.0.1:8080/api/v1/tickets?disposition={disposition}&per_page=1",
                               headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
    try:
        return json.load(urllib.request.urlopen(r, timeout=10)).get("total", "?")
    except Exception:
        return "?"
print("tickets: " + ", ".join(f"{d} {total(d)}" for d in ("answered", "abandoned", "ivr_only", "failed")))
def udp(path):
    head, vals = [l.split()[1:] for l in open(path)][:2]
    return dict(zip(head, map(int, vals)))
try:
    b, a = udp(f"{work}/udp-before.txt"), udp(f"{work}/udp-after.txt")
    print("kernel UDP drops in the namespace (any socket: SIPp, hotline, echo): " +
          ", ".join(f"{k} {a[k] - b[k]}" for k in ("InErrors", "RcvbufErrors", "SndbufErrors") if k in a) +
          "\n  (SIPp's rtp_stream never reads the RTP sent back to the callers (greeting, echoed audio): their sockets"
          " overflow and account for these drops; the loss figure above is the relay's)")
except Exception as x:
    print(f"UDP counters unavailable: {x}")
if samples:
    c = [float(x[0]) for x in samples]
    r = [int(x[1]) for x in samples]
    print(f"hotline CPU % (of one core): avg {sum(c) / len(c):.1f}, peak {max(c):.1f}; "
          f"RSS peak {max(r) / 1024:.1f} MiB")
EOF
if [ -n "$metrics" ]; then echo "--- hotline /metrics (rtp/call counters) ---"; echo "$metrics"; fi
echo "artifacts: $WORK"
exit "$CRC"
