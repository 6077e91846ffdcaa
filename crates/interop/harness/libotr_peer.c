/*
 * libotr_peer -- the libotr 4.1.x interop harness for Padlock.
 *
 * Speaks the `otr-peer` line protocol (docs/otr-peer.md), including its
 * Extensions (extrakey, select, extra_key events, instag in gone_secure /
 * still_secure, msg_event names = libotr's OTRL_MSGEVENT_* in lowercase).
 *
 *     libotr_peer ACCOUNT PROTOCOL KEYFILE
 *
 * Build:
 *     cc -O2 -Wall -Wextra libotr_peer.c $(pkg-config --cflags --libs libotr) \
 *        -o libotr_peer
 *
 * `select <to> <instag>` passes the 8-hex value to libotr unchanged, so the
 * meta-instances work too: 00000000 = master context (v2), 00000001 = best
 * (the default when nothing is selected).
 *
 * Harness-only extra policy words (libotr's presets cannot express them):
 *     policy v2   = OTRL_POLICY_OPPORTUNISTIC & ~OTRL_POLICY_ALLOW_V3 (v2 only)
 *     policy v3   = OTRL_POLICY_OPPORTUNISTIC & ~OTRL_POLICY_ALLOW_V2 (v3 only)
 *
 * Behaviour worth knowing (libotr's own, reproduced faithfully):
 *  - libotr never calls gone_insecure; this harness compares every
 *    context's msgstate after each command and emits gone_insecure for any
 *    ENCRYPTED -> PLAINTEXT/FINISHED change.  `end` always emits exactly one
 *    gone_insecure {state: plaintext} for the peer.
 *  - `message.encrypted` is true iff libotr decrypted a data message during
 *    that `recv` (detected through the convert_msg callback, which libotr
 *    calls only for a freshly decrypted data message).  Plaintext received
 *    while a session is up is reported by libotr as the msg_event
 *    rcvdmsg_unencrypted (its text in `detail`); the harness then also emits
 *    `message` with encrypted=false, as Pidgin shows such text.
 *  - Empty injected messages (libotr "sends" "" when sending into a
 *    FINISHED conversation) are not emitted as `wire`.
 *  - SMP success sets trust "smp" on the active fingerprint on both sides
 *    (libotr itself skips that for the side that answered a question).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/context.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/tlv.h>

#include "json.h"

/* ------------------------------------------------------------------ */
/* global state                                                        */

static OtrlUserState us;
static const char *account, *protocol, *keyfile;
static char *instagfile;
static OtrlPolicy cur_policy = OTRL_POLICY_OPPORTUNISTIC;
static int cur_mms = 0;
static unsigned int timer_interval = 0;
static time_t next_poll = 0;
static int decrypted_flag = 0;      /* set by convert_msg on RECEIVING */
static OtrlMessageAppOps ops;

/* instance selected per peer with `select` */
struct selection {
    struct selection *next;
    char *peer;
    otrl_instag_t instag;
};
static struct selection *selections;

/* ------------------------------------------------------------------ */
/* event output                                                        */

static int ev_first;

static void ev_begin(const char *type)
{
    fputs("{\"type\":", stdout);
    json_write_str(stdout, type, strlen(type));
    ev_first = 0;
}

static void ev_key(const char *key)
{
    fputc(',', stdout);
    json_write_str(stdout, key, strlen(key));
    fputc(':', stdout);
}

static void ev_strn(const char *key, const char *val, size_t len)
{
    ev_key(key);
    json_write_str(stdout, val ? val : "", val ? len : 0);
}

static void ev_str(const char *key, const char *val)
{
    ev_strn(key, val, val ? strlen(val) : 0);
}

static void ev_bool(const char *key, int v)
{
    ev_key(key);
    fputs(v ? "true" : "false", stdout);
}

static void ev_uint(const char *key, unsigned long v)
{
    ev_key(key);
    fprintf(stdout, "%lu", v);
}

static void ev_end(void)
{
    fputs("}\n", stdout);
    fflush(stdout);
}

static void emit_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit_error(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ev_begin("error");
    ev_str("detail", buf);
    ev_end();
}

