/*
 * libotr_bench -- the libotr 4.1.x side of Padlock's benchmark (otr-bench).
 *
 *     libotr_bench WORKLOAD ITERATIONS KEYDIR
 *
 * Runs one workload ITERATIONS times between two in-memory parties, "alice"
 * and "bob" (each its own OtrlUserState, account and DSA key), and prints one
 * line of JSON:
 *
 *     {"workload":"ake","iterations":20,"seconds":0.14,"peak_heap_bytes":9184}
 *
 * WORKLOAD is keygen, ake, data-16, data-1k, data-64k, ping-pong, smp,
 * fragmented-64k, or idle-sessions (then ITERATIONS is the number of
 * sessions and the line carries "bytes_per_session").  Keys are read from
 * KEYDIR/alice.key and KEYDIR/bob.key, and generated there when missing.
 * Every workload checks its result (both sides private, every message
 * decrypted intact, SMP succeeded on both sides); a failed check prints a
 * message to stderr and exits with status 1.
 *
 * Messages never touch a socket: inject_message appends to a queue, and
 * pump() hands each queued message to the other party's
 * otrl_message_receiving until the queue is empty.
 *
 * Time: CLOCK_MONOTONIC around the measured part only.  Set-up is not
 * timed: reading keys, the AKE before a data or SMP workload, and one
 * warm-up iteration (a key, an AKE, an SMP run; three messages before a
 * data workload), so that one-time initialisation is not measured.
 *
 * Memory: this program replaces the malloc family (glibc supports that) and
 * counts the usable size (malloc_usable_size) of every live block, so it sees
 * every allocation of libotr, of libgcrypt (libotr routes libgcrypt's
 * allocator, secure memory included, through malloc) and of this harness.
 * peak_heap_bytes is the highest count during the measured part minus the
 * count when it began; for the AKE, the median over the AKEs of that
 * highest count during one AKE minus the count when it began.
 *
 * Build:
 *     cc -O2 -rdynamic libotr_bench.c $(pkg-config --cflags --libs libotr) \
 *        -o libotr_bench
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/context.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/tlv.h>

/* ------------------------------------------------------------------ */
/* heap accounting                                                     */

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static long long heap_now, heap_peak;

static void heap_add(void *p)
{
    if (p) {
        heap_now += (long long)malloc_usable_size(p);
        if (heap_now > heap_peak) heap_peak = heap_now;
    }
}

static void heap_sub(void *p)
{
    if (p) heap_now -= (long long)malloc_usable_size(p);
}

void *malloc(size_t size)
{
    void *p = __libc_malloc(size);
    heap_add(p);
    return p;
}

void free(void *ptr)
{
    heap_sub(ptr);
    __libc_free(ptr);
}

void *calloc(size_t count, size_t size)
{
    void *p = __libc_calloc(count, size);
    heap_add(p);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    long long old = ptr ? (long long)malloc_usable_size(ptr) : 0;
    void *p = __libc_realloc(ptr, size);
    if (p) {
        heap_now -= old;
        heap_add(p);
    } else if (ptr && size == 0) {
        heap_now -= old;    /* glibc's realloc(p, 0) frees p */
    }
    return p;
}

void *memalign(size_t alignment, size_t size)
{
    void *p = __libc_memalign(alignment, size);
    heap_add(p);
    return p;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    return memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    void *p = memalign(alignment, size);
    if (!p) return 12;  /* ENOMEM */
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, (size + page - 1) / page * page);
}

/* Starts a measurement: the peak is counted from here. */
static long long heap_mark(void)
{
    heap_peak = heap_now;
    return heap_now;
}

