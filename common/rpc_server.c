/*
 * rpc_server.c - nng contexts driven by aio callbacks; requests cross to the
 * loop through a mutex-guarded list and one uv_async_t.
 */
#include "rpc_server.h"
#include "clock.h"
#include "log.h"
#include "status.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum call_phase { CALL_RECV, CALL_HELD, CALL_SEND_DEFERRED, CALL_SEND };

struct clus_rpc_call {
    clus_rpc_server *server;
    nng_ctx ctx;
    nng_aio *aio;
    enum call_phase phase;
    Clus__V1__Request *request; /* decoded; freed after the reply is sent */
    nng_msg *frame;             /* raw mode: the received frame, until the reply */
    clus_tls_peer peer;         /* who sent it (fixed: admin, on plain tcp/ipc) */
    clus_rpc_call *next;        /* hand-off list link */
};

/* nng 1.5.2 stops accepting on a TLS listener for good when a peer goes
 * away during the negotiation at the wrong moment (the closed stream's
 * NNG_ECLOSED reaches the listener, which reads it as "listener closed";
 * nng issue #1518, fixed in 1.6.0). Connections then still complete their
 * handshakes but are never handed to the socket. The watchdog notices
 * handshakes without accepted pipes and restarts the listener. */
#define WATCHDOG_MS       500
#define LISTENER_STUCK_MS 2000

struct clus_rpc_server {
    clus_rpc_server_config config;
    bool tls; /* tls+tcp://: each call's peer comes from its pipe */
    nng_socket socket;
    clus_rpc_call *calls; /* config.contexts of them */
    uv_async_t wake;
    pthread_mutex_t lock; /* guards the hand-off list only */
    clus_rpc_call *head, *tail;
    atomic_uint_fast64_t handed_off;     /* calls ever handed to the loop */
    uint64_t taken;                      /* loop thread: calls it took of them */
    atomic_uint_fast64_t sends_deferred; /* replies sent from nng's threads */
    atomic_uint deferred_in_flight;      /* of those, not yet handed to nng */
    int handles_open;                    /* uv handles still to close before the memory goes */
    /* tls+tcp:// only: the listener, its configuration (held for a
     * restart) and the watchdog (loop thread; pipes_added from nng's). */
    nng_listener listener;
    nng_tls_config *tls_config;
    uv_timer_t watchdog;
    bool watchdog_on;
    atomic_uint_fast64_t pipes_added;
    uint64_t wd_added, wd_gap, wd_stuck_ms;
};

static void call_receive(clus_rpc_call *call)
{
    call->phase = CALL_RECV;
    nng_ctx_recv(call->ctx, call->aio);
}

static void server_hand_off(clus_rpc_server *server, clus_rpc_call *call)
{
    pthread_mutex_lock(&server->lock);
    call->next = NULL;
    if (server->tail != NULL)
        server->tail->next = call;
    else
        server->head = call;
    server->tail = call;
    atomic_fetch_add_explicit(&server->handed_off, 1, memory_order_relaxed);
    pthread_mutex_unlock(&server->lock);
    uv_async_send(&server->wake);
}

/* Set on a loop thread while more replies follow in the same loop turn
 * (call_send); false on every other thread. */
static _Thread_local bool replies_follow;

void clus_rpc_replies_follow(bool more)
{
    replies_follow = more;
}

static void server_on_wake(uv_async_t *handle)
{
    clus_rpc_server *server = handle->data;
    clus_rpc_call *list;

    pthread_mutex_lock(&server->lock);
    list = server->head;
    server->head = server->tail = NULL;
    pthread_mutex_unlock(&server->lock);
    while (list != NULL) {
        clus_rpc_call *call = list;
        list = list->next;
        server->taken++;
        replies_follow =
            list != NULL ||
            atomic_load_explicit(&server->handed_off, memory_order_relaxed) != server->taken;
        server->config.slow(server->config.arg, call);
    }
    replies_follow = false;
}

/* The name of the call a request makes ("online", "status", ...). */
static const char *request_call_name(const Clus__V1__Request *r)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &clus__v1__request__descriptor, (unsigned)r->call_case);

    return f != NULL ? f->name : "an unknown call";
}