static const char *gcry_detail(gcry_error_t err)
{
    static char buf[64];
    switch (gcry_err_code(err)) {
    case GPG_ERR_INV_VALUE: return "invalid value";
    case GPG_ERR_ENOMEM: return "out of memory";
    case GPG_ERR_CONFLICT: return "conflict";
    case GPG_ERR_NO_ERROR: return "";
    default:
        snprintf(buf, sizeof buf, "libgcrypt error code %u",
                (unsigned)gcry_err_code(err));
        return buf;
    }
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void human_fp(const unsigned char *raw, char out[45])
{
    if (raw) {
        otrl_privkey_hash_to_human(out, raw);
    } else {
        out[0] = '\0';
    }
}

static const char *msgstate_name(OtrlMessageState s)
{
    switch (s) {
    case OTRL_MSGSTATE_ENCRYPTED: return "encrypted";
    case OTRL_MSGSTATE_FINISHED: return "finished";
    default: return "plaintext";
    }
}

static const char *fp_trust(const Fingerprint *fp)
{
    return (fp && fp->trust) ? fp->trust : "";
}

static otrl_instag_t selected_instag(const char *peer)
{
    struct selection *s;
    for (s = selections; s; s = s->next) {
        if (!strcmp(s->peer, peer)) return s->instag;
    }
    return OTRL_INSTAG_BEST;
}

static ConnContext *find_ctx(const char *peer)
{
    return otrl_context_find(us, peer, account, protocol,
            selected_instag(peer), 0, NULL, NULL, NULL);
}

/* Remembered msgstate per context (kept in context->app_data) so that we
 * can report gone_insecure, which libotr has no callback for. */
static int *ctx_track(ConnContext *c)
{
    if (!c->app_data) {
        int *st = malloc(sizeof *st);
        if (!st) return NULL;
        *st = OTRL_MSGSTATE_PLAINTEXT;
        c->app_data = st;
        c->app_data_free = free;
    }
    return c->app_data;
}

static void emit_gone_insecure(const char *peer, OtrlMessageState st)
{
    ev_begin("gone_insecure");
    ev_str("peer", peer);
    ev_str("state", msgstate_name(st));
    ev_end();
}

/* Compare every context's msgstate with what we saw last. */
static void check_states(int silent)
{
    ConnContext *c;
    for (c = us->context_root; c; c = c->next) {
        int *st = ctx_track(c);
        if (!st) continue;
        if (*st == OTRL_MSGSTATE_ENCRYPTED &&
                c->msgstate != OTRL_MSGSTATE_ENCRYPTED && !silent) {
            emit_gone_insecure(c->username, c->msgstate);
        }
        *st = c->msgstate;
    }
}

static void maybe_poll(void)
{
    if (timer_interval > 0 && time(NULL) >= next_poll) {
        next_poll = time(NULL) + timer_interval;
        otrl_message_poll(us, &ops, NULL);
    }
}

/* ------------------------------------------------------------------ */
/* libotr callbacks                                                    */

static OtrlPolicy cb_policy(void *opdata, ConnContext *context)
{
    (void)opdata; (void)context;
    return cur_policy;
}

static void cb_create_privkey(void *opdata, const char *accountname,
        const char *protocolname)
{
    gcry_error_t err;
    (void)opdata;
    err = otrl_privkey_generate(us, keyfile, accountname, protocolname);
    if (err) emit_error("cannot generate private key: %s", gcry_detail(err));
}

static int cb_is_logged_in(void *opdata, const char *accountname,
        const char *protocolname, const char *recipient)
{
    (void)opdata; (void)accountname; (void)protocolname; (void)recipient;
    return 1;
}

static void cb_inject_message(void *opdata, const char *accountname,
        const char *protocolname, const char *recipient, const char *message)
{
    (void)opdata; (void)accountname; (void)protocolname;
    if (!message || !*message) return;   /* libotr's "" for FINISHED sends */
    ev_begin("wire");
    ev_str("to", recipient);
    ev_str("data", message);
    ev_end();
}

static void cb_update_context_list(void *opdata)
{
    (void)opdata;
}

static void cb_new_fingerprint(void *opdata, OtrlUserState ustate,
        const char *accountname, const char *protocolname,
        const char *username, unsigned char fingerprint[20])
{
    char human[45];
    (void)opdata; (void)ustate; (void)accountname; (void)protocolname;
    human_fp(fingerprint, human);
    ev_begin("new_fingerprint");
    ev_str("peer", username);
    ev_str("fingerprint", human);
    ev_end();
}

static void cb_write_fingerprints(void *opdata)
{
    (void)opdata;   /* fingerprints are kept in memory only */
}

static void emit_secure(const char *type, ConnContext *c)
{
    char human[45], ssid[41], tag[9];
    size_t i, n = c->sessionid_len > 20 ? 20 : c->sessionid_len;
    int *st = ctx_track(c);

    if (st) *st = OTRL_MSGSTATE_ENCRYPTED;
    human_fp(c->active_fingerprint ? c->active_fingerprint->fingerprint : NULL,
            human);
    for (i = 0; i < n; i++) sprintf(ssid + 2 * i, "%02x", c->sessionid[i]);
    ssid[2 * n] = '\0';
    if (c->protocol_version == 3) {
        snprintf(tag, sizeof tag, "%08x", c->their_instance);
    } else {
        tag[0] = '\0';
    }
    ev_begin(type);
    ev_str("peer", c->username);
    ev_str("fingerprint", human);
    ev_str("trust", fp_trust(c->active_fingerprint));
    ev_str("ssid", ssid);
    ev_str("version", c->protocol_version == 3 ? "3" :
            c->protocol_version == 2 ? "2" : "1");
    ev_str("instag", tag);
    ev_end();
}

static void cb_gone_secure(void *opdata, ConnContext *context)
{
    (void)opdata;
    emit_secure("gone_secure", context);
}

static void cb_gone_insecure(void *opdata, ConnContext *context)
{
    /* libotr 4.1 never calls this; kept for completeness */
    int *st = ctx_track(context);
    (void)opdata;
    if (st) *st = context->msgstate;
    emit_gone_insecure(context->username, context->msgstate);
}

static void cb_still_secure(void *opdata, ConnContext *context, int is_reply)
{
    (void)opdata; (void)is_reply;
    emit_secure("still_secure", context);
}

static int cb_max_message_size(void *opdata, ConnContext *context)
{
    (void)opdata; (void)context;
    return cur_mms;
}

static const char *cb_account_name(void *opdata, const char *acc,
        const char *protocolname)
{
    (void)opdata; (void)protocolname;
    return strdup(acc);
}

static void cb_account_name_free(void *opdata, const char *name)
{
    (void)opdata;
    free((char *)name);
}

static void emit_extra_key(ConnContext *c, unsigned int use,
        const unsigned char *usedata, size_t usedatalen,
        const unsigned char *key, int sent)
{
    char hex[2 * OTRL_EXTRAKEY_BYTES + 1];
    int i;
    for (i = 0; i < OTRL_EXTRAKEY_BYTES; i++) sprintf(hex + 2 * i, "%02x", key[i]);
    ev_begin("extra_key");
    ev_str("peer", c->username);
    ev_uint("use", use);
    ev_strn("usedata", (const char *)usedata, usedatalen);
    ev_str("key", hex);
    ev_bool("sent", sent);
    ev_end();
}

static void cb_received_symkey(void *opdata, ConnContext *context,
        unsigned int use, const unsigned char *usedata, size_t usedatalen,
        const unsigned char *symkey)
{
    (void)opdata;
    emit_extra_key(context, use, usedata, usedatalen, symkey, 0);
}

static const char *cb_otr_error_message(void *opdata, ConnContext *context,
        OtrlErrorCode err_code)
{
    (void)opdata; (void)context;
    switch (err_code) {
    case OTRL_ERRCODE_ENCRYPTION_ERROR:
        return "Error occurred encrypting message.";
    case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
        return "You sent encrypted data to a peer who wasn't expecting it.";
    case OTRL_ERRCODE_MSG_UNREADABLE:
        return "You transmitted an unreadable encrypted message.";
    case OTRL_ERRCODE_MSG_MALFORMED:
        return "You transmitted a malformed data message.";
    default:
        return "Unknown error.";
    }
}

static void cb_otr_error_message_free(void *opdata, const char *msg)
{
    (void)opdata; (void)msg;   /* static strings */
}

static void emit_smp(ConnContext *c, const char *event, const char *question)
{
    ev_begin("smp");
    ev_str("peer", c->username);
    ev_str("event", event);
    if (question) ev_str("question", question);
    ev_end();
}

static void cb_handle_smp_event(void *opdata, OtrlSMPEvent smp_event,
        ConnContext *context, unsigned short progress_percent, char *question)
{
    (void)opdata; (void)progress_percent;
    if (!context) return;
    switch (smp_event) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
        emit_smp(context, "ask_for_secret", NULL);
        break;
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        emit_smp(context, "ask_for_answer", question ? question : "");
        break;
    case OTRL_SMPEVENT_IN_PROGRESS:
        emit_smp(context, "in_progress", NULL);
        break;
    case OTRL_SMPEVENT_SUCCESS:
        if (context->active_fingerprint) {
            otrl_context_set_trust(context->active_fingerprint, "smp");
        }
        emit_smp(context, "success", NULL);
        break;
    case OTRL_SMPEVENT_FAILURE:
        emit_smp(context, "failure", NULL);
        break;
    case OTRL_SMPEVENT_ABORT:
        emit_smp(context, "abort", NULL);
        break;
    case OTRL_SMPEVENT_CHEATED:
        emit_smp(context, "cheated", NULL);
        otrl_message_abort_smp(us, &ops, NULL, context);
        break;
    case OTRL_SMPEVENT_ERROR:
        emit_smp(context, "error", NULL);
        otrl_message_abort_smp(us, &ops, NULL, context);
        break;
    default:
        break;
    }
}

