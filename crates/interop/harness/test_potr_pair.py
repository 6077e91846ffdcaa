#!/usr/bin/python3
"""Self-check for potr_peer.py: two potr peers, `wire` events relayed between
them. Run with Debian's /usr/bin/python3. Prints one line per check; exits
non-zero if any check fails."""

import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "potr_peer.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 60
HUMAN_FPR = re.compile(r"^[0-9A-F]{8}( [0-9A-F]{8}){4}$")


class Peer(object):
    def __init__(self, name, keyfile):
        self.name = name
        self.proc = subprocess.Popen(
            [PYTHON, HARNESS, name, "xmpp", keyfile],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            bufsize=0)
        self.q = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.events = []     # every event ever seen (wire included)
        self.ping_no = 0
        self.ready = self.next_event()
        assert self.ready["type"] == "ready", self.ready

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(json.loads(line.decode("utf-8")))
        self.q.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def next_event(self):
        ev = self.q.get(timeout=TIMEOUT)
        if ev is None:
            raise RuntimeError("%s exited: %s" % (self.name, "".join(self.stderr)[-2000:]))
        self.events.append(ev)
        return ev

    def cmd(self, line):
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def ping(self):
        """Send a ping and return every event up to its pong."""
        self.ping_no += 1
        token = "p%d" % self.ping_no
        self.cmd("ping " + token)
        out = []
        while True:
            ev = self.next_event()
            if ev["type"] == "pong" and ev["token"] == token:
                return out
            out.append(ev)


class Pair(object):
    def __init__(self, a, b):
        self.peers = {a.name: a, b.name: b}
        self.a, self.b = a, b

    def settle(self):
        """Relay wire events until both sides are quiet. Returns the non-wire
        events per peer and the wire events per sender."""
        seen = {self.a.name: [], self.b.name: []}
        wires = {self.a.name: [], self.b.name: []}
        for _ in range(200):
            relayed = 0
            for p in (self.a, self.b):
                other = self.b if p is self.a else self.a
                for ev in p.ping():
                    if ev["type"] == "wire":
                        assert ev["to"] == other.name, ev
                        wires[p.name].append(ev["data"])
                        other.cmd("recv %s %s" % (p.name, json.dumps(ev["data"])))
                        relayed += 1
                    else:
                        seen[p.name].append(ev)
            if relayed == 0:
                return seen, wires
        raise RuntimeError("no quiescence")


results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
    sys.stdout.flush()


def of_type(evs, typ, **match):
    return [e for e in evs if e["type"] == typ and all(e.get(k) == v for k, v in match.items())]