bool clus_request_read_only(const Clus__V1__Request *r)
{
    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_STATUS:
    case CLUS__V1__REQUEST__CALL_STATE:
    case CLUS__V1__REQUEST__CALL_LOOKS_ALIVE:
    case CLUS__V1__REQUEST__CALL_IS_ALIVE:
    case CLUS__V1__REQUEST__CALL_WATCH:
    case CLUS__V1__REQUEST__CALL_LIST_TYPES:
    case CLUS__V1__REQUEST__CALL_STARTUP:
    case CLUS__V1__REQUEST__CALL_STARTUP_EX:
        return true;
    default:
        return false;
    }
}

/* Decoding mode: the role check for every call, before any handler (so a
 * fast path added later cannot skip it). False when answered here (5). */
static bool call_authorize(clus_rpc_call *call)
{
    const char *name = request_call_name(call->request);

    if (clus_rpc_call_allowed(call, clus_request_read_only(call->request), name))
        return true;
    if (call->peer.role == CLUS_ROLE_NONE)
        clus_rpc_reply_status(call, CLUS_E_ACCESS_DENIED,
                              "access denied: the caller could not be identified");
    else
        clus_rpc_reply_status(call, CLUS_E_ACCESS_DENIED,
                              "access denied: a %s certificate may only read; %s needs an admin "
                              "certificate",
                              clus_role_name(call->peer.role), name);
    return false;
}

/* Decodes a received frame. Returns true when the call is held for a
 * handler; false when it was answered here (bad frame, or not allowed). */
static bool call_decode(clus_rpc_call *call, nng_msg *msg)
{
    if (call->server->tls)
        clus_tls_peer_of_pipe(nng_msg_get_pipe(msg), &call->peer);
    if (call->server->config.raw) {
        call->frame = msg;
        call->phase = CALL_HELD;
        return true;
    }
    call->request = clus__v1__request__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
    nng_msg_free(msg);
    call->phase = CALL_HELD;
    if (call->request == NULL) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_PARAMETER,
                              "the request is not a valid clus.v1.Request message");
        return false;
    }
    if (call->request->call_case == CLUS__V1__REQUEST__CALL__NOT_SET) {
        clus_rpc_reply_status(call, CLUS_E_INVALID_FUNCTION,
                              "the request names no call this agent knows");
        return false;
    }
    return call_authorize(call);
}

static void call_on_aio(void *arg)
{
    clus_rpc_call *call = arg;
    clus_rpc_server *server = call->server;
    int rv = nng_aio_result(call->aio);
    nng_msg *msg;

    if (call->phase == CALL_SEND_DEFERRED) { /* call_send left us the send */
        call->phase = CALL_SEND;
        nng_ctx_send(call->ctx, call->aio);
        atomic_fetch_sub(&server->deferred_in_flight, 1); /* see clus_rpc_server_stop */
        return;
    }
    if (call->phase == CALL_SEND) {
        if (rv != 0) { /* not sent: still ours */
            nng_msg_free(nng_aio_get_msg(call->aio));
            nng_aio_set_msg(call->aio, NULL);
        }
        clus__v1__request__free_unpacked(call->request, NULL);
        call->request = NULL;
        if (call->frame != NULL) {
            nng_msg_free(call->frame);
            call->frame = NULL;
        }
        if (rv == NNG_ECLOSED)
            return;
        call_receive(call);
        return;
    }
    if (rv != 0) {
        if (rv != NNG_ECLOSED)
            call_receive(call); /* e.g. a peer went away mid-frame */
        return;
    }
    msg = nng_aio_get_msg(call->aio);
    nng_aio_set_msg(call->aio, NULL); /* the call's now: see clus_rpc_server_stop */
    if (!call_decode(call, msg))
        return;
    if (server->config.fast != NULL && server->config.fast(server->config.arg, call))
        return;
    server_hand_off(server, call);
}

/* Hands the reply to the call's context. While more replies follow on
 * this thread (a loop working through a batch: clus_rpc_replies_follow),
 * the send is left to an nng thread: nng_aio_finish completes the call's
 * aio as its own provider, and call_on_aio sends from there. The write to
 * the peer's socket, the loopback delivery and the wake-up of the reader
 * then run beside the loop instead of in series on it, the one thread
 * every call passes (docs/performance.md, P2). A lone reply is sent at
 * once: the hop would only add latency. */