/* ------------------------------------------------------------------ */
/* errors and time                                                     */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("libotr_bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* parties and the in-memory network                                   */

#define PROTOCOL "bench"

struct party {
    const char *name;           /* our account, "alice" or "bob" */
    const char *other;          /* the prefix of our peers' names */
    struct party *peer;
    OtrlUserState us;
    int max_message_size;
    /* what happened, for the checks */
    unsigned long gone_secure;
    unsigned long received_ok;  /* decrypted and equal to `expected` */
    unsigned long received_bad; /* anything else shown to the user */
    unsigned long errors;       /* libotr message events that are errors */
    unsigned long smp_success;
    unsigned long smp_failed;
    ConnContext *smp_asked;     /* the peer asked for our secret */
};

static struct party alice = { "alice", "bob", NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL };
static struct party bob = { "bob", "alice", NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL };
static OtrlMessageAppOps ops;
static OtrlPolicy policy = OTRL_POLICY_MANUAL;
static const char *expected;    /* the text every received message must have */
static int decrypted;           /* set by convert_msg while receiving */
static FILE *devnull;

struct queued {
    struct party *to;
    char *from;
    char *text;
};

static struct queued *queue;
static size_t queue_head, queue_len, queue_cap;

/* A message from `from` to the peer `recipient` ("bob7" for alice): it
 * arrives at the other party as coming from "alice7". */
static void enqueue(struct party *from, const char *recipient, const char *text)
{
    const char *suffix = recipient + strlen(from->other);
    struct queued *q;

    if (strncmp(recipient, from->other, strlen(from->other)) != 0) {
        fail("%s sent to unknown peer %s", from->name, recipient);
    }
    if (queue_len == queue_cap) {
        queue_cap = queue_cap ? queue_cap * 2 : 64;
        queue = realloc(queue, queue_cap * sizeof *queue);
        if (!queue) fail("out of memory");
    }
    q = &queue[queue_len++];
    q->to = from->peer;
    if (asprintf(&q->from, "%s%s", from->name, suffix) < 0) fail("out of memory");
    q->text = strdup(text);
    if (!q->text) fail("out of memory");
}

/* Delivers queued messages (and whatever they cause) until none is left. */
static void pump(void)
{
    unsigned long steps = 0;

    while (queue_head < queue_len) {
        struct queued q = queue[queue_head++];
        char *newmsg = NULL;
        OtrlTLV *tlvs = NULL;
        int ignore;

        if (++steps > 1000000) fail("no quiescence");
        decrypted = 0;
        ignore = otrl_message_receiving(q.to->us, &ops, q.to, q.to->name,
                PROTOCOL, q.from, q.text, &newmsg, &tlvs, NULL, NULL, NULL);
        if (!ignore) {
            if (decrypted && newmsg && expected && !strcmp(newmsg, expected)) {
                q.to->received_ok++;
            } else {
                q.to->received_bad++;
            }
        }
        decrypted = 0;
        if (newmsg) otrl_message_free(newmsg);
        if (tlvs) otrl_tlv_free(tlvs);
        free(q.from);
        free(q.text);
    }
    queue_head = queue_len = 0;
}

/* ------------------------------------------------------------------ */
/* libotr callbacks                                                    */

static OtrlPolicy cb_policy(void *opdata, ConnContext *context)
{
    (void)opdata; (void)context;
    return policy;
}

static void cb_create_privkey(void *opdata, const char *accountname,
        const char *protocol)
{
    (void)opdata; (void)protocol;
    fail("libotr asked for a key for %s, which should exist", accountname);
}

static int cb_is_logged_in(void *opdata, const char *accountname,
        const char *protocol, const char *recipient)
{
    (void)opdata; (void)accountname; (void)protocol; (void)recipient;
    return 1;
}

static void cb_inject_message(void *opdata, const char *accountname,
        const char *protocol, const char *recipient, const char *message)
{
    (void)accountname; (void)protocol;
    if (message && *message) enqueue(opdata, recipient, message);
}

static void cb_update_context_list(void *opdata)
{
    (void)opdata;
}

static void cb_new_fingerprint(void *opdata, OtrlUserState us,
        const char *accountname, const char *protocol, const char *username,
        unsigned char fingerprint[20])
{
    (void)opdata; (void)us; (void)accountname; (void)protocol;
    (void)username; (void)fingerprint;
}

static void cb_write_fingerprints(void *opdata)
{
    (void)opdata;
}

static void cb_gone_secure(void *opdata, ConnContext *context)
{
    struct party *p = opdata;
    (void)context;
    p->gone_secure++;
}

static void cb_gone_insecure(void *opdata, ConnContext *context)
{
    (void)opdata; (void)context;
}

static void cb_still_secure(void *opdata, ConnContext *context, int is_reply)
{
    (void)opdata; (void)context; (void)is_reply;
}

static int cb_max_message_size(void *opdata, ConnContext *context)
{
    struct party *p = opdata;
    (void)context;
    return p->max_message_size;
}

static const char *cb_account_name(void *opdata, const char *account,
        const char *protocol)
{
    (void)opdata; (void)protocol;
    return strdup(account);
}

static void cb_account_name_free(void *opdata, const char *account_name)
{
    (void)opdata;
    free((char *)account_name);
}

static const char *cb_otr_error_message(void *opdata, ConnContext *context,
        OtrlErrorCode err_code)
{
    struct party *p = opdata;
    (void)context; (void)err_code;
    p->errors++;
    return "error";
}

static void cb_otr_error_message_free(void *opdata, const char *msg)
{
    (void)opdata; (void)msg;
}

static void cb_handle_smp_event(void *opdata, OtrlSMPEvent smp_event,
        ConnContext *context, unsigned short progress_percent, char *question)
{
    struct party *p = opdata;
    (void)progress_percent; (void)question;
    switch (smp_event) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        p->smp_asked = context;
        break;
    case OTRL_SMPEVENT_SUCCESS:
        p->smp_success++;
        break;
    case OTRL_SMPEVENT_IN_PROGRESS:
    case OTRL_SMPEVENT_NONE:
        break;
    default:
        p->smp_failed++;
        break;
    }
}

