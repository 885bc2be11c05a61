/*
 * tls.h - mutual TLS for clus's nng sockets, and who is calling.
 *
 * Model (docs/security.md): one cluster CA signs every certificate. The
 * subject's OU says the role:
 *   OU=node    an agent or the coordinator: serves tls+tcp:// and calls
 *              agents (may do everything, like admin);
 *   OU=admin   a client that may do everything;
 *   OU=reader  a client that may only read (status, state, LooksAlive,
 *              IsAlive, watch, types).
 * Servers demand a client certificate signed by the CA that names a role;
 * clients demand a node certificate signed by the CA whose names (SAN) hold
 * the host of the URL. A certificate that fails any of this ends the TLS
 * handshake: no call is ever read from such a peer.
 *
 * nng 1.5.2 (Debian 12) tells a pipe's user only whether its peer was
 * verified (NNG_OPT_TLS_VERIFIED), not who it is, and offers no knob for
 * ECDHE groups. So clus registers its own nng TLS engine on mbed TLS 2.28
 * (tls_engine.c): it keeps the peer's CN and role per connection, hands them
 * out through the NNG_OPT_TLS_VERIFIED query (clus_tls_peer_of_pipe), and
 * prefers X25519/P-256 (the stock engine negotiates P-521: 16 ms a
 * handshake, rpc-limits.md).
 */
#ifndef CLUS_TLS_H
#define CLUS_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUS_TLS_CN_MAX   64 /* X.520 ub-common-name */
#define CLUS_TLS_ADDR_MAX 64

typedef enum clus_role {
    CLUS_ROLE_NONE = 0, /* unknown or unverified: may do nothing */
    CLUS_ROLE_READER,
    CLUS_ROLE_ADMIN,
    CLUS_ROLE_NODE,
} clus_role;

/* "none", "reader", "admin", "node". */
const char *clus_role_name(clus_role role);

/* True when role may make a call; read_only: the call changes nothing. */
bool clus_role_allows(clus_role role, bool read_only);

/* Who sent a request. Over plain tcp:// or ipc:// nobody is authenticated:
 * the peer is admin with cn "" (loopback only, or the operator's --insecure). */
typedef struct clus_tls_peer {
    bool tls;                     /* it came over tls+tcp:// */
    clus_role role;               /* from the certificate's OU */
    char cn[CLUS_TLS_CN_MAX + 1]; /* subject CN (printable ASCII only) */
    char addr[CLUS_TLS_ADDR_MAX]; /* "ip:port" when known, else "" */
} clus_tls_peer;

/* Paths of PEM files. cert and key may be NULL for a client that has none
 * (the server then refuses it; useful only to see that happen). */
typedef struct clus_tls_files {
    const char *ca;
    const char *cert;
    const char *key;
} clus_tls_files;

/* The command-line options every program takes for these files: their
 * getopt_long ids (programs number their own options from
 * CLUS_OPT_TLS_NEXT) and table entries (needs <getopt.h>). */
enum { CLUS_OPT_TLS_CA = 1000, CLUS_OPT_TLS_CERT, CLUS_OPT_TLS_KEY, CLUS_OPT_TLS_NEXT };
#define CLUS_TLS_LONG_OPTIONS                                                                      \
    {"tls-ca", required_argument, NULL, CLUS_OPT_TLS_CA},                                          \
        {"tls-cert", required_argument, NULL, CLUS_OPT_TLS_CERT},                                  \
    {                                                                                              \
        "tls-key", required_argument, NULL, CLUS_OPT_TLS_KEY                                       \
    }

/* Stores a getopt_long result that is one of them (opt, its argument) in
 * files; false when opt is another option. */
bool clus_tls_option(int opt, const char *arg, clus_tls_files *files);

typedef struct clus_tls_identity clus_tls_identity;

/* Reads and checks files: the CA parses, the key belongs to the
 * certificate. With node (daemons), cert and key are required, the
 * certificate must be signed by the CA, valid now and say OU=node. Returns 0,
 * or 87 with the reason in err. */
uint32_t clus_tls_identity_load(const clus_tls_files *files, bool node, clus_tls_identity **out,
                                char *err, size_t errlen);
void clus_tls_identity_free(clus_tls_identity *id);

/* True when id holds a certificate (NULL holds none). */
bool clus_tls_identity_has_cert(const clus_tls_identity *id);

/* The process's identity (a daemon's node certificate, clusctl's client
 * certificate): rpc servers on tls+tcp:// and rpc clients that name no other
 * use it. Set it once at start, before any socket; NULL files clears it. */
uint32_t clus_tls_set_process_identity(const clus_tls_files *files, bool node, char *err,
                                       size_t errlen);
const clus_tls_identity *clus_tls_process_identity(void);

/* Daemons: log every refused TLS handshake (warn, repeated ones at most
 * every 10 s). Off by default, so that library users' stderr stays quiet. */
void clus_tls_log_refusals(bool on);

/* True for tls+tcp://, tls+tcp4://, tls+tcp6://. */
bool clus_url_is_tls(const char *url);

/* An nng TLS configuration with mutual authentication: server side (for a
 * listener) or client side for url's host (for a dialer). Free with
 * nng_tls_config_free once set on the listener or dialer (they hold it). */
uint32_t clus_tls_config_server(const clus_tls_identity *id, nng_tls_config **out, char *err,
                                size_t errlen);
uint32_t clus_tls_config_client(const clus_tls_identity *id, const char *url, nng_tls_config **out,
                                char *err, size_t errlen);

/* Who is at the other end of pipe (a message's nng_msg_get_pipe). A pipe
 * whose peer is gone or not verified gives CLUS_ROLE_NONE. */
void clus_tls_peer_of_pipe(nng_pipe pipe, clus_tls_peer *out);

/* Failed handshakes so far in this process, and the sentence of the last:
 * a client compares the count before and after a dial to explain its own
 * failure. */
uint64_t clus_tls_failure_count(void);

/* Handshakes this process's TLS servers completed and accepted (the rpc
 * server's listener watchdog compares it with the pipes it was given). */
uint64_t clus_tls_server_handshakes(void);
void clus_tls_last_failure(char *buf, size_t len);

#endif
