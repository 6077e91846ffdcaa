#!/usr/bin/env bash
# Self-check for libotr_peer: two libotr harnesses (alice, bob) relayed
# together.  Builds the harness unless LIBOTR_PEER points at a binary.
#   usage: test_libotr_pair.sh [-v]      (-v prints every event)
# Needs: cc, pkg-config, libotr5-dev, python3 (stdlib only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${LIBOTR_PEER:-}
if [[ -z $bin ]]; then
    bin=$tmp/libotr_peer
    cc -O2 -Wall -Wextra -Werror "$here/libotr_peer.c" \
        $(pkg-config --cflags --libs libotr) -o "$bin"
fi
exec python3 - "$bin" "$tmp" "${1:-}" <<'PY'
import json, subprocess, sys
BIN, TMP, VERBOSE = sys.argv[1], sys.argv[2], sys.argv[3] == "-v"
FAILS, CHECKS = [], [0]

class Peer:
    def __init__(self, name, key):
        self.name, self.events, self.tok = name, [], 0
        self.p = subprocess.Popen([BIN, name, "xmpp", f"{TMP}/{key}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            encoding="utf-8")
        self.ready = self.read()
        assert self.ready["type"] == "ready", self.ready
    def read(self):
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: harness died")
        ev = json.loads(line)
        if VERBOSE: print(f"  {self.name} <- {line.rstrip()[:160]}")
        return ev
    def cmd(self, line):
        if VERBOSE: print(f"  {self.name} -> {line[:160]}")
        self.p.stdin.write(line + "\n"); self.p.stdin.flush()
    def sync(self):
        """ping, return every event up to the pong"""
        self.tok += 1; self.cmd(f"ping t{self.tok}"); out = []
        while True:
            ev = self.read()
            if ev["type"] == "pong" and ev["token"] == f"t{self.tok}":
                return out
            out.append(ev)

def settle(*peers, relay=True):
    """run until no wire is in flight; return {name: [non-wire events]}"""
    a, b = peers
    other = {a.name: b, b.name: a}
    got = {a.name: [], b.name: []}
    wires = {a.name: [], b.name: []}
    busy = True
    while busy:
        busy = False
        for p in peers:
            for ev in p.sync():
                if ev["type"] == "wire":
                    wires[p.name].append(ev["data"])
                    if relay:
                        other[p.name].cmd(f"recv {p.name} {json.dumps(ev['data'])}")
                        busy = True
                else:
                    got[p.name].append(ev)
                    p.events.append(ev)
    settle.wires = wires
    return got

def check(cond, what):
    CHECKS[0] += 1
    if not cond: FAILS.append(what)
    print(("ok   " if cond else "FAIL ") + what)

def of(evs, t, **kw):
    return [e for e in evs if e["type"] == t and all(e.get(k) == v for k, v in kw.items())]

def status(p, peer):
    p.cmd(f"status {peer}"); return of(p.sync(), "status")[0]

def run_pair(an, bn, policy_a=None, policy_b=None, version="3"):
    A, B = Peer(an, an + ".key"), Peer(bn, bn + ".key")
    if policy_a: A.cmd(f"policy {policy_a}")
    if policy_b: B.cmd(f"policy {policy_b}")
    A.cmd(f"query {bn}"); g = settle(A, B)
    ga, gb = of(g[an], "gone_secure"), of(g[bn], "gone_secure")
    check(len(ga) == 1 and len(gb) == 1 and ga[0]["version"] == gb[0]["version"] == version,
          f"[v{version}] query -> both gone_secure v{version}")
    if ga and gb:
        check(ga[0]["fingerprint"] == B.ready["fingerprint"] and gb[0]["fingerprint"] == A.ready["fingerprint"]
              and ga[0]["ssid"] == gb[0]["ssid"] and len(ga[0]["ssid"]) == 16,
              f"[v{version}] fingerprints and ssid agree")
        want = (B.ready["instag"], A.ready["instag"]) if version == "3" else ("", "")
        check((ga[0]["instag"], gb[0]["instag"]) == want, f"[v{version}] instags reported")
    check(of(g[an], "new_fingerprint") and of(g[bn], "new_fingerprint"), f"[v{version}] new_fingerprint both sides")
    for s, r, text in ((A, B, "hello from " + an), (B, A, "ünïcødé 😀\nline2 \"q\" \\")):
        s.cmd(f"send {r.name} {json.dumps(text)}"); g = settle(A, B)
        m = of(g[r.name], "message")
        check(len(m) == 1 and m[0]["text"] == text and m[0]["encrypted"] is True,
              f"[v{version}] {s.name} -> {r.name} decrypted, encrypted=true")
    big = "".join(chr(ord('a') + i % 26) for i in range(3000))
    A.cmd("mms 500"); A.cmd(f"send {bn} {big}"); g = settle(A, B); A.cmd("mms 0")
    frags = settle.wires[an]
    m = of(g[bn], "message")
    check(len(frags) > 1 and all(len(f) <= 500 for f in frags) and len(m) == 1
          and m[0]["text"] == big and m[0]["encrypted"],
          f"[v{version}] 3000 bytes with mms 500: {len(frags)} fragments, arrives whole")
    return A, B

# ---------------------------------------------------------------- v3
A, B = run_pair("alice", "bob")
A.cmd('smpq bob "What is the word?" swordfish'); g = settle(A, B)
q = of(g["bob"], "smp", event="ask_for_answer")
check(q and q[0]["question"] == "What is the word?", "SMP question arrives")
B.cmd("smp_answer alice swordfish"); g = settle(A, B)
check(of(g["alice"], "smp", event="success") and of(g["bob"], "smp", event="success"),
      "SMP with question: both success")
sa, sb = status(A, "bob"), status(B, "alice")
check(sa["trust"] == sb["trust"] == "smp" and sa["msgstate"] == "encrypted", "trust smp on both sides")
A.cmd("smp bob right"); g = settle(A, B)
check(of(g["bob"], "smp", event="ask_for_secret"), "SMP ask_for_secret")
B.cmd("smp_answer alice wrong"); g = settle(A, B)
check(of(g["alice"], "smp", event="failure") and of(g["bob"], "smp", event="failure"),
      "SMP wrong answer: both failure")
check(status(A, "bob")["trust"] == status(B, "alice")["trust"] == "", "failed SMP clears trust (libotr)")
A.cmd('extrakey bob 7 "file:/x y"'); g = settle(A, B)
ka, kb = of(g["alice"], "extra_key", sent=True), of(g["bob"], "extra_key", sent=False)
check(ka and kb and ka[0]["key"] == kb[0]["key"] and len(ka[0]["key"]) == 64
      and kb[0]["use"] == 7 and kb[0]["usedata"] == "file:/x y", "extra key equal on both sides")
A.cmd("query bob"); g = settle(A, B)
check(of(g["alice"], "still_secure") and of(g["bob"], "gone_insecure", state="plaintext")
      and of(g["bob"], "gone_secure"),
      "query while private: querier still_secure, answerer drops then gone_secure")
A.cmd(f"select bob {B.ready['instag']}"); A.cmd("send bob via select"); g = settle(A, B)
m = of(g["bob"], "message")
check(m and m[0]["encrypted"] and status(A, "bob")["msgstate"] == "encrypted", "select <instag>: send and status use it")
A.cmd("select bob 0000abcd")
check(status(A, "bob")["msgstate"] == "plaintext", "select unknown instance: status plaintext")
A.cmd("select bob 00000001")   # OTRL_INSTAG_BEST again
A.cmd("end bob"); g = settle(A, B)
check(of(g["alice"], "gone_insecure", state="plaintext"), "end: own side gone_insecure plaintext")
check(of(g["bob"], "gone_insecure", state="finished") and status(B, "alice")["msgstate"] == "finished",
      "end: other side finished")
B.cmd("send alice into the void"); g = settle(A, B)
check(of(g["bob"], "msg_event", event="connection_ended") and not settle.wires["bob"],
      "send when finished: connection_ended, no wire")
B.cmd("end alice"); settle(A, B)
A.cmd("send bob plain hi"); g = settle(A, B)
m = of(g["bob"], "message")
check(m and m[0]["text"] == "plain hi" and m[0]["encrypted"] is False,
      "plaintext (whitespace-tagged) arrives encrypted=false")
check(of(g["alice"], "gone_secure") and of(g["bob"], "gone_secure"), "whitespace tag restarts the AKE")
B.cmd(f"recv alice {json.dumps('unencrypted while private')}"); g = settle(A, B)
m = of(g["bob"], "message")
check(of(g["bob"], "msg_event", event="rcvdmsg_unencrypted") and m and m[0]["encrypted"] is False,
      "plaintext while encrypted: rcvdmsg_unencrypted + message encrypted=false")
for p in (A, B): p.cmd("quit")
check(A.read()["type"] == "bye" and B.read()["type"] == "bye", "quit -> bye")

A2 = Peer("alice", "alice.key")
check((A2.ready["fingerprint"], A2.ready["instag"]) == (A.ready["fingerprint"], A.ready["instag"]),
      "key and instance tag persist across restarts")
A2.cmd("quit")

# ---------------------------------------------------------------- v2
C, D = run_pair("carol", "dave", policy_a="v2", version="2")
C.cmd("extrakey dave 1 x"); g = settle(C, D)
kc, kd = of(g["carol"], "extra_key", sent=True), of(g["dave"], "extra_key", sent=False)
check(kc and kd and kc[0]["key"] == kd[0]["key"], "v2: libotr sends and honours TLV 8 in v2 too")
for p in (C, D): p.cmd("quit")

print(f"\n{CHECKS[0] - len(FAILS)}/{CHECKS[0]} checks passed")
sys.exit(1 if FAILS else 0)
PY