static const char *msgevent_name(OtrlMessageEvent ev)
{
    switch (ev) {
    case OTRL_MSGEVENT_NONE: return "none";
    case OTRL_MSGEVENT_ENCRYPTION_REQUIRED: return "encryption_required";
    case OTRL_MSGEVENT_ENCRYPTION_ERROR: return "encryption_error";
    case OTRL_MSGEVENT_CONNECTION_ENDED: return "connection_ended";
    case OTRL_MSGEVENT_SETUP_ERROR: return "setup_error";
    case OTRL_MSGEVENT_MSG_REFLECTED: return "msg_reflected";
    case OTRL_MSGEVENT_MSG_RESENT: return "msg_resent";
    case OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE: return "rcvdmsg_not_in_private";
    case OTRL_MSGEVENT_RCVDMSG_UNREADABLE: return "rcvdmsg_unreadable";
    case OTRL_MSGEVENT_RCVDMSG_MALFORMED: return "rcvdmsg_malformed";
    case OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD: return "log_heartbeat_rcvd";
    case OTRL_MSGEVENT_LOG_HEARTBEAT_SENT: return "log_heartbeat_sent";
    case OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR: return "rcvdmsg_general_err";
    case OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED: return "rcvdmsg_unencrypted";
    case OTRL_MSGEVENT_RCVDMSG_UNRECOGNIZED: return "rcvdmsg_unrecognized";
    case OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE:
        return "rcvdmsg_for_other_instance";
    }
    return "unknown";
}

