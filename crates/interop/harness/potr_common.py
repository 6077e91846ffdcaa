"""Shared by the python-potr harnesses (potr_peer.py, potr_xmpp_peer.py).

Importing this module, before anything else imports potr, makes Debian's potr
1.0.2 usable on pycryptodome and adds the callbacks potr lacks:

- Debian's potr calls the PyCrypto API (on top of pycryptodome's `Cryptodome`
  namespace in Debian's patched copy, on `Crypto` upstream): AES-CTR with a
  callable counter, `DsaKey.sign(M, K)` / `verify`, `DSA.generate().key`.
  pycryptodome has none of these, so `_install_crypto_shim` maps them onto
  pycryptodome (AES-CTR, key generation) and plain Python integers (DSA
  sign/verify, with PyCrypto's exact semantics).
- potr reports nothing about SMP: `SMPHandler.handle` is wrapped to call
  `ctx.smp_event(event, **extra)` on contexts that define it, with event one
  of ask_for_secret, ask_for_answer (question=...), in_progress, success,
  failure, cheated, abort, error (detail=...).
- `ctx.decrypted` becomes True once a data message passed its MAC, key id
  and counter checks (set it to False before `receiveMessage`).

`KeyFileAccount` stores potr's own private key serialisation
(`DSAKey.serializePrivateKey()`, raw bytes: the format of Gajim's `.key3`).

Run with Debian's /usr/bin/python3 (python3-potr, python3-pycryptodome).
"""

import importlib
import os
import sys


# ---------------------------------------------------------------------------
# PyCrypto -> pycryptodome shim
# ---------------------------------------------------------------------------

def _alias_crypto_namespace():
    """Upstream potr imports `Crypto`; Debian only ships `Cryptodome`.
    Make `Crypto.*` resolve to `Cryptodome.*` if no `Crypto` package exists."""
    try:
        importlib.import_module("Crypto")
        return
    except ImportError:
        pass
    import Cryptodome
    for sub in ("", ".Cipher", ".Cipher.AES", ".Hash", ".Hash.SHA", ".Hash.SHA1",
                ".Hash.SHA256", ".Hash.HMAC", ".PublicKey", ".PublicKey.DSA",
                ".Random", ".Random.random", ".Util", ".Util.number",
                ".Util.Counter"):
        try:
            mod = importlib.import_module("Cryptodome" + sub)
        except ImportError:
            continue
        sys.modules["Crypto" + sub] = mod
    sys.modules.setdefault("Crypto", Cryptodome)


def _install_crypto_shim():
    _alias_crypto_namespace()

    from Cryptodome.Cipher import AES
    from Cryptodome.PublicKey import DSA
    import potr.compatcrypto
    import potr.compatcrypto.pycrypto as pc
    import potr.crypt
    from potr.utils import bytes_to_long, long_to_bytes

    Counter = pc.Counter

    class _CtrCipher(object):
        """AES-CTR whose counter block is potr's Counter: 8-byte prefix ||
        8-byte block counter (val), advancing counter.val like PyCrypto did
        when it called the counter once per block."""

        def __init__(self, key, counter):
            self._counter = counter
            self._cipher = AES.new(key, AES.MODE_CTR,
                                   nonce=counter.byteprefix(),
                                   initial_value=counter.val)
            self._pos = 0  # bytes processed, to advance counter.val

        def _advance(self, n):
            before = (self._pos + 15) // 16
            self._pos += n
            after = (self._pos + 15) // 16
            self._counter.val += after - before

        def encrypt(self, data):
            out = self._cipher.encrypt(data)
            self._advance(len(data))
            return out

        def decrypt(self, data):
            out = self._cipher.decrypt(data)
            self._advance(len(data))
            return out

    def AESCTR(key, counter=0):
        from numbers import Number
        if isinstance(counter, Number):
            counter = Counter(counter)
        if not isinstance(counter, Counter):
            raise TypeError
        return _CtrCipher(key, counter)

    for mod in (pc, potr.compatcrypto, potr.crypt):
        mod.AESCTR = AESCTR

    class _DsaNumbers(object):
        __slots__ = ("p", "q", "g", "y", "x")

        def __init__(self, y, g, p, q, x=None):
            self.y, self.g, self.p, self.q, self.x = y, g, p, q, x

    def _inverse(a, m):
        return pow(a, -1, m)

    def dsa_init(self, key=None, private=False):
        self.priv = self.pub = None
        if not isinstance(key, tuple):
            raise TypeError('4/5-tuple required for key')
        key = tuple(int(v) for v in key)
        if len(key) == 5 and private:
            y, g, p, q, x = key
            self.priv = _DsaNumbers(y, g, p, q, x)
            self.pub = _DsaNumbers(y, g, p, q)
        elif len(key) == 4 and not private:
            y, g, p, q = key
            self.pub = _DsaNumbers(y, g, p, q)
        else:
            raise TypeError('wrong number of arguments for private={0!r}: got {1}'
                            .format(private, len(key)))

    def dsa_sign(self, data):
        # PyCrypto semantics: M = bytes_to_long(data), used as is (so it is in
        # effect reduced mod q, not hashed again).
        k = self.priv
        m = bytes_to_long(data)
        while True:
            K = pc.randrange(2, k.q)
            r = pow(k.g, K, k.p) % k.q
            s = (_inverse(K, k.q) * (m + k.x * r)) % k.q
            if r != 0 and s != 0:
                return long_to_bytes(r, 20) + long_to_bytes(s, 20)

    def dsa_verify(self, data, sig):
        k = self.pub
        if len(sig) != 40:
            return False
        r, s = bytes_to_long(sig[:20]), bytes_to_long(sig[20:])
        if not (0 < r < k.q and 0 < s < k.q):
            return False
        m = bytes_to_long(data)
        w = _inverse(s, k.q)
        u1 = (m * w) % k.q
        u2 = (r * w) % k.q
        v = (pow(k.g, u1, k.p) * pow(k.y, u2, k.p) % k.p) % k.q
        return v == r

    @classmethod
    def dsa_generate(cls):
        key = DSA.generate(1024)
        return cls((int(key.y), int(key.g), int(key.p), int(key.q), int(key.x)),
                   private=True)

    pc.DSAKey.__init__ = dsa_init
    pc.DSAKey.sign = dsa_sign
    pc.DSAKey.verify = dsa_verify
    pc.DSAKey.generate = dsa_generate