def main():
    tmp = tempfile.mkdtemp(prefix="potr_pair_")
    akey, bkey = os.path.join(tmp, "alice.key"), os.path.join(tmp, "bob.key")
    alice = Peer("alice", akey)
    bob = Peer("bob", bkey)
    pair = Pair(alice, bob)
    try:
        run_checks(pair, alice, bob, akey, bkey)
    except Exception as e:
        check("no exception", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for p in (alice, bob):
            if p.proc.poll() is None:
                p.proc.kill()
    failed = results.count(False)
    print("%d checks, %d failed" % (len(results), failed))
    return 1 if failed else 0


def run_checks(pair, alice, bob, akey, bkey):
    afp, bfp = alice.ready["fingerprint"], bob.ready["fingerprint"]
    check("ready", bool(HUMAN_FPR.match(afp) and HUMAN_FPR.match(bfp))
          and alice.ready["instag"] == "" and bob.ready["instag"] == ""
          and os.path.exists(akey) and os.path.exists(bkey) and afp != bfp,
          "alice %s, bob %s" % (afp, bfp))

    for p in (alice, bob):
        p.cmd("policy manual")

    # plaintext before OTR (manual policy: no whitespace tag)
    alice.cmd("send bob plain hello")
    seen, wires = pair.settle()
    check("plaintext", of_type(seen["bob"], "message", text="plain hello", encrypted=False) != []
          and wires["alice"] == ["plain hello"], repr(wires["alice"]))

    # query -> both gone_secure, version 2
    alice.cmd("query bob")
    seen, wires = pair.settle()
    ga = of_type(seen["alice"], "gone_secure")
    gb = of_type(seen["bob"], "gone_secure")
    ok = len(ga) == 1 and len(gb) == 1
    if ok:
        ga, gb = ga[0], gb[0]
        ok = (ga["version"] == "2" and gb["version"] == "2" and ga["instag"] == ""
              and gb["instag"] == "" and ga["fingerprint"] == bfp
              and gb["fingerprint"] == afp and ga["ssid"] == gb["ssid"]
              and re.match(r"^[0-9a-f]{16}$", ga["ssid"]) is not None
              and ga["trust"] == "" and gb["trust"] == "")
    check("query -> gone_secure v2", ok,
          "query %r; alice %s; bob %s" % (wires["alice"][0][:8], ga, gb))
    check("new_fingerprint", len(of_type(seen["alice"], "new_fingerprint", fingerprint=bfp)) == 1
          and len(of_type(seen["bob"], "new_fingerprint", fingerprint=afp)) == 1)

    # messages both ways
    alice.cmd('send bob "hello bob \\u00e9\\nsecond line"')
    seen1, wires1 = pair.settle()
    bob.cmd("send alice hello alice")
    seen2, wires2 = pair.settle()
    check("encrypted messages both ways",
          of_type(seen1["bob"], "message", text="hello bob \u00e9\nsecond line", encrypted=True) != []
          and of_type(seen2["alice"], "message", text="hello alice", encrypted=True) != []
          and all(w.startswith("?OTR:AAID") for w in wires1["alice"] + wires2["bob"]))

    # fragmentation: 3000 bytes with mms 500
    alice.cmd("mms 500")
    big = "".join(chr(ord("a") + i % 26) for i in range(3000))
    alice.cmd("send bob " + big)
    seen, wires = pair.settle()
    frags = wires["alice"]
    check("3000-byte message with mms 500",
          len(frags) > 1 and all(len(f) <= 500 and f.startswith("?OTR,") for f in frags)
          and of_type(seen["bob"], "message", text=big, encrypted=True) != [],
          "%d fragments, first %r" % (len(frags), frags[0][:16] if frags else None))
    alice.cmd("mms 0")

    # SMP with a question
    alice.cmd('smpq bob "What is the colour?" "blue sky"')
    seen, _ = pair.settle()
    asks = of_type(seen["bob"], "smp", event="ask_for_answer")
    ok = len(asks) == 1 and asks[0]["question"] == "What is the colour?"
    bob.cmd("smp_answer alice blue sky")
    seen2, _ = pair.settle()
    sa = [e["event"] for e in of_type(seen["alice"] + seen2["alice"], "smp")]
    sb = [e["event"] for e in of_type(seen["bob"] + seen2["bob"], "smp")]
    alice.cmd("status bob")
    bob.cmd("status alice")
    sta = of_type(alice.ping(), "status")[0]
    stb = of_type(bob.ping(), "status")[0]
    check("SMP with question succeeds", ok and "success" in sa and "success" in sb
          and sta["trust"] == "smp" and stb["trust"] == "smp"
          and sta["msgstate"] == "encrypted" and sta["fingerprint"] == bfp,
          "alice %s, bob %s" % (sa, sb))

    # SMP with a wrong secret
    alice.cmd("smp bob right")
    seen, _ = pair.settle()
    ok = of_type(seen["bob"], "smp", event="ask_for_secret") != []
    bob.cmd("smp_answer alice wrong")
    seen2, _ = pair.settle()
    sa = [e["event"] for e in of_type(seen["alice"] + seen2["alice"], "smp")]
    sb = [e["event"] for e in of_type(seen["bob"] + seen2["bob"], "smp")]
    alice.cmd("status bob")
    bob.cmd("status alice")
    sta = of_type(alice.ping(), "status")[0]
    stb = of_type(bob.ping(), "status")[0]
    check("SMP wrong secret fails", ok and ("failure" in sa or "abort" in sa)
          and "failure" in sb and "success" not in sa + sb,
          "alice (asker) saw %s, bob (responder) saw %s; trust after: alice %r bob %r"
          % (sa, sb, sta["trust"], stb["trust"]))

    # SMP answer without a request
    bob.cmd("smp_answer alice nothing")
    seen, wires = pair.settle()
    check("smp_answer without request", of_type(seen["bob"], "error") != [] and not wires["bob"])

    # query while encrypted -> still_secure on both
    bob.cmd("query alice")
    seen, _ = pair.settle()
    check("re-query -> still_secure", of_type(seen["alice"], "still_secure") != []
          and of_type(seen["bob"], "still_secure") != []
          and not of_type(seen["alice"] + seen["bob"], "gone_insecure"))

    # garbage never crashes
    for junk in ["?OTR:AAMD!!!", "?OTR:AAIDAAAA", "?OTR,1,2,xx,", "?OTR,9,2,xx,",
                 "?OTR Error:boom", '"\\u0000\\u00ff"', "?OTR|00000100|00000200,00001,00002,abc,",
                 "?OTR:" + "A" * 200000 + "."]:
        bob.cmd("recv alice " + junk)
    seen, wires = pair.settle()
    alice.cmd("send bob still alive")
    seen2, _ = pair.settle()
    check("garbage input survives", bob.proc.poll() is None
          and of_type(seen2["bob"], "message", text="still alive", encrypted=True) != [],
          "bob events: %s" % sorted(set(e.get("event", e["type"]) for e in seen["bob"])))

    # end -> other side finished
    bob.cmd("end alice")
    seen, wires = pair.settle()
    check("end -> finished", of_type(seen["bob"], "gone_insecure", state="plaintext") != []
          and of_type(seen["alice"], "gone_insecure", state="finished") != [])
    alice.cmd("status bob")
    st = of_type(alice.ping(), "status")[0]
    check("status finished", st["msgstate"] == "finished" and st["fingerprint"] == "", str(st))

    # sending while finished -> connection_ended, no wire
    alice.cmd("send bob into the void")
    seen, wires = pair.settle()
    check("send while finished", of_type(seen["alice"], "msg_event", event="connection_ended") != []
          and wires["alice"] == [] and not of_type(seen["bob"], "message"))

    # alice ends too, then a fresh AKE
    alice.cmd("end bob")
    seen, wires = pair.settle()
    alice.cmd("query bob")
    seen2, _ = pair.settle()
    check("end from finished, re-AKE", of_type(seen["alice"], "gone_insecure", state="plaintext") != []
          and wires["alice"] == []
          and of_type(seen2["alice"], "gone_secure") != [] and of_type(seen2["bob"], "gone_secure") != [])

    # extrakey unsupported, select ignored
    alice.cmd("extrakey bob 1 data")
    alice.cmd("select bob 00000100")
    evs = alice.ping()
    check("extrakey/select", [e for e in evs if e["type"] != "wire"] ==
          [{"type": "error", "detail": "unsupported"}])

    # quit and key persistence
    for p in (alice, bob):
        p.cmd("quit")
        ev = p.next_event()
        rc = p.proc.wait(timeout=TIMEOUT)
        check("quit %s" % p.name, ev["type"] == "bye" and rc == 0)
    a2, b2 = Peer("alice", akey), Peer("bob", bkey)
    check("key persists", a2.ready["fingerprint"] == afp and b2.ready["fingerprint"] == bfp)

    # informational: crossed queries (potr abandons its own DH-Commit on every
    # DH-Commit it receives, without the spec's hash comparison)
    pair2 = Pair(a2, b2)
    a2.cmd("query bob")
    b2.cmd("query alice")
    seen, _ = pair2.settle()
    print("INFO crossed queries: alice gone_secure %d, bob gone_secure %d (0/0 = AKE stalled)"
          % (len(of_type(seen["alice"], "gone_secure")), len(of_type(seen["bob"], "gone_secure"))))
    for p in (a2, b2):
        p.cmd("quit")
        p.proc.wait(timeout=TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
