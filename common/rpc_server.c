/*
 * rpc_server.c - nng contexts driven by aio callbacks; requests cross to the
 * loop through a mutex-guarded list and one uv_async_t.
 */
#include "rpc_server.h"
#include "log.h"
#include "status.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum call_phase { CALL_RECV, CALL_HELD, CALL_SEND };

struct clus_rpc_call {
    clus_rpc_server *server;
    nng_ctx ctx;
    nng_aio *aio;
    enum call_phase phase;
    Clus__V1__Request *request; /* decoded; freed after the reply is sent */
    nng_msg *frame;             /* raw mode: the received frame, until the reply */
    clus_rpc_call *next;        /* hand-off list link */
};

struct clus_rpc_server {
    clus_rpc_server_config config;
    nng_socket socket;
    clus_rpc_call *calls; /* config.contexts of them */
    uv_async_t wake;
    pthread_mutex_t lock; /* guards the hand-off list only */
    clus_rpc_call *head, *tail;
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
    pthread_mutex_unlock(&server->lock);
    uv_async_send(&server->wake);
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
        server->config.slow(server->config.arg, call);
    }
}

/* Decodes a received frame. Returns true when the call is held for a
 * handler; false when it was answered here (bad frame). */
static bool call_decode(clus_rpc_call *call, nng_msg *msg)
{
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
    return true;
}

static void call_on_aio(void *arg)
{
    clus_rpc_call *call = arg;
    clus_rpc_server *server = call->server;
    int rv = nng_aio_result(call->aio);

    if (call->phase == CALL_SEND) {
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(call->aio)); /* not sent: still ours */
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
    if (!call_decode(call, nng_aio_get_msg(call->aio)))
        return;
    if (server->config.fast != NULL && server->config.fast(server->config.arg, call))
        return;
    server_hand_off(server, call);
}

const Clus__V1__Request *clus_rpc_call_request(const clus_rpc_call *call)
{
    return call->request;
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
    call->phase = CALL_SEND;
    nng_aio_set_msg(call->aio, msg);
    nng_ctx_send(call->ctx, call->aio);
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
    call->phase = CALL_SEND;
    nng_aio_set_msg(call->aio, msg);
    nng_ctx_send(call->ctx, call->aio);
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
    return config->allow_insecure || clus_url_is_local(config->url) ||
           strncmp(config->url, "tls+tcp://", 10) == 0;
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
    if (server->config.contexts == 0)
        server->config.contexts = 128;
    if (server->config.max_message == 0)
        server->config.max_message = 4u << 20;
    pthread_mutex_init(&server->lock, NULL);
    uv_async_init(loop, &server->wake, server_on_wake);
    server->wake.data = server;
    status = server_open_socket(server, err, errlen);
    if (status == CLUS_OK && (status = server_open_contexts(server)) != CLUS_OK)
        snprintf(err, errlen, "cannot allocate %u nng contexts", server->config.contexts);
    if (status != CLUS_OK) {
        clus_rpc_server_stop(server);
        return status;
    }
    for (unsigned i = 0; i < server->config.contexts; i++)
        call_receive(&server->calls[i]);
    *out = server;
    return CLUS_OK;
}

static void server_on_close(uv_handle_t *handle)
{
    clus_rpc_server *server = handle->data;

    pthread_mutex_destroy(&server->lock);
    free(server);
}

void clus_rpc_server_stop(clus_rpc_server *server)
{
    nng_close(server->socket);
    for (unsigned i = 0; server->calls != NULL && i < server->config.contexts; i++) {
        clus_rpc_call *call = &server->calls[i];
        if (call->aio != NULL) {
            nng_aio_stop(call->aio);
            nng_aio_free(call->aio);
        }
        if (call->request != NULL)
            clus__v1__request__free_unpacked(call->request, NULL);
        if (call->frame != NULL)
            nng_msg_free(call->frame);
    }
    free(server->calls);
    uv_close((uv_handle_t *)&server->wake, server_on_close);
}
