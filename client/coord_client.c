/*
 * coord_client.c - coordinator.proto frames over common/rpc_client.
 */
#include "coord_client.h"

#include "rpc_client.h"
#include "status.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct clus_coord_client {
    clus_rpc_client *rpc;
    atomic_uint_fast64_t next_id;
};

uint32_t clus_coord_connect(const char *url, uint32_t connect_ms, clus_coord_client **out,
                            char *err, size_t errlen)
{
    clus_coord_client *c = calloc(1, sizeof(*c));
    uint32_t status;

    if (c == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    status = clus_rpc_client_open(url, connect_ms, &c->rpc, err, errlen);
    if (status != CLUS_OK) {
        free(c);
        return status;
    }
    atomic_init(&c->next_id, 1);
    *out = c;
    return CLUS_OK;
}

void clus_coord_close(clus_coord_client *c)
{
    if (c == NULL)
        return;
    clus_rpc_client_close(c->rpc);
    free(c);
}

uint32_t clus_coord_call(clus_coord_client *c, Clus__V1__CoordRequest *req, uint32_t timeout_ms,
                         Clus__V1__CoordResponse **resp, char *err, size_t errlen)
{
    size_t len, reply_len = 0;
    uint8_t *frame;
    void *reply = NULL;
    uint32_t status;

    *resp = NULL;
    req->request_id = atomic_fetch_add(&c->next_id, 1); /* before sizing: it is packed */
    len = clus__v1__coord_request__get_packed_size(req);
    if ((frame = malloc(len ? len : 1)) == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus__v1__coord_request__pack(req, frame);
    status = clus_rpc_client_call_raw(c->rpc, frame, len, &reply, &reply_len, timeout_ms);
    free(frame);
    if (status == CLUS_E_TIMEOUT) {
        snprintf(err, errlen, "the coordinator did not answer within %u ms", timeout_ms);
        return status;
    }
    if (status != CLUS_OK) {
        snprintf(err, errlen, "the coordinator cannot be reached");
        return status;
    }
    *resp = clus__v1__coord_response__unpack(NULL, reply_len, reply);
    free(reply);
    if (*resp == NULL) {
        snprintf(err, errlen, "the answer is not a clus.v1.CoordResponse message");
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}