static void cb_handle_msg_event(void *opdata, OtrlMessageEvent msg_event,
        ConnContext *context, const char *message, gcry_error_t err)
{
    const char *peer = context ? context->username : "";
    (void)opdata;
    ev_begin("msg_event");
    ev_str("peer", peer);
    ev_str("event", msgevent_name(msg_event));
    if (message) {
        ev_str("detail", message);
    } else if (err) {
        ev_str("detail", gcry_detail(err));
    }
    ev_end();

    if (msg_event == OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED && message) {
        /* libotr swallows the text (returns "ignore"); show it, unencrypted */
        ev_begin("message");
        ev_str("from", peer);
        ev_str("text", message);
        ev_bool("encrypted", 0);
        ev_end();
    }
}

static void cb_create_instag(void *opdata, const char *accountname,
        const char *protocolname)
{
    gcry_error_t err;
    (void)opdata;
    err = otrl_instag_generate(us, instagfile, accountname, protocolname);
    if (err) emit_error("cannot generate instance tag: %s", gcry_detail(err));
}

static void cb_convert_msg(void *opdata, ConnContext *context,
        OtrlConvertType convert_type, char **dest, const char *src)
{
    (void)opdata; (void)context; (void)src;
    /* libotr calls this right after decrypting a data message that will be
     * shown: the exact signal for message.encrypted. */
    if (convert_type == OTRL_CONVERT_RECEIVING) decrypted_flag = 1;
    *dest = NULL;   /* no conversion */
}

