#include "rpc_client.h"
#include "status.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clus_rpc_client {
    nng_socket socket;
    atomic_uint_fast64_t next_id;
};

uint32_t clus_rpc_client_open(const char *url, bool wait_connect, clus_rpc_client **out, char *err,
                              size_t errlen)
{
    clus_rpc_client *client = calloc(1, sizeof(*client));
    int rv;

    if (client == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    rv = nng_req0_open(&client->socket);
    if (rv == 0) {
        /* No silent re-sends: Online/Offline are not idempotent. */
        nng_socket_set_ms(client->socket, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
        nng_socket_set_ms(client->socket, NNG_OPT_RECONNMINT, 20);
        nng_socket_set_ms(client->socket, NNG_OPT_RECONNMAXT, 500);
        nng_socket_set_size(client->socket, NNG_OPT_RECVMAXSZ, 64u << 20);
        rv = nng_dial(client->socket, url, NULL, wait_connect ? 0 : NNG_FLAG_NONBLOCK);
    }
    if (rv != 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", url, nng_strerror(rv));
        nng_close(client->socket);
        free(client);
        return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP || rv == NNG_EINVAL
                   ? CLUS_E_INVALID_PARAMETER
                   : CLUS_E_CLUSTER_NODE_UNREACHABLE;
    }
    atomic_init(&client->next_id, ((uint64_t)rand() << 20) | 1);
    *out = client;
    return CLUS_OK;
}

void clus_rpc_client_close(clus_rpc_client *client)
{
    if (client == NULL)
        return;
    nng_close(client->socket);
    free(client);
}

uint32_t clus_rpc_client_call_raw(clus_rpc_client *client, const void *frame, size_t len,
                                  void **reply, size_t *reply_len, uint32_t timeout_ms)
{
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *msg = NULL;
    int rv = nng_ctx_open(&ctx, client->socket);

    if (rv != 0)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0)
        rv = nng_msg_alloc(&msg, len);
    if (rv == 0) {
        memcpy(nng_msg_body(msg), frame, len);
        nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
        nng_aio_set_msg(aio, msg);
        nng_ctx_send(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv != 0)
            nng_msg_free(msg);
    }
    if (rv == 0) {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    if (rv == 0) {
        msg = nng_aio_get_msg(aio);
        *reply_len = nng_msg_len(msg);
        *reply = malloc(*reply_len ? *reply_len : 1);
        if (*reply != NULL)
            memcpy(*reply, nng_msg_body(msg), *reply_len);
        nng_msg_free(msg);
        rv = *reply == NULL ? NNG_ENOMEM : 0;
    }
    if (aio != NULL)
        nng_aio_free(aio);
    nng_ctx_close(ctx);
    if (rv == NNG_ETIMEDOUT)
        return CLUS_E_TIMEOUT;
    if (rv == NNG_ENOMEM)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    return rv == 0 ? CLUS_OK : CLUS_E_CLUSTER_NODE_UNREACHABLE;
}

uint32_t clus_rpc_client_call(clus_rpc_client *client, Clus__V1__Request *req,
                              Clus__V1__Response **resp, uint32_t timeout_ms, char *err,
                              size_t errlen)
{
    size_t len, reply_len = 0;
    uint8_t *frame;
    void *reply = NULL;
    uint32_t status;

    req->request_id = atomic_fetch_add(&client->next_id, 1);
    len = clus__v1__request__get_packed_size(req);
    frame = malloc(len ? len : 1);
    if (frame == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus__v1__request__pack(req, frame);
    status = clus_rpc_client_call_raw(client, frame, len, &reply, &reply_len, timeout_ms);
    free(frame);
    if (status == CLUS_E_TIMEOUT) {
        snprintf(err, errlen, "no reply within %u ms", timeout_ms);
        return status;
    }
    if (status != CLUS_OK) {
        snprintf(err, errlen, "the peer cannot be reached");
        return status;
    }
    *resp = clus__v1__response__unpack(NULL, reply_len, reply);
    free(reply);
    if (*resp == NULL) {
        snprintf(err, errlen, "the reply is not a valid clus.v1.Response message");
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}