_install_crypto_shim()

import potr  # noqa: E402
from potr import context as pctx  # noqa: E402
from potr import crypt as pcrypt  # noqa: E402
from potr import proto  # noqa: E402


def b2s(b):
    """potr's bytes (or None) as text, undecodable bytes replaced."""
    if b is None:
        return ""
    if isinstance(b, str):
        return b
    return bytes(b).decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# SMP events: potr has no callbacks, so wrap SMPHandler.handle and compare
# the state before and after each TLV.
# ---------------------------------------------------------------------------

_SMP_EXPECTED_STATE = {
    proto.SMP1TLV: 1, proto.SMP1QTLV: 1, proto.SMP2TLV: 2,
    proto.SMP3TLV: 3, proto.SMP4TLV: 4,
}

_orig_smp_handle = pcrypt.SMPHandler.handle


def _smp_handle(self, tlv, appdata=None):
    ctx = self.crypto.ctx
    before = self.state
    _orig_smp_handle(self, tlv, appdata=appdata)
    if not hasattr(ctx, "smp_event"):
        return
    if isinstance(tlv, proto.SMPABORTTLV):
        ctx.smp_event("abort")
        return
    expected = _SMP_EXPECTED_STATE.get(type(tlv))
    if expected is None:
        return
    if before != expected:
        # potr answered with an SMP abort (out of order message)
        ctx.smp_event("error", detail="unexpected SMP message type %d in state %d"
                      % (tlv.typ, before))
        return
    if isinstance(tlv, (proto.SMP1TLV, proto.SMP1QTLV)):
        if self.state == 0:
            if isinstance(tlv, proto.SMP1QTLV):
                ctx.smp_event("ask_for_answer", question=b2s(tlv.msg))
            else:
                ctx.smp_event("ask_for_secret")
        else:
            ctx.smp_event("cheated")
    elif isinstance(tlv, proto.SMP2TLV):
        if self.state == 4:
            ctx.smp_event("in_progress")
        else:
            ctx.smp_event("cheated")
    else:  # SMP3 (we are responder) or SMP4 (we are initiator)
        if self.prog == pcrypt.SMPPROG_SUCCEEDED:
            # potr itself sets "smp" except for the responder of a question
            ctx.setCurrentTrust("smp")
            ctx.smp_event("success")
        elif self.prog == pcrypt.SMPPROG_FAILED:
            ctx.smp_event("failure")
        else:
            ctx.smp_event("cheated")


pcrypt.SMPHandler.handle = _smp_handle

_orig_handle_data = pcrypt.CryptEngine.handleDataMessage


def _handle_data(self, msg):
    result = _orig_handle_data(self, msg)
    # reached only when MAC, key ids and counter were accepted
    self.ctx.decrypted = True
    return result


pcrypt.CryptEngine.handleDataMessage = _handle_data


# ---------------------------------------------------------------------------
# an account with its key in a file
# ---------------------------------------------------------------------------

class KeyFileAccount(pctx.Account):
    """A potr account whose private key lives in `self.keyfile` (created,
    mode 0600, on first use); trusts stay in memory (`self.trusts`)."""

    def __init__(self, name, protocol, max_message_size, keyfile):
        super(KeyFileAccount, self).__init__(name, protocol, max_message_size)
        self.keyfile = keyfile

    def loadPrivkey(self):
        try:
            with open(self.keyfile, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        key, _rest = potr.compatcrypto.PK.parsePrivateKey(data)
        return key

    def savePrivkey(self):
        tmp = self.keyfile + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.privkey.serializePrivateKey())
        os.replace(tmp, self.keyfile)

    def loadTrusts(self):
        pass

    def saveTrusts(self):
        pass