static void cb_convert_free(void *opdata, ConnContext *context, char *dest)
{
    (void)opdata; (void)context;
    free(dest);
}

static void cb_timer_control(void *opdata, unsigned int interval)
{
    (void)opdata;
    timer_interval = interval;
    next_poll = interval ? time(NULL) + interval : 0;
}

/* ------------------------------------------------------------------ */
/* argument parsing                                                    */

struct arg {
    char *s;        /* NUL-terminated (may contain NULs before len) */
    size_t len;
};

static void arg_free(struct arg *a)
{
    free(a->s);
    a->s = NULL;
    a->len = 0;
}

static int arg_dup(struct arg *a, const char *s, size_t len)
{
    a->s = malloc(len + 1);
    if (!a->s) return -1;
    memcpy(a->s, s, len);
    a->s[len] = '\0';
    a->len = len;
    return 0;
}

/* A non-final argument: a JSON string, or the text up to the next space.
 * Returns 0 on success and advances *pp past the following space. */
static int arg_word(const char **pp, struct arg *a)
{
    const char *p = *pp;
    if (*p == '"') {
        a->s = json_parse_str(&p, &a->len);
        if (!a->s) return -1;
        if (*p == ' ') p++;
        else if (*p != '\0') { arg_free(a); return -1; }
    } else {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (arg_dup(a, p, n)) return -1;
        p += n;
        if (*p == ' ') p++;
    }
    *pp = p;
    return 0;
}

/* The final argument: a JSON string if the rest of the line is exactly
 * one JSON string literal, else the rest of the line verbatim. */
static int arg_rest(const char **pp, struct arg *a)
{
    const char *p = *pp;
    if (*p == '"') {
        const char *q = p;
        char *s = json_parse_str(&q, &a->len);
        if (s) {
            while (*q == ' ' || *q == '\t') q++;
            if (*q == '\0') {
                a->s = s;
                *pp = q;
                return 0;
            }
            free(s);
        }
    }
    if (arg_dup(a, p, strlen(p))) return -1;
    *pp = p + strlen(p);
    return 0;
}

/* ------------------------------------------------------------------ */
/* commands                                                            */

static void cmd_recv(const char *from, const char *data)
{
    char *newmsg = NULL;
    OtrlTLV *tlvs = NULL;
    ConnContext *ctx = NULL;
    int ignore;

    decrypted_flag = 0;
    ignore = otrl_message_receiving(us, &ops, NULL, account, protocol, from,
            data, &newmsg, &tlvs, &ctx, NULL, NULL);
    if (!ignore) {
        ev_begin("message");
        ev_str("from", from);
        ev_str("text", newmsg ? newmsg : data);
        ev_bool("encrypted", newmsg && decrypted_flag);
        ev_end();
    }
    decrypted_flag = 0;
    if (newmsg) otrl_message_free(newmsg);
    if (tlvs) otrl_tlv_free(tlvs);
}

static void cmd_send(const char *to, const char *text)
{
    char *newmsg = NULL;
    ConnContext *ctx = NULL;
    gcry_error_t err;

    err = otrl_message_sending(us, &ops, NULL, account, protocol, to,
            selected_instag(to), text, NULL, &newmsg, OTRL_FRAGMENT_SEND_ALL,
            &ctx, NULL, NULL);
    if (err) {
        emit_error("otrl_message_sending failed: %s", gcry_detail(err));
    } else if (!newmsg && *text) {
        /* libotr left the message alone: send it as it is */
        cb_inject_message(NULL, account, protocol, to, text);
    }
    /* else: libotr already injected it (all fragments), or refused it */
    if (newmsg) otrl_message_free(newmsg);
}

