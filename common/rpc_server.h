/*
 * rpc_server.h - an nng REP server whose requests end up on a libuv loop.
 *
 * The server opens `contexts` nng contexts on one REP socket, so one slow
 * call never blocks the others. Each request is decoded on the nng thread
 * that received it (a frame that does not decode, or names no call, is
 * answered there with 87 / 1). Then:
 *   - fast(arg, call) runs on that nng thread; it may answer at once (calls
 *     that only read a snapshot) and returns true, or returns false;
 *   - otherwise the call is handed to the loop thread (one hop: a locked
 *     queue and uv_async_send) and slow(arg, call) runs there.
 * Whoever holds a call answers it exactly once with clus_rpc_reply(), from
 * any thread, now or later (long polls park calls). Until then the call's
 * context serves nothing else.
 *
 * Who calls (DESIGN.md, Security): on tls+tcp:// every peer has passed
 * mutual TLS and its certificate names a role (tls.h); each call carries
 * its peer (clus_rpc_call_peer). In the decoding mode the server itself
 * refuses (5, access denied, logged) a call the peer's role does not allow,
 * before fast or slow see it; raw-mode handlers ask clus_rpc_call_allowed().
 * Over plain tcp:// or ipc:// every caller is admin: such listeners are
 * loopback-only unless the operator passed --insecure.
 */
#ifndef CLUS_RPC_SERVER_H
#define CLUS_RPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "clus/v1/clus.pb-c.h"
#include "tls.h"

typedef struct clus_rpc_server clus_rpc_server;
typedef struct clus_rpc_call clus_rpc_call;

typedef bool (*clus_rpc_fast_fn)(void *arg, clus_rpc_call *call);
typedef void (*clus_rpc_slow_fn)(void *arg, clus_rpc_call *call);

typedef struct clus_rpc_server_config {
    const char *url;       /* tcp://127.0.0.1:7700, ipc://..., tls+tcp://... */
    unsigned contexts;     /* concurrent calls (default 128) */
    size_t max_message;    /* larger frames are dropped by nng (default 4 MiB) */
    clus_rpc_fast_fn fast; /* may be NULL */
    clus_rpc_slow_fn slow; /* required */
    void *arg;
    /* Raw mode (for servers of another envelope, e.g. the coordinator's):
     * frames are not decoded. Handlers read clus_rpc_call_frame() and answer
     * with clus_rpc_reply_frame(); clus_rpc_call_request() is NULL. */
    bool raw;
    bool allow_insecure; /* plain tcp:// on a non-loopback address (else refused) */
    /* tls+tcp://: the server's node certificate and the CA its clients'
     * certificates must come from; NULL = the process identity (tls.h). */
    const clus_tls_identity *tls;
} clus_rpc_server_config;

/* True when only this machine can reach url: ipc://, inproc://, or tcp:// on
 * 127.0.0.0/8, localhost or [::1]. */
bool clus_url_is_local(const char *url);

/* Listens and starts receiving. On failure returns a Win32 code and writes
 * why into err. Call on the loop thread. */
uint32_t clus_rpc_server_start(uv_loop_t *loop, const clus_rpc_server_config *config,
                               clus_rpc_server **out, char *err, size_t errlen);

/* Closes the socket, waits for nng's callbacks to finish and frees the
 * server. Calls not yet answered are dropped: answer or forget parked calls
 * first. Call on the loop thread. */
void clus_rpc_server_stop(clus_rpc_server *server);

/* The decoded request; owned by the call, valid until the reply. */
const Clus__V1__Request *clus_rpc_call_request(const clus_rpc_call *call);

/* Answers the call: copies request_id into resp, encodes and sends it. resp
 * stays the caller's. After this the call must not be touched. */
void clus_rpc_reply(clus_rpc_call *call, Clus__V1__Response *resp);

/* Raw mode: the received frame (valid until the reply). */
const void *clus_rpc_call_frame(const clus_rpc_call *call, size_t *len);

/* Raw mode: answers with these bytes (copied). */
void clus_rpc_reply_frame(clus_rpc_call *call, const void *data, size_t len);

/* Who sent the call (valid until the reply). */
const clus_tls_peer *clus_rpc_call_peer(const clus_rpc_call *call);

/* True when the caller's role allows the call (read_only: it changes
 * nothing). Otherwise logs who was refused what (what: the call's name) and
 * returns false: the handler then answers 5 (access denied). */
bool clus_rpc_call_allowed(const clus_rpc_call *call, bool read_only, const char *what);

/* True for the clus.v1.Request calls a reader may make: status, state,
 * LooksAlive, IsAlive, watch, the type list and Startup. */
bool clus_request_read_only(const Clus__V1__Request *request);

/* Loop thread, around a run of replies it sends in one go (a batch of
 * finished jobs): true while more replies follow this one. Such replies are
 * written to the peers' sockets by nng's threads, beside the loop, instead
 * of one after the other on it; a lone reply (false, the default) is
 * written at once, without the extra hop. The server sets it itself while
 * it hands the loop a batch of calls. */
void clus_rpc_replies_follow(bool more);

/* How many replies were sent from nng's threads (clus_rpc_replies_follow). */
uint64_t clus_rpc_server_sends_deferred(const clus_rpc_server *server);

/* Answers with only a status and a message. */
void clus_rpc_reply_status(clus_rpc_call *call, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
