/*
 * rpc_client.h - a REQ socket that sends one clus.v1.Request and waits for
 * its Response. Thread-safe: every call uses its own nng context, so many
 * threads may call at once over one connection.
 */
#ifndef CLUS_RPC_CLIENT_H
#define CLUS_RPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clus/v1/clus.pb-c.h"
#include "tls.h"

typedef struct clus_rpc_client clus_rpc_client;

/* Connects to url. With connect_ms > 0 the first connection must come up
 * within connect_ms: a refusal is 5051 at once (nobody listens), and so is
 * an address that does not answer at all, after connect_ms instead of the
 * kernel's two minutes of SYN retries. With 0 nng dials in the background
 * and calls time out until a peer is there. */
uint32_t clus_rpc_client_open(const char *url, uint32_t connect_ms, clus_rpc_client **out,
                              char *err, size_t errlen);

/* The same over tls+tcp:// with these files (NULL: the process identity,
 * tls.h); other URLs ignore files. A refused TLS handshake is 5051 with the
 * reason in err ("TLS: the server refused us: certificate expired ..."). */
uint32_t clus_rpc_client_open_tls(const char *url, uint32_t connect_ms, const clus_tls_files *files,
                                  clus_rpc_client **out, char *err, size_t errlen);

void clus_rpc_client_close(clus_rpc_client *client);

/* Sends req (request_id is set here) and waits up to timeout_ms for the
 * reply. Returns 0 with *resp set (free it with
 * clus__v1__response__free_unpacked) - the call's own status is in it - or a
 * transport error:
 *   5051 the request was never handed to a connection (none came up in
 *        time): the peer cannot have it, now or later;
 *   1460 it was handed to one and no reply came in time: the peer may have
 *        it (nng hands it to a new connection if the first one breaks);
 *   87   the peer sent something that is not a Response.
 * Either way nothing of the call is on its way after timeout_ms: the
 * request is given to a connection no later than that deadline. */
uint32_t clus_rpc_client_call(clus_rpc_client *client, Clus__V1__Request *req,
                              Clus__V1__Response **resp, uint32_t timeout_ms, char *err,
                              size_t errlen);

/* Sends raw bytes as one frame and waits for raw bytes back (the link's
 * lanes, tests and fuzz drivers). *reply is malloc'ed. Statuses as above. */
uint32_t clus_rpc_client_call_raw(clus_rpc_client *client, const void *frame, size_t len,
                                  void **reply, size_t *reply_len, uint32_t timeout_ms);

#endif