static void cmd_query(const char *to)
{
    char *q = otrl_proto_default_query_msg(account, cur_policy);
    ConnContext *m;
    if (!q) { emit_error("cannot build query message"); return; }
    /* as libotr does for a typed "?OTR?": remember we offered */
    m = otrl_context_find(us, to, account, protocol, OTRL_INSTAG_MASTER, 1,
            NULL, NULL, NULL);
    if (m) m->otr_offer = OFFER_SENT;
    cb_inject_message(NULL, account, protocol, to, q);
    free(q);
}

static void cmd_end(const char *to)
{
    otrl_instag_t sel = selected_instag(to);
    if (sel >= OTRL_MIN_VALID_INSTAG) {
        otrl_message_disconnect(us, &ops, NULL, account, protocol, to, sel);
    } else {
        otrl_message_disconnect_all_instances(us, &ops, NULL, account,
                protocol, to);
    }
    check_states(1);
    emit_gone_insecure(to, OTRL_MSGSTATE_PLAINTEXT);
}

static ConnContext *encrypted_ctx(const char *to, const char *what)
{
    ConnContext *c = find_ctx(to);
    if (!c || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
        emit_error("%s: no encrypted conversation with %s", what, to);
        return NULL;
    }
    return c;
}

static void cmd_status(const char *to)
{
    ConnContext *c = find_ctx(to);
    char human[45] = "";
    const char *trust = "";
    OtrlMessageState st = c ? c->msgstate : OTRL_MSGSTATE_PLAINTEXT;

    if (c && st == OTRL_MSGSTATE_ENCRYPTED && c->active_fingerprint) {
        human_fp(c->active_fingerprint->fingerprint, human);
        trust = fp_trust(c->active_fingerprint);
    }
    ev_begin("status");
    ev_str("peer", to);
    ev_str("msgstate", msgstate_name(st));
    ev_str("fingerprint", human);
    ev_str("trust", trust);
    ev_end();
}

static void emit_fingerprint(const char *type)
{
    char fp[45];
    OtrlInsTag *it = otrl_instag_find(us, account, protocol);
    char tag[9];

    if (!otrl_privkey_fingerprint(us, fp, account, protocol)) fp[0] = '\0';
    snprintf(tag, sizeof tag, "%08x", it ? it->instag : 0);
    ev_begin(type);
    if (!strcmp(type, "ready")) {
        ev_str("account", account);
        ev_str("protocol", protocol);
    }
    ev_str("fingerprint", fp);
    if (!strcmp(type, "ready")) ev_str("instag", tag);
    ev_end();
}

static OtrlPolicy parse_policy(const char *w, int *ok)
{
    *ok = 1;
    if (!strcmp(w, "never")) return OTRL_POLICY_NEVER;
    if (!strcmp(w, "manual")) return OTRL_POLICY_MANUAL;
    if (!strcmp(w, "opportunistic")) return OTRL_POLICY_OPPORTUNISTIC;
    if (!strcmp(w, "always")) return OTRL_POLICY_ALWAYS;
    if (!strcmp(w, "v2")) return OTRL_POLICY_OPPORTUNISTIC & ~OTRL_POLICY_ALLOW_V3;
    if (!strcmp(w, "v3")) return OTRL_POLICY_OPPORTUNISTIC & ~OTRL_POLICY_ALLOW_V2;
    *ok = 0;
    return 0;
}

static int parse_hex_instag(const char *s, otrl_instag_t *out)
{
    char *end;
    unsigned long v;
    size_t n = strlen(s);
    if (n == 0 || n > 8) return -1;
    errno = 0;
    v = strtoul(s, &end, 16);
    if (errno || *end) return -1;
    *out = (otrl_instag_t)v;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (!*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

/* Returns 1 when the harness should exit. */
static int handle_line(const char *line)
{
    const char *p = line;
    struct arg cmd = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    int quit = 0;

    if (arg_word(&p, &cmd)) { emit_error("bad command syntax"); return 0; }
    const char *c = cmd.s;

#define WORD(a) do { if (!*p || arg_word(&p, &(a))) { \
        emit_error("%s: missing or bad argument", c); goto done; } } while (0)
#define REST(a) do { if (arg_rest(&p, &(a))) { \
        emit_error("%s: bad argument", c); goto done; } } while (0)