static void cb_handle_msg_event(void *opdata, OtrlMessageEvent msg_event,
        ConnContext *context, const char *message, gcry_error_t err)
{
    struct party *p = opdata;
    (void)context; (void)message; (void)err;
    switch (msg_event) {
    case OTRL_MSGEVENT_NONE:
    case OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD:
    case OTRL_MSGEVENT_LOG_HEARTBEAT_SENT:
        break;
    default:
        p->errors++;
        break;
    }
}

static void cb_create_instag(void *opdata, const char *accountname,
        const char *protocol)
{
    struct party *p = opdata;
    if (otrl_instag_generate_FILEp(p->us, devnull, accountname, protocol)) {
        fail("cannot make an instance tag for %s", accountname);
    }
}

static void cb_convert_msg(void *opdata, ConnContext *context,
        OtrlConvertType convert_type, char **dest, const char *src)
{
    (void)opdata; (void)context; (void)src;
    /* libotr calls this right after decrypting a data message */
    if (convert_type == OTRL_CONVERT_RECEIVING) decrypted = 1;
    *dest = NULL;
}

static void cb_convert_free(void *opdata, ConnContext *context, char *dest)
{
    (void)opdata; (void)context;
    free(dest);
}

static void cb_timer_control(void *opdata, unsigned int interval)
{
    (void)opdata; (void)interval;
}

static void init_ops(void)
{
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
    ops.otr_error_message = cb_otr_error_message;
    ops.otr_error_message_free = cb_otr_error_message_free;
    ops.handle_smp_event = cb_handle_smp_event;
    ops.handle_msg_event = cb_handle_msg_event;
    ops.create_instag = cb_create_instag;
    ops.convert_msg = cb_convert_msg;
    ops.convert_free = cb_convert_free;
    ops.timer_control = cb_timer_control;
}

/* ------------------------------------------------------------------ */
/* set-up and steps                                                    */

static void party_open(struct party *p, const char *keydir)
{
    char *keyfile;
    gcry_error_t err;

    p->us = otrl_userstate_create();
    if (asprintf(&keyfile, "%s/%s.key", keydir, p->name) < 0) fail("out of memory");
    if (access(keyfile, R_OK) == 0) {
        err = otrl_privkey_read(p->us, keyfile);
    } else {
        err = otrl_privkey_generate(p->us, keyfile, p->name, PROTOCOL);
    }
    if (err || !otrl_privkey_find(p->us, p->name, PROTOCOL)) {
        fail("cannot read or generate the key %s", keyfile);
    }
    free(keyfile);
    if (otrl_instag_generate_FILEp(p->us, devnull, p->name, PROTOCOL)) {
        fail("cannot make an instance tag for %s", p->name);
    }
}

static void party_close(struct party *p)
{
    otrl_userstate_free(p->us);
    p->us = NULL;
}

static char *peer_name(const struct party *p, unsigned long index, int indexed)
{
    char *name;
    int n = indexed ? asprintf(&name, "%s%lu", p->other, index)
                    : asprintf(&name, "%s", p->other);
    if (n < 0) fail("out of memory");
    return name;
}

static ConnContext *private_context(struct party *p, const char *peer)
{
    ConnContext *c = otrl_context_find(p->us, peer, p->name, PROTOCOL,
            OTRL_INSTAG_BEST, 0, NULL, NULL, NULL);
    return c && c->msgstate == OTRL_MSGSTATE_ENCRYPTED ? c : NULL;
}

/* `from` sends `text` to its peer `to` the way a client does: through
 * otrl_message_sending, which injects the wire message(s). */