static void call_send(clus_rpc_call *call, nng_msg *msg)
{
    nng_aio_set_msg(call->aio, msg);
    if (replies_follow) {
        if (!nng_aio_begin(call->aio)) { /* stopped: the server is closing */
            nng_aio_set_msg(call->aio, NULL);
            nng_msg_free(msg);
            return;
        }
        atomic_fetch_add_explicit(&call->server->sends_deferred, 1, memory_order_relaxed);
        atomic_fetch_add(&call->server->deferred_in_flight, 1);
        call->phase = CALL_SEND_DEFERRED;
        nng_aio_finish(call->aio, 0);
        return;
    }
    call->phase = CALL_SEND;
    nng_ctx_send(call->ctx, call->aio);
}

uint64_t clus_rpc_server_sends_deferred(const clus_rpc_server *server)
{
    return atomic_load_explicit(&server->sends_deferred, memory_order_relaxed);
}

const Clus__V1__Request *clus_rpc_call_request(const clus_rpc_call *call)
{
    return call->request;
}

const clus_tls_peer *clus_rpc_call_peer(const clus_rpc_call *call)
{
    return &call->peer;
}

bool clus_rpc_call_allowed(const clus_rpc_call *call, bool read_only, const char *what)
{
    const clus_tls_peer *p = &call->peer;

    if (clus_role_allows(p->role, read_only))
        return true;
    clus_warn("access denied: %s%s (role %s%s%s) called %s", p->cn[0] ? "CN=" : "",
              p->cn[0] ? p->cn : "an unidentified peer", clus_role_name(p->role),
              p->addr[0] ? ", from " : "", p->addr, what);
    return false;
}

void clus_rpc_reply(clus_rpc_call *call, Clus__V1__Response *resp)
{
    nng_msg *msg;
    size_t len;

    resp->request_id = call->request != NULL ? call->request->request_id : 0;
    len = clus__v1__response__get_packed_size(resp);
    if (nng_msg_alloc(&msg, len) != 0) {
        clus_error("rpc: out of memory for a %zu-byte reply; the caller will time out", len);
        clus__v1__request__free_unpacked(call->request, NULL);
        call->request = NULL;
        call_receive(call);
        return;
    }
    clus__v1__response__pack(resp, nng_msg_body(msg));
    call_send(call, msg);
}

const void *clus_rpc_call_frame(const clus_rpc_call *call, size_t *len)
{
    *len = call->frame != NULL ? nng_msg_len(call->frame) : 0;
    return call->frame != NULL ? nng_msg_body(call->frame) : NULL;
}

void clus_rpc_reply_frame(clus_rpc_call *call, const void *data, size_t len)
{
    nng_msg *msg;

    if (nng_msg_alloc(&msg, len) != 0) {
        clus_error("rpc: out of memory for a %zu-byte reply; the caller will time out", len);
        nng_msg_free(call->frame);
        call->frame = NULL;
        call_receive(call);
        return;
    }
    memcpy(nng_msg_body(msg), data, len);
    call_send(call, msg);
}

void clus_rpc_reply_status(clus_rpc_call *call, uint32_t status, const char *fmt, ...)
{
    Clus__V1__Response resp = CLUS__V1__RESPONSE__INIT;
    char message[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    resp.status = status;
    resp.message = message;
    clus_rpc_reply(call, &resp);
}

bool clus_url_is_local(const char *url)
{
    static const char *const local_prefixes[] = {
        "ipc://",       "inproc://",   "tcp://127.",    "tcp://localhost:",
        "tcp://[::1]:", "tcp4://127.", "tcp6://[::1]:",
    };

    for (size_t i = 0; i < sizeof(local_prefixes) / sizeof(local_prefixes[0]); i++) {
        if (strncmp(url, local_prefixes[i], strlen(local_prefixes[i])) == 0)
            return true;
    }
    return false;
}

/* Plain TCP that other machines can reach carries no authentication: only
 * with the operator's explicit --insecure (DESIGN.md, Security). */
static bool server_url_allowed(const clus_rpc_server_config *config)
{
    return config->allow_insecure || clus_url_is_local(config->url) || clus_url_is_tls(config->url);
}

/* nng's thread: a pipe joined the socket. */
static void server_on_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    clus_rpc_server *server = arg;

    (void)pipe;
    (void)ev;
    atomic_fetch_add(&server->pipes_added, 1);
}