#define REST_REQ(a) do { if (!*p || arg_rest(&p, &(a))) { \
        emit_error("%s: missing argument", c); goto done; } } while (0)

    if (!strcmp(c, "recv")) {
        WORD(a1); REST(a2);
        cmd_recv(a1.s, a2.s);
    } else if (!strcmp(c, "send")) {
        WORD(a1); REST(a2);
        cmd_send(a1.s, a2.s);
    } else if (!strcmp(c, "query")) {
        REST_REQ(a1);
        cmd_query(a1.s);
    } else if (!strcmp(c, "end")) {
        REST_REQ(a1);
        cmd_end(a1.s);
    } else if (!strcmp(c, "smp") || !strcmp(c, "smp_answer")) {
        ConnContext *ctx;
        WORD(a1); REST(a2);
        if ((ctx = encrypted_ctx(a1.s, c))) {
            if (c[3] == '\0') {
                otrl_message_initiate_smp(us, &ops, NULL, ctx,
                        (const unsigned char *)a2.s, a2.len);
            } else {
                otrl_message_respond_smp(us, &ops, NULL, ctx,
                        (const unsigned char *)a2.s, a2.len);
            }
        }
    } else if (!strcmp(c, "smpq")) {
        ConnContext *ctx;
        WORD(a1); WORD(a2); REST(a3);
        if ((ctx = encrypted_ctx(a1.s, c))) {
            otrl_message_initiate_smp_q(us, &ops, NULL, ctx, a2.s,
                    (const unsigned char *)a3.s, a3.len);
        }
    } else if (!strcmp(c, "smp_abort")) {
        ConnContext *ctx;
        REST_REQ(a1);
        if ((ctx = encrypted_ctx(a1.s, c))) {
            otrl_message_abort_smp(us, &ops, NULL, ctx);
        }
    } else if (!strcmp(c, "status")) {
        REST_REQ(a1);
        cmd_status(a1.s);
    } else if (!strcmp(c, "fingerprint")) {
        emit_fingerprint("fingerprint");
    } else if (!strcmp(c, "policy")) {
        int ok;
        OtrlPolicy pol;
        REST_REQ(a1);
        pol = parse_policy(a1.s, &ok);
        if (ok) cur_policy = pol;
        else emit_error("policy: unknown policy '%s'", a1.s);
    } else if (!strcmp(c, "mms")) {
        unsigned long v;
        REST_REQ(a1);
        /* libotr divides by (mms - 37) (v3 header): refuse sizes it cannot use */
        if (parse_uint(a1.s, 1000000000UL, &v) || (v != 0 && v < 40)) {
            emit_error("mms: bad size '%s' (0, or at least 40)", a1.s);
        } else {
            cur_mms = (int)v;
        }
    } else if (!strcmp(c, "ping")) {
        REST(a1);
        ev_begin("pong");
        ev_strn("token", a1.s, a1.len);
        ev_end();
    } else if (!strcmp(c, "quit")) {
        ev_begin("bye");
        ev_end();
        quit = 1;
    } else if (!strcmp(c, "extrakey")) {
        ConnContext *ctx;
        unsigned long use;
        unsigned char key[OTRL_EXTRAKEY_BYTES];
        gcry_error_t err;
        WORD(a1); WORD(a2); REST(a3);
        if (parse_uint(a2.s, 0xffffffffUL, &use)) {
            emit_error("extrakey: bad use '%s'", a2.s);
        } else if ((ctx = encrypted_ctx(a1.s, c))) {
            err = otrl_message_symkey(us, &ops, NULL, ctx, (unsigned int)use,
                    (const unsigned char *)a3.s, a3.len, key);
            if (err) {
                emit_error("extrakey: otrl_message_symkey failed: %s",
                        gcry_detail(err));
            } else {
                emit_extra_key(ctx, (unsigned int)use,
                        (const unsigned char *)a3.s, a3.len, key, 1);
            }
        }
    } else if (!strcmp(c, "select")) {
        otrl_instag_t tag;
        struct selection *s;
        WORD(a1); REST_REQ(a2);
        if (parse_hex_instag(a2.s, &tag)) {
            emit_error("select: bad instance tag '%s'", a2.s);
        } else {
            for (s = selections; s && strcmp(s->peer, a1.s); s = s->next) {}
            if (!s) {
                s = calloc(1, sizeof *s);
                if (!s) { emit_error("out of memory"); goto done; }
                s->peer = strdup(a1.s);
                s->next = selections;
                selections = s;
            }
            s->instag = tag;
        }
    } else {
        emit_error("unknown command '%s'", c);
    }