static void send_text(struct party *from, const char *to, const char *text)
{
    char *newmsg = NULL;
    gcry_error_t err = otrl_message_sending(from->us, &ops, from, from->name,
            PROTOCOL, to, OTRL_INSTAG_BEST, text, NULL, &newmsg,
            OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
    if (err) fail("otrl_message_sending failed for %s", from->name);
    if (newmsg) otrl_message_free(newmsg);
}

/* The AKE of first contact: alice sends a query to bob<index>; done when
 * both sides are private. */
static void ake(unsigned long index, int indexed)
{
    char *to_bob = peer_name(&alice, index, indexed);
    char *to_alice = peer_name(&bob, index, indexed);
    unsigned long secure_before = alice.gone_secure + bob.gone_secure;

    send_text(&alice, to_bob, "?OTR?");
    pump();
    if (!private_context(&alice, to_bob) || !private_context(&bob, to_alice)
            || alice.gone_secure + bob.gone_secure != secure_before + 2) {
        fail("the AKE with %s did not make both sides private", to_bob);
    }
    free(to_bob);
    free(to_alice);
}

static char *make_text(size_t len)
{
    char *text = malloc(len + 1);
    size_t i;
    if (!text) fail("out of memory");
    for (i = 0; i < len; i++) text[i] = (char)('a' + i % 26);
    text[len] = '\0';
    return text;
}

static void check_clean(void)
{
    if (alice.errors || bob.errors || alice.received_bad || bob.received_bad) {
        fail("errors: alice %lu (%lu bad messages), bob %lu (%lu bad messages)",
                alice.errors, alice.received_bad, bob.errors, bob.received_bad);
    }
}

/* ------------------------------------------------------------------ */
/* workloads                                                           */

struct result {
    double seconds;
    long long peak;
};

static void keygen(void)
{
    void *newkey = NULL;
    if (otrl_privkey_generate_start(alice.us, "keygen", PROTOCOL, &newkey)
            || otrl_privkey_generate_calculate(newkey)) {
        fail("DSA key generation failed");
    }
    otrl_privkey_generate_cancelled(alice.us, newkey);
}

static struct result run_keygen(unsigned long n)
{
    struct result r = { 0, 0 };
    unsigned long i;
    long long base;
    double start;

    keygen();   /* warm-up, not measured */
    base = heap_mark();
    start = now_seconds();
    for (i = 0; i < n; i++) keygen();
    r.seconds = now_seconds() - start;
    r.peak = heap_peak - base;
    return r;
}

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static struct result run_ake(unsigned long n)
{
    struct result r = { 0, 0 };
    unsigned long i;
    long long *peaks = malloc(n * sizeof *peaks);

    if (!peaks) fail("out of memory");

    /* warm-up, not measured */
    ake(n, 1);
    otrl_context_forget_all(alice.us);
    otrl_context_forget_all(bob.us);
    for (i = 0; i < n; i++) {
        long long base = heap_mark();
        double start = now_seconds();
        ake(i, 1);
        r.seconds += now_seconds() - start;
        peaks[i] = heap_peak - base;
        /* not timed: forget both sides' contexts and fingerprints, so the
         * next AKE is a first contact too and the lists stay short */
        otrl_context_forget_all(alice.us);
        otrl_context_forget_all(bob.us);
    }
    /* the median AKE's peak, as on the Padlock side, whose engines keep
     * growing their tables of conversations */
    qsort(peaks, n, sizeof *peaks, compare_ll);
    r.peak = peaks[n / 2];
    free(peaks);
    return r;
}

/* n messages of `len` bytes from alice to bob, or alternating when
 * `ping_pong`. */
static struct result run_data(unsigned long n, size_t len, int ping_pong)
{
    struct result r = { 0, 0 };
    char *text = make_text(len);
    unsigned long i, ok_before;
    long long base;
    double start;

    ake(0, 0);
    expected = text;
    /* not timed: a message each way, so that no heartbeat is due, and one
     * more to bob so that a one-way stream starts with its keys settled */
    send_text(&alice, "bob", text);
    pump();
    send_text(&bob, "alice", text);
    pump();
    send_text(&alice, "bob", text);
    pump();
    check_clean();
    ok_before = alice.received_ok + bob.received_ok;

    base = heap_mark();
    start = now_seconds();
    for (i = 0; i < n; i++) {
        if (ping_pong && (i & 1)) {
            send_text(&bob, "alice", text);
        } else {
            send_text(&alice, "bob", text);
        }
        pump();
    }
    r.seconds = now_seconds() - start;
    r.peak = heap_peak - base;

    check_clean();
    if (alice.received_ok + bob.received_ok != ok_before + n) {
        fail("%lu of %lu messages arrived intact",
                alice.received_ok + bob.received_ok - ok_before, n);
    }
    expected = NULL;
    free(text);
    return r;
}

static const unsigned char SECRET[] = "correct horse battery staple";

/* alice starts SMP with bob, who answers with the same secret. */
static void smp(ConnContext *ctx)
{
    unsigned long alice_before = alice.smp_success, bob_before = bob.smp_success;

    bob.smp_asked = NULL;
    otrl_message_initiate_smp(alice.us, &ops, &alice, ctx, SECRET,
            sizeof SECRET - 1);
    pump();
    if (!bob.smp_asked) fail("bob was not asked for the SMP secret");
    otrl_message_respond_smp(bob.us, &ops, &bob, bob.smp_asked, SECRET,
            sizeof SECRET - 1);
    pump();
    if (alice.smp_success != alice_before + 1 || bob.smp_success != bob_before + 1) {
        fail("an SMP run did not succeed on both sides");
    }
}

static struct result run_smp(unsigned long n)
{
    struct result r = { 0, 0 };
    unsigned long i;
    long long base;
    double start;
    ConnContext *ctx;

    ake(0, 0);
    ctx = private_context(&alice, "bob");
    smp(ctx);   /* warm-up, not measured */
    base = heap_mark();
    start = now_seconds();
    for (i = 0; i < n; i++) smp(ctx);
    r.seconds = now_seconds() - start;
    r.peak = heap_peak - base;
    if (alice.smp_failed || bob.smp_failed) fail("SMP failed");
    check_clean();
    return r;
}

static struct result run_fragmented(unsigned long n)
{
    struct result r;
    alice.max_message_size = 1000;
    r = run_data(n, 65536, 0);
    alice.max_message_size = 0;
    return r;
}

/* Bytes of heap one idle private session costs alice: n first-contact
 * AKEs, then bob is freed whole, and alice's growth is divided by n. */
static double run_idle(unsigned long n, const char *keydir)
{
    unsigned long i;
    long long before;

    /* a first AKE, freed, so that one-time allocations are not counted */
    party_open(&bob, keydir);
    ake(0, 1);
    otrl_context_forget_all(alice.us);
    party_close(&bob);

    before = heap_now;
    party_open(&bob, keydir);
    for (i = 1; i <= n; i++) {
        /* bob<i> queries alice: alice answers, as a bot would */
        char *to_alice = peer_name(&bob, i, 1);
        char *to_bob = peer_name(&alice, i, 1);
        send_text(&bob, to_alice, "?OTR?");
        pump();
        if (!private_context(&alice, to_bob) || !private_context(&bob, to_alice)) {
            fail("idle session %lu is not private", i);
        }
        free(to_alice);
        free(to_bob);
    }
    party_close(&bob);
    check_clean();
    return (double)(heap_now - before) / (double)n;
}

int main(int argc, char **argv)
{
    const char *workload, *keydir;
    unsigned long n;
    char *end;
    struct result r;

    if (argc != 4) {
        fprintf(stderr, "usage: %s WORKLOAD ITERATIONS KEYDIR\n", argv[0]);
        return 2;
    }
    workload = argv[1];
    n = strtoul(argv[2], &end, 10);
    if (*end || n == 0) fail("bad iteration count '%s'", argv[2]);
    keydir = argv[3];

    devnull = fopen("/dev/null", "w");
    if (!devnull) fail("cannot open /dev/null");
    OTRL_INIT;
    init_ops();
    alice.peer = &bob;
    bob.peer = &alice;
    party_open(&alice, keydir);

    if (!strcmp(workload, "idle-sessions")) {
        double per_session = run_idle(n, keydir);
        printf("{\"workload\":\"%s\",\"iterations\":%lu,\"bytes_per_session\":%.1f}\n",
                workload, n, per_session);
        party_close(&alice);
        return 0;
    }

    party_open(&bob, keydir);
    if (!strcmp(workload, "keygen")) {
        r = run_keygen(n);
    } else if (!strcmp(workload, "ake")) {
        r = run_ake(n);
    } else if (!strcmp(workload, "data-16")) {
        r = run_data(n, 16, 0);
    } else if (!strcmp(workload, "data-1k")) {
        r = run_data(n, 1024, 0);
    } else if (!strcmp(workload, "data-64k")) {
        r = run_data(n, 65536, 0);
    } else if (!strcmp(workload, "ping-pong")) {
        r = run_data(n, 16, 1);
    } else if (!strcmp(workload, "smp")) {
        r = run_smp(n);
    } else if (!strcmp(workload, "fragmented-64k")) {
        r = run_fragmented(n);
    } else {
        fail("unknown workload '%s'", workload);
    }
    printf("{\"workload\":\"%s\",\"iterations\":%lu,\"seconds\":%.9f,\"peak_heap_bytes\":%lld}\n",
            workload, n, r.seconds, r.peak);
    party_close(&alice);
    party_close(&bob);
    return 0;
}
