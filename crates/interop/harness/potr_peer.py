#!/usr/bin/python3
"""python-potr (OTR v2) peer speaking the `otr-peer` line protocol.

    potr_peer.py ACCOUNT PROTOCOL KEYFILE

See docs/otr-peer.md. Run it with Debian's /usr/bin/python3 (packages
python3-potr and python3-pycryptodome). potr_common.py, imported first, makes
Debian's potr 1.0.2 run on pycryptodome and reports SMP progress.

KEYFILE holds potr's own private key serialisation
(`DSAKey.serializePrivateKey()`, raw bytes: the format of Gajim's `.key3`).
OTR v2 has no instance tags: `ready` and `gone_secure` carry `instag: ""`.
"""

import json
import os
import sys
import traceback

from potr_common import b2s, KeyFileAccount, pctx, pcrypt, proto
from potr.utils import human_hash  # after potr_common's shim


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

_out = sys.stdout


def emit(typ, **fields):
    obj = {"type": typ}
    obj.update(fields)
    _out.write(json.dumps(obj) + "\n")
    _out.flush()


POLICIES = {
    "never": set(),
    "manual": {"ALLOW_V2"},
    "opportunistic": {"ALLOW_V2", "SEND_TAG", "WHITESPACE_START_AKE",
                      "ERROR_START_AKE"},
    "always": {"ALLOW_V2", "SEND_TAG", "WHITESPACE_START_AKE",
               "ERROR_START_AKE", "REQUIRE_ENCRYPTION"},
    # opportunistic offering only v2 / only v3: potr has no v3, so "v3"
    # leaves no version allowed and potr switches OTR off (like "never")
    "v2": {"ALLOW_V2", "SEND_TAG", "WHITESPACE_START_AKE", "ERROR_START_AKE"},
    "v3": {"SEND_TAG", "WHITESPACE_START_AKE", "ERROR_START_AKE"},
}
DEFAULT_POLICY = "opportunistic"  # libotr's OTRL_POLICY_DEFAULT


# ---------------------------------------------------------------------------
# potr Account / Context
# ---------------------------------------------------------------------------

STATE_NAMES = {
    pctx.STATE_PLAINTEXT: "plaintext",
    pctx.STATE_ENCRYPTED: "encrypted",
    pctx.STATE_FINISHED: "finished",
}


class PeerContext(pctx.Context):
    def __init__(self, account, peername):
        self.last_parsed = None
        self.decrypted = False
        super(PeerContext, self).__init__(account, peername)

    def getPolicy(self, key):
        return key in POLICIES[self.user.policy_name]

    def inject(self, msg, appdata=None):
        emit("wire", to=self.peer, data=b2s(msg))

    def smp_event(self, event, **extra):
        emit("smp", peer=self.peer, event=event, **extra)

    def parse(self, message, nofragment=False):
        result = super(PeerContext, self).parse(message, nofragment=nofragment)
        self.last_parsed = result
        return result

    def sendInternal(self, msg, tlvs=[], appdata=None):
        heartbeat = msg == b"" and not tlvs
        super(PeerContext, self).sendInternal(msg, tlvs=tlvs, appdata=appdata)
        if heartbeat and self.state == pctx.STATE_ENCRYPTED:
            emit("msg_event", peer=self.peer, event="log_heartbeat_sent")

    def human_fpr(self):
        key = self.crypto.theirPubkey
        return human_hash(key.cfingerprint()) if key is not None else ""

    def current_trust(self):
        t = self.getCurrentTrust()
        return t if t else ""

    def ssid(self):
        sid = self.crypto.sessionId
        return sid.hex() if sid else ""

    def setState(self, newstate):
        old = self.state
        super(PeerContext, self).setState(newstate)
        if newstate == pctx.STATE_ENCRYPTED:
            if old != pctx.STATE_ENCRYPTED and self.getCurrentTrust() is None:
                emit("new_fingerprint", peer=self.peer,
                     fingerprint=self.human_fpr())
                self.setCurrentTrust("")
            emit("gone_secure" if old != pctx.STATE_ENCRYPTED else "still_secure",
                 peer=self.peer, fingerprint=self.human_fpr(),
                 trust=self.current_trust(), ssid=self.ssid(), version="2",
                 instag="")
        elif newstate != old:
            emit("gone_insecure", peer=self.peer,
                 state="finished" if newstate == pctx.STATE_FINISHED
                 else "plaintext")


class PeerAccount(KeyFileAccount):
    contextclass = PeerContext

    def __init__(self, name, protocol, keyfile):
        super(PeerAccount, self).__init__(name, protocol, 0, keyfile)
        self.policy_name = DEFAULT_POLICY


# ---------------------------------------------------------------------------
# command parsing
# ---------------------------------------------------------------------------

_decoder = json.JSONDecoder()


class ArgError(Exception):
    pass


def take_arg(s):
    """One non-final argument: a JSON string or a word. Returns (arg, rest)."""
    if s.startswith('"'):
        try:
            val, end = _decoder.raw_decode(s)
        except ValueError as e:
            raise ArgError("bad JSON string: %s" % e)
        if not isinstance(val, str):
            raise ArgError("argument is not a JSON string")
        rest = s[end:]
        if rest.startswith(" "):
            rest = rest[1:]
        return val, rest
    word, sep, rest = s.partition(" ")
    return word, rest


