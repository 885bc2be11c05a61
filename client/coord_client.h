/*
 * coord_client.h - a small synchronous client for clus-coordinator
 * (coordinator.proto) over common/rpc_client's raw frames. Thread-safe like
 * the rpc client under it.
 */
#ifndef CLUS_COORD_CLIENT_H
#define CLUS_COORD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "clus/v1/coordinator.pb-c.h"

typedef struct clus_coord_client clus_coord_client;

/* Connects to url now: 5051 with a sentence in err when nobody listens or
 * no connection came up within connect_ms. */
uint32_t clus_coord_connect(const char *url, uint32_t connect_ms, clus_coord_client **out,
                            char *err, size_t errlen);
void clus_coord_close(clus_coord_client *client);

/* Sends req (its request_id is set here) and waits up to timeout_ms.
 * Returns 0 with *resp (free with clus__v1__coord_response__free_unpacked;
 * the call's own status is inside), or a transport error with a sentence
 * in err: 1460 no answer in time, 5051 unreachable, 87 the answer is not a
 * CoordResponse. */
uint32_t clus_coord_call(clus_coord_client *client, Clus__V1__CoordRequest *req,
                         uint32_t timeout_ms, Clus__V1__CoordResponse **resp, char *err,
                         size_t errlen);

#endif
