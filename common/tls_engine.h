/*
 * tls_engine.h - internal to common/tls*.c: clus's nng TLS engine (mbed TLS
 * 2.28) and the certificate helpers it shares with tls.c.
 */
#ifndef CLUS_TLS_ENGINE_H
#define CLUS_TLS_ENGINE_H

#include "tls.h"

#include <nng/nng.h>

#include <mbedtls/x509_crt.h>

#include <stdbool.h>
#include <stdint.h>

/* Registers the engine with nng, once per process (later calls return the
 * first result). 0, or an nng error when nng would not take it. */
int clus_tls_engine_install(void);

/* While slot is set, the engine's answer to an NNG_OPT_TLS_VERIFIED query on
 * this thread also copies the connection's peer into *slot (NULL: stop). */
void clus_tls_engine_query(clus_tls_peer *slot);

void clus_tls_engine_log_refusals(bool on);

/* Counts a refused or dropped handshake; daemons log it (rate-limited). */
void clus_tls_engine_refusal(const char *text);

/* ---- handshake deadlines (tls_pending.c)
 *
 * nng 1.5.2 bounds the SP negotiation of a connection but not a TLS
 * handshake that waits for a silent peer (its timeout does not reach the
 * TLS layer's pending I/O). Such a connection would live for ever: a
 * stopped server wedges a client's dial, and anyone who can open TCP
 * connections to a listener can pile them up. So every connection's
 * handshake is listed here with a deadline, and a reaper thread ends the
 * connection when the deadline passes or when more than
 * CLUS_TLS_PENDING_MAX handshakes are pending (the oldest first).
 *
 * It ends it by shutting its TCP socket down (found by its two addresses),
 * not by nng_stream_close: nng reads the NNG_ECLOSED that a closed stream
 * reports as "the endpoint was closed", and a listener would stop
 * accepting, a dialer stop redialling. A shut-down socket reads as a peer
 * that hung up, which both survive. */
#define CLUS_TLS_HANDSHAKE_MS 10000
#define CLUS_TLS_PENDING_MAX  256

typedef struct clus_tls_pending {
    nng_sockaddr local, remote; /* the TCP connection's, to find its socket */
    char what[160];             /* "a client at ADDR" / "the server at HOST", for the log */
    uint64_t deadline_ms;
    bool listed;   /* in the list (guarded by the list's lock) */
    bool evicting; /* the reaper is closing it: its memory must stay */
    struct clus_tls_pending *prev, *next;
} clus_tls_pending;

/* Lists p (its handshake starts now; p->local and p->remote are set).
 * false when the reaper thread cannot run: then there is no deadline. */
bool clus_tls_pending_add(clus_tls_pending *p, const char *what);
/* The handshake ended (either way): no deadline any more. */
void clus_tls_pending_done(clus_tls_pending *p);
/* Before the connection's memory goes: waits for a closing in progress. */
void clus_tls_pending_fini(clus_tls_pending *p);

/* The role the subject's OU names (NONE when none, or when two OUs name
 * different roles), and its CN as printable ASCII. */
clus_role clus_tls_cert_role(const mbedtls_x509_crt *crt);
void clus_tls_cert_cn(const mbedtls_x509_crt *crt, char *cn, size_t len);

#endif