/* A listener on the server's URL with its TLS configuration. */
static int server_listener_start(clus_rpc_server *server)
{
    int rv = nng_listener_create(&server->listener, server->socket, server->config.url);

    if (rv == 0)
        rv = nng_listener_set_ptr(server->listener, NNG_OPT_TLS_CONFIG, server->tls_config);
    if (rv == 0)
        rv = nng_listener_start(server->listener, 0);
    return rv;
}

/* Loop thread, every WATCHDOG_MS: handshakes that completed without a pipe
 * joining for LISTENER_STUCK_MS mean the listener stopped accepting (see
 * the top). A client that vanished right after its handshake looks the
 * same; restarting then costs the connected clients a reconnect. */
static void server_watchdog(uv_timer_t *timer)
{
    clus_rpc_server *server = timer->data;
    uint64_t done = clus_tls_server_handshakes(), added = atomic_load(&server->pipes_added);
    uint64_t waiting = done > added ? done - added : 0, now = clus_mono_ms();
    int rv;

    if (added != server->wd_added || waiting <= server->wd_gap) {
        server->wd_added = added; /* accepting: what is left over is old */
        server->wd_gap = waiting;
        server->wd_stuck_ms = 0;
        return;
    }
    if (server->wd_stuck_ms == 0)
        server->wd_stuck_ms = now;
    if (now - server->wd_stuck_ms < LISTENER_STUCK_MS)
        return;
    clus_warn("rpc: %s: %llu TLS handshake(s) done but no connection accepted for %d s: "
              "restarting the listener (nng 1.5.2 can stop accepting after a failed "
              "negotiation; clients reconnect)",
              server->config.url, (unsigned long long)(waiting - server->wd_gap),
              LISTENER_STUCK_MS / 1000);
    nng_listener_close(server->listener);
    if ((rv = server_listener_start(server)) != 0) {
        clus_error("rpc: %s: cannot listen again: %s (next try in %d ms)", server->config.url,
                   nng_strerror(rv), WATCHDOG_MS);
        return;
    }
    server->wd_gap = waiting;
    server->wd_stuck_ms = 0;
}

/* Listens on tls+tcp:// with mutual authentication; the server keeps the
 * configuration for the watchdog's restarts. */
