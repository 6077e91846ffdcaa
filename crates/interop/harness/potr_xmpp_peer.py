#!/usr/bin/python3
"""python-potr (OTR v2) over XMPP: an independent OTR peer on a real server.

    potr_xmpp_peer.py --jid USER@DOMAIN[/RESOURCE] --password-file FILE
                      --host 127.0.0.1 --port N --ca-file CA.pem
                      --key-file KEY [--policy respond|manual|opportunistic|always]
                      [--max-message-size N]

Logs in with slixmpp over STARTTLS (the server certificate must chain to
CA.pem and name the JID's domain), fetches the roster, sends presence, then
reads one JSON command per line on stdin and writes one JSON event per line
on stdout. KEY holds potr's private key (created when missing). Run with
Debian's /usr/bin/python3 (python3-potr, python3-pycryptodome,
python3-slixmpp); potr_common.py makes potr run on pycryptodome.

Commands (FULLJID: one OTR session per full JID, XEP-0364):

    {"cmd":"send","to":FULLJID,"text":T}   through potr: encrypted when the
                                          session is, else plaintext (tagged or
                                          replaced by a query, per the policy)
    {"cmd":"start","to":FULLJID}           send an OTR v2 query
    {"cmd":"end","to":FULLJID}             end the private conversation
    {"cmd":"smp","to":FULLJID,"secret":S[,"question":Q]}
    {"cmd":"smp_answer","to":FULLJID,"secret":S}
    {"cmd":"quit"}                         log out and exit (so does EOF)

Events:

    {"event":"online","jid":BOUND,"fingerprint":OURS,"roster":[{"jid","subscription"}]}
    {"event":"presence","from":FULLJID,"available":BOOL}
    {"event":"message","from":FULLJID,"text":T,"encrypted":BOOL}
    {"event":"state","from":FULLJID,"state":"plaintext"|"encrypted"|"finished",
     "fingerprint":THEIRS|null}       on every change and every completed AKE
    {"event":"smp","from":FULLJID,"result":R[,"question":Q][,"detail":D]}
        R: "asked" (the peer started SMP without a question: answer it),
        "question" (with one), "success", "failure", "aborted"
    {"event":"error","text":T}        a bad command, an OTR error, an XMPP
                                      error stanza, or a lost connection
                                      (then the peer exits with status 1)

Fingerprints are 40 lowercase hex digits. Messages go out as type "chat" to
the full JID given. The default policy "respond" lets the other side start
(ALLOW_V2, WHITESPACE_START_AKE, ERROR_START_AKE), never tags plaintext and
does not require encryption. XMPP has no message size limit that matters, so
potr does not fragment unless --max-message-size is given (then >= 20).
Set POTR_XMPP_DEBUG=1 for slixmpp's debug log on stderr.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import threading

from potr_common import b2s, KeyFileAccount, pctx, pcrypt

from slixmpp import ClientXMPP, JID

POLICIES = {
    "manual": {"ALLOW_V2"},
    "respond": {"ALLOW_V2", "WHITESPACE_START_AKE", "ERROR_START_AKE"},
    "opportunistic": {"ALLOW_V2", "SEND_TAG", "WHITESPACE_START_AKE",
                      "ERROR_START_AKE"},
    "always": {"ALLOW_V2", "SEND_TAG", "WHITESPACE_START_AKE",
               "ERROR_START_AKE", "REQUIRE_ENCRYPTION"},
}

STATE_NAMES = {
    pctx.STATE_PLAINTEXT: "plaintext",
    pctx.STATE_ENCRYPTED: "encrypted",
    pctx.STATE_FINISHED: "finished",
}

# potr_common's SMP progress, as this protocol names it (None: not reported)
SMP_RESULTS = {
    "ask_for_secret": "asked",
    "ask_for_answer": "question",
    "in_progress": None,
    "success": "success",
    "failure": "failure",
    "cheated": "failure",
    "abort": "aborted",
    "error": "aborted",  # potr answered an out-of-order message with an abort
}


def emit(event, **fields):
    obj = {"event": event}
    obj.update(fields)
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def fingerprint_hex(key):
    return key.cfingerprint() if key is not None else None  # 40 hex digits


# ---------------------------------------------------------------------------
# potr account and context: one context per full JID
# ---------------------------------------------------------------------------

class XmppContext(pctx.Context):
    def __init__(self, account, peername):
        self.decrypted = False
        self.reported = ("plaintext", None)
        super(XmppContext, self).__init__(account, peername)

    def getPolicy(self, key):
        return key in self.user.policy

    def inject(self, msg, appdata=None):
        self.user.client.send_chat(self.peer, b2s(msg))

    def smp_event(self, event, **extra):
        result = SMP_RESULTS.get(event)
        if result is None:
            return
        fields = {"from": self.peer, "result": result}
        if "question" in extra:
            fields["question"] = extra["question"]
        if event in ("cheated", "error"):
            fields["detail"] = extra.get("detail", event)
        emit("smp", **fields)

    def setState(self, newstate):
        super(XmppContext, self).setState(newstate)
        state = STATE_NAMES.get(newstate, "plaintext")
        fpr = None
        if newstate == pctx.STATE_ENCRYPTED:
            fpr = fingerprint_hex(self.crypto.theirPubkey)
        now = (state, fpr)
        # every completed AKE is reported, a refresh too
        if now != self.reported or newstate == pctx.STATE_ENCRYPTED:
            self.reported = now
            emit("state", **{"from": self.peer, "state": state, "fingerprint": fpr})


class XmppAccount(KeyFileAccount):
    contextclass = XmppContext

    def __init__(self, jid, keyfile, policy, max_message_size, client):
        super(XmppAccount, self).__init__(jid, "xmpp", max_message_size, keyfile)
        self.policy = POLICIES[policy]
        self.client = client


# ---------------------------------------------------------------------------
# the XMPP client
# ---------------------------------------------------------------------------

class CommandError(Exception):
    pass


class Peer(ClientXMPP):
    def __init__(self, args, password):
        super(Peer, self).__init__(args.jid, password)
        self.ca_certs = args.ca_file
        self.account = XmppAccount(JID(args.jid).bare, args.key_file, args.policy,
                                   args.max_message_size, self)
        self.account.getPrivkey()  # load, or generate and save
        self.quitting = False
        self.exit_code = 0
        self.done = self.loop.create_future()  # resolved when it is over
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("presence_available", self.on_presence)
        self.add_event_handler("presence_unavailable", self.on_presence)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("ssl_invalid_chain", self.on_invalid_chain)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("disconnected", self.on_disconnected)

    # --- connection -------------------------------------------------------

    def fail(self, text):
        emit("error", text=text)
        self.exit_code = 1
        self.quitting = True
        self.disconnect(wait=0)

    def on_failed_auth(self, _event):
        self.fail("authentication failed for %s" % self.boundjid.bare)

    def on_invalid_chain(self, err):
        self.fail("server certificate not trusted: %s" % err)

    def on_connection_failed(self, err):
        # slixmpp would retry forever: give up at once
        emit("error", text="cannot connect: %s" % err)
        self.exit_code = 1
        self.quitting = True
        self.finish()

    def on_disconnected(self, reason):
        if not self.quitting:
            emit("error", text="disconnected: %s" % (reason or "connection lost"))
            self.exit_code = 1
            self.quitting = True
        self.finish()

    def finish(self):
        if not self.done.done():
            self.done.set_result(True)

    async def on_session_start(self, _event):
        try:
            await self.get_roster()
            self.send_presence()
            roster = self.client_roster
            items = [{"jid": str(j), "subscription": roster[j]["subscription"]}
                     for j in sorted(roster.keys()) if j != self.boundjid.bare]
            emit("online", jid=self.boundjid.full,
                 fingerprint=fingerprint_hex(self.account.getPrivkey()),
                 roster=items)
        except Exception as e:
            self.fail("session start: %s: %s" % (type(e).__name__, e))
            return
        threading.Thread(target=self.read_commands, daemon=True).start()

    def on_presence(self, pres):
        frm = pres["from"]
        if frm == self.boundjid:
            return  # the server's echo of our own presence
        emit("presence", **{"from": frm.full,
                            "available": pres["type"] != "unavailable"})

    def send_chat(self, to, body):
        self.send_message(mto=to, mbody=body, mtype="chat")

    # --- incoming messages ------------------------------------------------

    def on_message(self, msg):
        frm = msg["from"].full
        if msg["type"] == "error":
            emit("error", text="message error from %s: %s"
                 % (frm, msg["error"]["condition"]))
            return
        if msg["type"] not in ("chat", "normal"):
            return
        body = msg["body"]
        if not body:
            return  # chat states, receipts
        ctx = self.account.getContext(frm)
        ctx.decrypted = False
        try:
            text, _tlvs = ctx.receiveMessage(body.encode("utf-8"))
        except (pctx.NotOTRMessage, pctx.UnencryptedMessage) as e:
            text = e.args[0] if e.args else b""
            emit("message", **{"from": frm, "text": b2s(text), "encrypted": False})
            return
        except pctx.ErrorReceived as e:
            err = e.args[0] if e.args else None
            emit("error", text="OTR error from %s: %s"
                 % (frm, b2s(getattr(err, "error", b""))))
            return
        except pctx.NotEncryptedError:
            emit("error", text="unreadable encrypted message from %s (not in a "
                 "private conversation)" % frm)
            return
        except pcrypt.InvalidParameterError:
            emit("error", text="potr rejected a message from %s" % frm)
            return
        except Exception as e:  # never crash on bad input
            emit("error", text="receive from %s: %s: %s" % (frm, type(e).__name__, e))
            return
        if text is not None:
            emit("message", **{"from": frm, "text": b2s(text), "encrypted": True})

    # --- commands ---------------------------------------------------------

    def read_commands(self):
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self.loop.call_soon_threadsafe(self.command, line)
        self.loop.call_soon_threadsafe(self.command, '{"cmd":"quit"}')

    def command(self, line):
        if self.quitting:
            return
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise CommandError("a command is a JSON object")
            name = cmd.get("cmd")
            handler = self.COMMANDS.get(name)
            if handler is None:
                raise CommandError("unknown command %r" % name)
            handler(self, cmd)
        except CommandError as e:
            emit("error", text=str(e))
        except ValueError as e:
            emit("error", text="bad JSON: %s" % e)
        except Exception as e:
            emit("error", text="%s: %s" % (type(e).__name__, e))

    def ctx(self, cmd):
        to = field(cmd, "to")
        jid = JID(to)
        if not jid.resource:
            raise CommandError("%r is not a full JID" % to)
        return self.account.getContext(jid.full)

    def encrypted_ctx(self, cmd):
        ctx = self.ctx(cmd)
        if ctx.state != pctx.STATE_ENCRYPTED:
            raise CommandError("not in a private conversation with %s" % ctx.peer)
        return ctx

    def cmd_send(self, cmd):
        ctx = self.ctx(cmd)
        text = field(cmd, "text").encode("utf-8")
        try:
            out = ctx.sendMessage(pctx.FRAGMENT_SEND_ALL, text)
        except pctx.NotEncryptedError:
            raise CommandError("the private conversation with %s has ended; "
                               "end it too before sending" % ctx.peer)
        if out is not None:  # plaintext, tagged plaintext or a query
            self.send_chat(ctx.peer, b2s(out))

    def cmd_start(self, cmd):
        ctx = self.ctx(cmd)
        if not ctx.policyOtrEnabled():
            raise CommandError("OTR disabled by policy")
        out = ctx.sendMessage(pctx.FRAGMENT_SEND_ALL, b"?OTRv2?")
        if out is not None:
            self.send_chat(ctx.peer, b2s(out))

    def cmd_end(self, cmd):
        self.ctx(cmd).disconnect()

    def cmd_smp(self, cmd):
        ctx = self.encrypted_ctx(cmd)
        secret = field(cmd, "secret").encode("utf-8")
        question = cmd.get("question")
        if question is not None:
            if not isinstance(question, str):
                raise CommandError("question must be a string")
            ctx.smpInit(secret, question=question.encode("utf-8"))
        else:
            ctx.smpInit(secret)

    def cmd_smp_answer(self, cmd):
        ctx = self.encrypted_ctx(cmd)
        secret = field(cmd, "secret").encode("utf-8")
        smp = ctx.crypto.smp
        if smp is None or smp.state != 0:
            # potr would silently start a new SMP as initiator here
            raise CommandError("no SMP request from %s to answer" % ctx.peer)
        ctx.smpGotSecret(secret)

    def cmd_quit(self, _cmd):
        self.quitting = True
        self.disconnect()

    COMMANDS = {
        "send": cmd_send, "start": cmd_start, "end": cmd_end, "smp": cmd_smp,
        "smp_answer": cmd_smp_answer, "quit": cmd_quit,
    }


def field(cmd, name):
    value = cmd.get(name)
    if not isinstance(value, str):
        raise CommandError("missing string field %r" % name)
    return value


def main(argv):
    parser = argparse.ArgumentParser(description="python-potr OTR peer over XMPP")
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5222)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="respond")
    parser.add_argument("--max-message-size", type=int, default=0)
    args = parser.parse_args(argv[1:])
    if 0 < args.max_message_size < 20:
        parser.error("--max-message-size must be 0 or >= 20 (potr's fragment "
                     "size is that minus 19)")
    debug = bool(os.environ.get("POTR_XMPP_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        stream=sys.stderr)
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\r\n")

    asyncio.set_event_loop(asyncio.new_event_loop())
    peer = Peer(args, password)
    peer.connect((args.host, args.port), force_starttls=True)
    peer.loop.run_until_complete(peer.done)
    return peer.exit_code


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # The stdin reader thread may still be blocked in a read: leave without
    # the interpreter's shutdown, which would wait for its lock and abort.
    os._exit(code)