done:
#undef WORD
#undef REST
#undef REST_REQ
    check_states(0);
    arg_free(&cmd); arg_free(&a1); arg_free(&a2); arg_free(&a3);
    return quit;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    struct stat sb;
    gcry_error_t err;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (argc != 4) {
        fprintf(stderr, "usage: %s ACCOUNT PROTOCOL KEYFILE\n", argv[0]);
        return 2;
    }
    account = argv[1];
    protocol = argv[2];
    keyfile = argv[3];
    if (asprintf(&instagfile, "%s.instag", keyfile) < 0) return 1;

    OTRL_INIT;
    us = otrl_userstate_create();

    memset(&ops, 0, sizeof ops);
    ops.policy = cb_policy;
    ops.create_privkey = cb_create_privkey;
    ops.is_logged_in = cb_is_logged_in;
    ops.inject_message = cb_inject_message;
    ops.update_context_list = cb_update_context_list;
    ops.new_fingerprint = cb_new_fingerprint;
    ops.write_fingerprints = cb_write_fingerprints;
    ops.gone_secure = cb_gone_secure;
    ops.gone_insecure = cb_gone_insecure;
    ops.still_secure = cb_still_secure;
    ops.max_message_size = cb_max_message_size;
    ops.account_name = cb_account_name;
    ops.account_name_free = cb_account_name_free;
    ops.received_symkey = cb_received_symkey;
    ops.otr_error_message = cb_otr_error_message;
    ops.otr_error_message_free = cb_otr_error_message_free;
    ops.resent_msg_prefix = NULL;       /* libotr's default "[resent]" */
    ops.resent_msg_prefix_free = NULL;
    ops.handle_smp_event = cb_handle_smp_event;
    ops.handle_msg_event = cb_handle_msg_event;
    ops.create_instag = cb_create_instag;
    ops.convert_msg = cb_convert_msg;
    ops.convert_free = cb_convert_free;
    ops.timer_control = cb_timer_control;

    /* private key: read it, or create the file */
    if (stat(keyfile, &sb) == 0) {
        err = otrl_privkey_read(us, keyfile);
        if (err) {
            fprintf(stderr, "cannot read key file %s: %s\n", keyfile,
                    gcry_detail(err));
            return 1;
        }
    }
    if (!otrl_privkey_find(us, account, protocol)) {
        err = otrl_privkey_generate(us, keyfile, account, protocol);
        if (err) {
            fprintf(stderr, "cannot generate key in %s: %s\n", keyfile,
                    gcry_detail(err));
            return 1;
        }
    }

    /* instance tag: read it, or create the file */
    if (stat(instagfile, &sb) == 0) {
        err = otrl_instag_read(us, instagfile);
        if (err) {
            fprintf(stderr, "cannot read %s: %s\n", instagfile, gcry_detail(err));
            return 1;
        }
    }
    if (!otrl_instag_find(us, account, protocol)) {
        err = otrl_instag_generate(us, instagfile, account, protocol);
        if (err) {
            fprintf(stderr, "cannot write %s: %s\n", instagfile, gcry_detail(err));
            return 1;
        }
    }

    emit_fingerprint("ready");

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        maybe_poll();
        if (n == 0) continue;
        if (handle_line(line)) break;
    }
    free(line);
    otrl_userstate_free(us);
    free(instagfile);
    return 0;
}