static uint32_t server_listen_tls(clus_rpc_server *server, char *err, size_t errlen)
{
    const clus_tls_identity *id =
        server->config.tls != NULL ? server->config.tls : clus_tls_process_identity();
    uint32_t status = clus_tls_config_server(id, &server->tls_config, err, errlen);
    int rv;

    if (status != CLUS_OK)
        return status;
    rv = nng_pipe_notify(server->socket, NNG_PIPE_EV_ADD_POST, server_on_pipe, server);
    if (rv == 0)
        rv = server_listener_start(server);
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", server->config.url, nng_strerror(rv));
        return rv == NNG_EADDRINUSE ? CLUS_E_BUSY : CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

static uint32_t server_open_socket(clus_rpc_server *server, char *err, size_t errlen)
{
    int rv;

    if (!server_url_allowed(&server->config)) {
        snprintf(err, errlen,
                 "refusing to listen on %s: plain tcp on a non-loopback address has no "
                 "authentication; use tls+tcp:// or pass --insecure",
                 server->config.url);
        return CLUS_E_ACCESS_DENIED;
    }
    rv = nng_rep0_open(&server->socket);

    if (rv == 0)
        rv = nng_socket_set_size(server->socket, NNG_OPT_RECVMAXSZ, server->config.max_message);
    if (rv == 0 && server->tls)
        return server_listen_tls(server, err, errlen);
    if (rv == 0)
        rv = nng_listen(server->socket, server->config.url, NULL, 0);
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", server->config.url, nng_strerror(rv));
        return rv == NNG_EADDRINUSE ? CLUS_E_BUSY : CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

static uint32_t server_open_contexts(clus_rpc_server *server)
{
    server->calls = calloc(server->config.contexts, sizeof(*server->calls));
    if (server->calls == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    for (unsigned i = 0; i < server->config.contexts; i++) {
        clus_rpc_call *call = &server->calls[i];
        call->server = server;
        call->peer.role = CLUS_ROLE_ADMIN; /* plain tcp/ipc; TLS sets it per call */
        if (nng_aio_alloc(&call->aio, call_on_aio, call) != 0 ||
            nng_ctx_open(&call->ctx, server->socket) != 0)
            return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    return CLUS_OK;
}

uint32_t clus_rpc_server_start(uv_loop_t *loop, const clus_rpc_server_config *config,
                               clus_rpc_server **out, char *err, size_t errlen)
{
    clus_rpc_server *server = calloc(1, sizeof(*server));
    uint32_t status;

    if (server == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    server->config = *config;
    server->tls = clus_url_is_tls(config->url);
    if (server->config.contexts == 0)
        server->config.contexts = 128;
    if (server->config.max_message == 0)
        server->config.max_message = 4u << 20;
    pthread_mutex_init(&server->lock, NULL);
    uv_async_init(loop, &server->wake, server_on_wake);
    server->wake.data = server;
    server->handles_open = 1;
    status = server_open_socket(server, err, errlen);
    if (status == CLUS_OK && (status = server_open_contexts(server)) != CLUS_OK)
        snprintf(err, errlen, "cannot allocate %u nng contexts", server->config.contexts);
    if (status != CLUS_OK) {
        clus_rpc_server_stop(server);
        return status;
    }
    for (unsigned i = 0; i < server->config.contexts; i++)
        call_receive(&server->calls[i]);
    if (server->tls) {
        uv_timer_init(loop, &server->watchdog);
        server->watchdog.data = server;
        uv_timer_start(&server->watchdog, server_watchdog, WATCHDOG_MS, WATCHDOG_MS);
        server->watchdog_on = true;
        server->handles_open++;
    }
    *out = server;
    return CLUS_OK;
}

static void server_on_close(uv_handle_t *handle)
{
    clus_rpc_server *server = handle->data;

    if (--server->handles_open > 0)
        return;
    pthread_mutex_destroy(&server->lock);
    free(server);
}

/* Waits (at most DEFERRED_WAIT_MS) until every reply call_send left to an
 * nng thread has been handed to nng: nng 1.5.2 leaks a message that reaches
 * a pipe as the socket closes it (the transport refuses the closed aio and
 * nobody frees what is on it). */
#define DEFERRED_WAIT_MS 2000

static void server_wait_deferred(clus_rpc_server *server)
{
    uint64_t until = clus_mono_ms() + DEFERRED_WAIT_MS;

    while (atomic_load(&server->deferred_in_flight) > 0 && clus_mono_ms() < until)
        nng_msleep(1);
}

void clus_rpc_server_stop(clus_rpc_server *server)
{
    server_wait_deferred(server);
    nng_close(server->socket);
    for (unsigned i = 0; server->calls != NULL && i < server->config.contexts; i++) {
        clus_rpc_call *call = &server->calls[i];
        if (call->aio != NULL) {
            nng_aio_stop(call->aio);
            /* A reply the stop caught between the loop and an nng thread
             * (call_send) is still on the aio; every other path takes
             * the message off it. */
            if (nng_aio_get_msg(call->aio) != NULL)
                nng_msg_free(nng_aio_get_msg(call->aio));
            nng_aio_free(call->aio);
        }
        if (call->request != NULL)
            clus__v1__request__free_unpacked(call->request, NULL);
        if (call->frame != NULL)
            nng_msg_free(call->frame);
    }
    free(server->calls);
    if (server->tls_config != NULL)
        nng_tls_config_free(server->tls_config);
    if (server->watchdog_on) {
        uv_timer_stop(&server->watchdog);
        uv_close((uv_handle_t *)&server->watchdog, server_on_close);
    }
    uv_close((uv_handle_t *)&server->wake, server_on_close);
}
