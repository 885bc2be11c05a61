/*
 * echo_server.c - the bare baseline: an nng REP server with N contexts, each
 * driven by its own aio callback, that sends every request straight back.
 * The same socket shape as clus-agent's rpc server, minus everything clus
 * does (decode, the hop to the loop, the state machine, encode).
 *
 *   bench-echo-server URL [CONTEXTS [REPLY_BYTES]]
 * With REPLY_BYTES the answer is that many bytes (the size of the agent's
 * answer to the same request), else the request itself.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct echo_ctx {
    nng_ctx ctx;
    nng_aio *aio;
    int sending;
};

static size_t reply_bytes; /* 0: echo the request */

static void echo_cb(void *arg)
{
    struct echo_ctx *e = arg;

    if (nng_aio_result(e->aio) != 0) {
        if (e->sending)
            nng_msg_free(nng_aio_get_msg(e->aio));
        if (nng_aio_result(e->aio) == NNG_ECLOSED)
            return;
        e->sending = 0;
        nng_ctx_recv(e->ctx, e->aio);
        return;
    }
    if (e->sending) {
        e->sending = 0;
        nng_ctx_recv(e->ctx, e->aio);
        return;
    }
    e->sending = 1;
    if (reply_bytes > 0) {
        nng_msg *msg = nng_aio_get_msg(e->aio);
        nng_msg_realloc(msg, reply_bytes);
        nng_aio_set_msg(e->aio, msg);
    }
    nng_ctx_send(e->ctx, e->aio);
}

int main(int argc, char **argv)
{
    nng_socket sock;
    int n = argc > 2 ? atoi(argv[2]) : 128;
    struct echo_ctx *ctxs;
    sigset_t set;
    int sig;

    if (argc > 3)
        reply_bytes = (size_t)atol(argv[3]);
    if (argc < 2 || n <= 0) {
        fprintf(stderr, "usage: bench-echo-server URL [CONTEXTS [REPLY_BYTES]]\n");
        return 2;
    }
    ctxs = calloc((size_t)n, sizeof(*ctxs));
    if (ctxs == NULL || nng_rep0_open(&sock) != 0 || nng_listen(sock, argv[1], NULL, 0) != 0) {
        fprintf(stderr, "bench-echo-server: cannot listen on %s\n", argv[1]);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i]);
        nng_ctx_open(&ctxs[i].ctx, sock);
        nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    nng_close(sock);
    for (int i = 0; i < n; i++)
        nng_aio_free(ctxs[i].aio);
    free(ctxs);
    return 0;
}