def last_arg(s):
    """The final argument: a JSON string, or the rest of the line."""
    if s.startswith('"'):
        try:
            val, end = _decoder.raw_decode(s)
        except ValueError as e:
            raise ArgError("bad JSON string: %s" % e)
        if not isinstance(val, str):
            raise ArgError("argument is not a JSON string")
        if s[end:].strip():
            raise ArgError("trailing data after JSON string")
        return val
    return s


def need(arg, what):
    if not arg:
        raise ArgError("missing " + what)
    return arg


# ---------------------------------------------------------------------------
# the peer
# ---------------------------------------------------------------------------

class Peer(object):
    def __init__(self, account, protocol, keyfile):
        self.account = PeerAccount(account, protocol, keyfile)
        self.account.getPrivkey()  # load or create (and save) the key

    def ctx(self, peer):
        return self.account.getContext(peer)

    def our_fpr(self):
        return str(self.account.getPrivkey())

    # --- commands -----------------------------------------------------------

    def cmd_recv(self, rest):
        frm, rest = take_arg(rest)
        need(frm, "sender")
        wire = last_arg(rest)
        ctx = self.ctx(frm)
        ctx.last_parsed = None
        ctx.decrypted = False
        try:
            text, tlvs = ctx.receiveMessage(wire.encode("utf-8"))
        except pctx.NotOTRMessage as e:
            text = e.args[0] if e.args else b""
            if ctx.state != pctx.STATE_PLAINTEXT or ctx.getPolicy("REQUIRE_ENCRYPTION"):
                # potr on Python 3 does not flag this itself (its basestring
                # test never matches bytes); report it like libotr would.
                emit("msg_event", peer=frm, event="rcvdmsg_unencrypted",
                     detail=b2s(text))
            emit("message", **{"from": frm, "text": b2s(text), "encrypted": False})
            return
        except pctx.UnencryptedMessage as e:
            text = e.args[0] if e.args else b""
            emit("msg_event", peer=frm, event="rcvdmsg_unencrypted",
                 detail=b2s(text))
            emit("message", **{"from": frm, "text": b2s(text), "encrypted": False})
            return
        except pctx.ErrorReceived as e:
            err = e.args[0] if e.args else None
            detail = b2s(getattr(err, "error", b"")) if err is not None else ""
            emit("msg_event", peer=frm, event="rcvdmsg_general_err", detail=detail)
            return
        except pctx.NotEncryptedError:
            emit("msg_event", peer=frm, event="rcvdmsg_not_in_private")
            return
        except pcrypt.InvalidParameterError:
            if isinstance(ctx.last_parsed, proto.DataMessage):
                emit("msg_event", peer=frm, event="rcvdmsg_unreadable",
                     detail="potr: bad key ids, MAC or counter")
            else:
                emit("error", detail="potr rejected an AKE message (%s)"
                     % type(ctx.last_parsed).__name__)
            return
        except proto.UnknownTLV:
            emit("msg_event", peer=frm, event="rcvdmsg_malformed",
                 detail="potr: unknown TLV type, whole message dropped")
            return
        except Exception as e:  # never crash on bad input
            emit("error", detail="recv: %s: %s" % (type(e).__name__, e))
            return

        if text is not None:
            emit("message", **{"from": frm, "text": b2s(text), "encrypted": True})
        elif ctx.decrypted and not tlvs:
            emit("msg_event", peer=frm, event="log_heartbeat_rcvd")

    def cmd_send(self, rest):
        to, rest = take_arg(rest)
        need(to, "recipient")
        text = last_arg(rest).encode("utf-8")
        ctx = self.ctx(to)
        if ctx.state == pctx.STATE_FINISHED:
            emit("msg_event", peer=to, event="connection_ended")
            return
        was_plain = ctx.state == pctx.STATE_PLAINTEXT
        try:
            out = ctx.sendMessage(pctx.FRAGMENT_SEND_ALL, text)
        except pctx.NotEncryptedError:
            emit("msg_event", peer=to, event="connection_ended")
            return
        if out is not None:
            # potr returns (does not inject) plaintext, tagged plaintext and
            # the query it substitutes under REQUIRE_ENCRYPTION
            if was_plain and ctx.policyOtrEnabled() and \
                    ctx.getPolicy("REQUIRE_ENCRYPTION") and \
                    ctx.parseExplicitQuery(text) is None:
                emit("msg_event", peer=to, event="encryption_required",
                     detail="potr sent a query instead; it never resends the message")
            emit("wire", to=to, data=b2s(out))

    def cmd_query(self, rest):
        to = need(last_arg(rest), "recipient")
        ctx = self.ctx(to)
        if not ctx.policyOtrEnabled():
            emit("error", detail="OTR disabled by policy")
            return
        out = ctx.sendMessage(pctx.FRAGMENT_SEND_ALL, b"?OTRv2?")
        if out is not None:
            emit("wire", to=to, data=b2s(out))

    def cmd_end(self, rest):
        to = need(last_arg(rest), "recipient")
        self.ctx(to).disconnect()  # setState emits gone_insecure (if not plaintext)

    def _encrypted_ctx(self, to):
        ctx = self.ctx(to)
        if ctx.state != pctx.STATE_ENCRYPTED:
            emit("error", detail="not in a private conversation with %s" % to)
            return None
        return ctx

    def cmd_smp(self, rest):
        to, rest = take_arg(rest)
        need(to, "recipient")
        secret = last_arg(rest).encode("utf-8")
        ctx = self._encrypted_ctx(to)
        if ctx is not None:
            ctx.smpInit(secret)

    def cmd_smpq(self, rest):
        to, rest = take_arg(rest)
        need(to, "recipient")
        question, rest = take_arg(rest)
        secret = last_arg(rest).encode("utf-8")
        ctx = self._encrypted_ctx(to)
        if ctx is not None:
            ctx.smpInit(secret, question=question.encode("utf-8"))

    def cmd_smp_answer(self, rest):
        to, rest = take_arg(rest)
        need(to, "recipient")
        secret = last_arg(rest).encode("utf-8")
        ctx = self._encrypted_ctx(to)
        if ctx is None:
            return
        smp = ctx.crypto.smp
        if smp is None or smp.state != 0:
            # potr would silently start a new SMP as initiator here
            emit("error", detail="no SMP request from %s to answer" % to)
            return
        ctx.smpGotSecret(secret)

    def cmd_smp_abort(self, rest):
        to = need(last_arg(rest), "recipient")
        ctx = self._encrypted_ctx(to)
        if ctx is not None:
            ctx.smpAbort()

    def cmd_status(self, rest):
        to = need(last_arg(rest), "recipient")
        ctx = self.ctx(to)
        enc = ctx.state == pctx.STATE_ENCRYPTED
        emit("status", peer=to, msgstate=STATE_NAMES.get(ctx.state, "plaintext"),
             fingerprint=ctx.human_fpr() if enc else "",
             trust=ctx.current_trust() if enc else "")

    def cmd_fingerprint(self, rest):
        emit("fingerprint", fingerprint=self.our_fpr())

    def cmd_policy(self, rest):
        name = last_arg(rest).strip()
        if name not in POLICIES:
            emit("error", detail="unknown policy %r" % name)
            return
        self.account.policy_name = name

    def cmd_mms(self, rest):
        try:
            n = int(last_arg(rest).strip())
        except ValueError:
            emit("error", detail="mms: not a number")
            return
        if n < 0 or 0 < n < 20:
            # potr's fragment size is mms - 19; below 20 it silently sends nothing
            emit("error", detail="mms must be 0 or >= 20 for potr")
            return
        self.account.maxMessageSize = n

    def cmd_ping(self, rest):
        emit("pong", token=last_arg(rest))

    def cmd_extrakey(self, rest):
        # The extra symmetric key is an OTR v3 feature. potr's getExtraKey()
        # can send TLV 8 in a v2 session, but it derives the key from the AKE
        # secret instead of the carrying data message's keys (spec), and
        # ignores received TLV 8: reported as unsupported.
        emit("error", detail="unsupported")

    def cmd_select(self, rest):
        pass  # v2 has no instance tags

    COMMANDS = {
        "recv": cmd_recv, "send": cmd_send, "query": cmd_query, "end": cmd_end,
        "smp": cmd_smp, "smpq": cmd_smpq, "smp_answer": cmd_smp_answer,
        "smp_abort": cmd_smp_abort, "status": cmd_status,
        "fingerprint": cmd_fingerprint, "policy": cmd_policy, "mms": cmd_mms,
        "ping": cmd_ping, "extrakey": cmd_extrakey, "select": cmd_select,
    }

    def run(self):
        emit("ready", account=self.account.name, protocol=self.account.protocol,
             fingerprint=self.our_fpr(), instag="")
        stdin = sys.stdin.buffer
        while True:
            raw = stdin.readline()
            if not raw:
                return 0
            line = raw.decode("utf-8", "replace")
            if line.endswith("\n"):
                line = line[:-1]
            if line.endswith("\r"):
                line = line[:-1]
            if not line.strip():
                continue
            cmd, _, rest = line.partition(" ")
            if cmd == "quit":
                emit("bye")
                return 0
            handler = self.COMMANDS.get(cmd)
            if handler is None:
                emit("error", detail="unknown command %r" % cmd)
                continue
            try:
                handler(self, rest)
            except ArgError as e:
                emit("error", detail="%s: %s" % (cmd, e))
            except pctx.NotEncryptedError:
                emit("error", detail="%s: not in a private conversation" % cmd)
            except Exception as e:
                emit("error", detail="%s: %s: %s" % (cmd, type(e).__name__, e))
                if os.environ.get("POTR_PEER_DEBUG"):
                    traceback.print_exc(file=sys.stderr)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: potr_peer.py ACCOUNT PROTOCOL KEYFILE\n")
        return 2
    if os.environ.get("POTR_PEER_DEBUG"):
        import logging
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    peer = Peer(argv[1], argv[2], argv[3])
    return peer.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
