/*
 * tls_engine.c - an nng TLS engine (nng/supplemental/tls/engine.h) on
 * mbed TLS 2.28, registered in place of nng's own (see tls.h for why).
 *
 * nng owns the framing and the TCP stream and calls these ops with the
 * connection's lock held; the engine only moves bytes through mbed TLS with
 * nng_tls_engine_send/recv. What it adds to a plain engine:
 *   - TLS 1.2 only, ECDHE with X25519/P-256/P-384, AEAD suites;
 *   - after a handshake, the peer's CN and role are kept, and policy is
 *     applied where mbed TLS has none: a server with required
 *     authentication refuses a certificate that names no role, a client
 *     refuses a server that is not a node;
 *   - the verified op also answers "who" to a thread that asked through
 *     clus_tls_engine_query (a thread-local slot), which is how a pipe's
 *     user learns its peer with nng 1.5's API;
 *   - every refused handshake is counted and explained (and logged by
 *     daemons), so that a client can say why it could not connect.
 */
#include "tls_engine.h"

#include "clock.h"
#include "log.h"

#include <nng/supplemental/tls/engine.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUSAL_WINDOW_MS 10000 /* refusal log lines: at most ... */
#define REFUSAL_BURST     20    /* ... this many per window */

struct nng_tls_engine_config {
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_x509_crl crl;
    mbedtls_x509_crt own;
    mbedtls_pk_context key;
    bool server;
    bool has_own;
    int authmode; /* MBEDTLS_SSL_VERIFY_* */
    char *host;   /* client: the name the server's certificate must hold */
};

struct nng_tls_engine_conn {
    void *nng; /* nng's TLS stream: the argument of nng_tls_engine_send/recv */
    nng_tls_engine_config *cfg;
    mbedtls_ssl_context ssl;
    bool done;                         /* handshake finished and the peer accepted */
    clus_tls_peer peer;                /* addr from the start, the rest once done */
    char seen_cn[CLUS_TLS_CN_MAX + 1]; /* the peer's leaf certificate, even if refused */
    clus_tls_pending pending;          /* the handshake's deadline (tls_pending.c) */
};

static mbedtls_entropy_context engine_entropy;
static mbedtls_ctr_drbg_context engine_drbg;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static int engine_status = NNG_ENOTSUP;
static _Thread_local clus_tls_peer *engine_slot;

/* Our peers are our own processes: TLS 1.2 AEAD suites, ECDSA first (the
 * certificates pki makes), RSA accepted for operators' own CAs. */
static const int engine_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0,
};

/* The groups offered and accepted, cheapest first (also the curves a
 * peer's EC certificate may use). */
static const mbedtls_ecp_group_id engine_curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

/* ------------------------------------------------------------ refusals */

static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t refusal_count;
static char refusal_last[512];
static uint64_t refusal_window_ms;
static unsigned refusal_logged, refusal_dropped;
static atomic_bool refusal_log;
static atomic_uint_fast64_t server_handshakes; /* accepted by servers, since start */

void clus_tls_engine_log_refusals(bool on)
{
    atomic_store(&refusal_log, on);
}

/* Counts a refused handshake and, for daemons, logs it: at most
 * REFUSAL_BURST lines per window, so that a flood of bad clients cannot
 * flood the log (the number left out is told with the next line). */
void clus_tls_engine_refusal(const char *text)
{
    uint64_t now = clus_mono_ms();
    unsigned dropped = 0;
    bool log;

    pthread_mutex_lock(&refusal_lock);
    refusal_count++;
    snprintf(refusal_last, sizeof(refusal_last), "%s", text);
    if (now - refusal_window_ms >= REFUSAL_WINDOW_MS) {
        refusal_window_ms = now;
        refusal_logged = 0;
    }
    log = atomic_load(&refusal_log) && refusal_logged < REFUSAL_BURST;
    if (log) {
        refusal_logged++;
        dropped = refusal_dropped;
        refusal_dropped = 0;
    } else if (atomic_load(&refusal_log)) {
        refusal_dropped++;
    }
    pthread_mutex_unlock(&refusal_lock);
    if (log && dropped > 0)
        clus_warn("TLS: %s (%u more refused handshakes were not logged)", text, dropped);
    else if (log)
        clus_warn("TLS: %s", text);
}

uint64_t clus_tls_server_handshakes(void)
{
    return atomic_load(&server_handshakes);
}

uint64_t clus_tls_failure_count(void)
{
    uint64_t n;

    pthread_mutex_lock(&refusal_lock);
    n = refusal_count;
    pthread_mutex_unlock(&refusal_lock);
    return n;
}

void clus_tls_last_failure(char *buf, size_t len)
{
    pthread_mutex_lock(&refusal_lock);
    snprintf(buf, len, "%s", refusal_last);
    pthread_mutex_unlock(&refusal_lock);
}

/* ------------------------------------------------------------ config ops */

static int cfg_init(nng_tls_engine_config *cfg, nng_tls_mode mode)
{
    cfg->server = mode == NNG_TLS_MODE_SERVER;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crl_init(&cfg->crl);
    mbedtls_x509_crt_init(&cfg->own);
    mbedtls_pk_init(&cfg->key);
    if (mbedtls_ssl_config_defaults(
            &cfg->conf, cfg->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
            MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        mbedtls_ssl_config_free(&cfg->conf);
        return NNG_ENOMEM;
    }
    /* nng's defaults: clients verify servers, servers ask nothing. */
    cfg->authmode = cfg->server ? MBEDTLS_SSL_VERIFY_NONE : MBEDTLS_SSL_VERIFY_REQUIRED;
    mbedtls_ssl_conf_authmode(&cfg->conf, cfg->authmode);
    mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &engine_drbg);
    mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, engine_suites);
    mbedtls_ssl_conf_curves(&cfg->conf, engine_curves);
    return 0;
}

static void cfg_fini(nng_tls_engine_config *cfg)
{
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crl_free(&cfg->crl);
    mbedtls_x509_crt_free(&cfg->own);
    mbedtls_pk_free(&cfg->key);
    free(cfg->host);
}

static int cfg_server_name(nng_tls_engine_config *cfg, const char *name)
{
    char *copy = name != NULL ? strdup(name) : NULL;

    if (name != NULL && copy == NULL)
        return NNG_ENOMEM;
    free(cfg->host);
    cfg->host = copy;
    return 0;
}

static int cfg_auth(nng_tls_engine_config *cfg, nng_tls_auth_mode mode)
{
    switch (mode) {
    case NNG_TLS_AUTH_MODE_NONE:
        cfg->authmode = MBEDTLS_SSL_VERIFY_NONE;
        break;
    case NNG_TLS_AUTH_MODE_OPTIONAL:
        cfg->authmode = MBEDTLS_SSL_VERIFY_OPTIONAL;
        break;
    case NNG_TLS_AUTH_MODE_REQUIRED:
        cfg->authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
        break;
    default:
        return NNG_EINVAL;
    }
    mbedtls_ssl_conf_authmode(&cfg->conf, cfg->authmode);
    return 0;
}

/* certs and crl are NUL-terminated PEM (mbed TLS counts the NUL). */
static int cfg_ca_chain(nng_tls_engine_config *cfg, const char *certs, const char *crl)
{
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crl_free(&cfg->crl);
    mbedtls_x509_crl_init(&cfg->crl);
    if (mbedtls_x509_crt_parse(&cfg->ca, (const unsigned char *)certs, strlen(certs) + 1) != 0)
        return NNG_EINVAL;
    if (crl != NULL &&
        mbedtls_x509_crl_parse(&cfg->crl, (const unsigned char *)crl, strlen(crl) + 1) != 0)
        return NNG_EINVAL;
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, crl != NULL ? &cfg->crl : NULL);
    return 0;
}

/* One identity per configuration: that is all clus uses. */
static int cfg_own_cert(nng_tls_engine_config *cfg, const char *cert, const char *key,
                        const char *pass)
{
    const unsigned char *pw = (const unsigned char *)pass;

    if (cfg->has_own)
        return NNG_EBUSY;
    if (mbedtls_x509_crt_parse(&cfg->own, (const unsigned char *)cert, strlen(cert) + 1) != 0 ||
        mbedtls_pk_parse_key(&cfg->key, (const unsigned char *)key, strlen(key) + 1, pw,
                             pass != NULL ? strlen(pass) : 0) != 0 ||
        mbedtls_pk_check_pair(&cfg->own.pk, &cfg->key) != 0 ||
        mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->own, &cfg->key) != 0) {
        mbedtls_x509_crt_free(&cfg->own);
        mbedtls_x509_crt_init(&cfg->own);
        mbedtls_pk_free(&cfg->key);
        mbedtls_pk_init(&cfg->key);
        return NNG_EINVAL;
    }
    cfg->has_own = true;
    return 0;
}

/* TLS 1.2 is what mbed TLS 2.28 offers (its 1.3 is experimental, off). */
static int cfg_version(nng_tls_engine_config *cfg, nng_tls_version min, nng_tls_version max)
{
    (void)cfg;
    return min <= NNG_TLS_1_2 && max >= NNG_TLS_1_2 ? 0 : NNG_ENOTSUP;
}

/* ------------------------------------------------------------ I/O */

static int bio_send(void *arg, const unsigned char *buf, size_t len)
{
    nng_tls_engine_conn *ec = arg;
    size_t n = len;
    int rv = nng_tls_engine_send(ec->nng, buf, &n);

    if (rv == 0)
        return (int)n;
    return rv == NNG_EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *arg, unsigned char *buf, size_t len)
{
    nng_tls_engine_conn *ec = arg;
    size_t n = len;
    int rv = nng_tls_engine_recv(ec->nng, buf, &n);

    if (rv == 0)
        return (int)n;
    return rv == NNG_EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ------------------------------------------------------------ explaining */

static const char *alert_name(unsigned char alert)
{
    switch (alert) {
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
        return "handshake failure (no common cipher or group, or no certificate)";
    case MBEDTLS_SSL_ALERT_MSG_NO_CERT:
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
        return "bad certificate";
    case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
        return "unsupported certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
        return "certificate revoked";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
        return "certificate expired or not yet valid";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
        return "certificate unknown";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
        return "unknown CA (the certificate is not signed by its cluster CA)";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
        return "access denied (the certificate names no role it accepts)";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
        return "protocol version (clus speaks TLS 1.2)";
    default:
        return "an alert";
    }
}

/* "certificate has expired; not signed by the trusted CA" from verify
 * flags (mbed TLS writes one line per flag). */
static void verify_text(uint32_t flags, char *buf, size_t len)
{
    char info[512], *save = NULL;
    size_t n = 0;

    if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
        snprintf(info, sizeof(info), "verification flags 0x%x", (unsigned)flags);
    buf[0] = '\0';
    for (char *line = strtok_r(info, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        int w = snprintf(buf + n, len - n, "%s%s", n > 0 ? "; " : "", line);
        if (w < 0 || (size_t)w >= len - n)
            break; /* truncated: what fits is kept */
        n += (size_t)w;
    }
    if (n == 0 && buf[0] == '\0')
        snprintf(buf, len, "verification failed");
}

/* Why a handshake failed (rv from mbed TLS), in words. */
static void conn_explain(const nng_tls_engine_conn *ec, int rv, char *buf, size_t len)
{
    const char *peer = ec->cfg->server ? "client" : "server";
    const char *hint = !ec->cfg->server && !ec->cfg->has_own
                           ? " (we sent no certificate: give --tls-cert and --tls-key)"
                           : "";
    char why[512];

    uint32_t flags = mbedtls_ssl_get_verify_result(&ec->ssl);

    /* mbed TLS reports a failed chain check as VERIFY_FAILED, a wrong key
     * usage or curve as BAD_HS_CERTIFICATE: the flags tell which. */
    if ((rv == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || rv == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE) &&
        flags != 0 && flags != UINT32_MAX) {
        verify_text(flags, why, sizeof(why));
        snprintf(buf, len, "the %s's certificate is refused: %s", peer, why);
    } else if (rv == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
        snprintf(buf, len, "the client sent no certificate");
    } else if (rv == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ec->ssl.in_msg != NULL) {
        snprintf(buf, len, "the %s refused us: %s%s", peer, alert_name(ec->ssl.in_msg[1]), hint);
    } else if (rv == MBEDTLS_ERR_NET_RECV_FAILED || rv == MBEDTLS_ERR_SSL_CONN_EOF) {
        snprintf(buf, len, "the %s closed the connection during the handshake%s", peer, hint);
    } else {
        mbedtls_strerror(rv, why, sizeof(why));
        snprintf(buf, len, "handshake failed: %s", why);
    }
}

/* Counts and tells a refused handshake, with who and where. */
static void conn_refused(const nng_tls_engine_conn *ec, const char *why)
{
    char text[512];
    const char *cn = ec->peer.cn[0] ? ec->peer.cn : ec->seen_cn;

    if (ec->cfg->server)
        snprintf(text, sizeof(text), "refused a client%s%s%s%s%s: %s",
                 ec->peer.addr[0] ? " at " : "", ec->peer.addr, cn[0] ? " (CN=" : "", cn,
                 cn[0] ? ")" : "", why);
    else
        snprintf(text, sizeof(text), "no connection to %s%s%s%s: %s",
                 ec->cfg->host ? ec->cfg->host : "the server", cn[0] ? " (CN=" : "", cn,
                 cn[0] ? ")" : "", why);
    clus_tls_engine_refusal(text);
}

/* ------------------------------------------------------------ conn ops */

/* nng 1.5 passes the engine its TLS stream object, an nng_stream whose
 * options reach the TCP connection under it (checked against Debian's
 * 1.5.2): both addresses, for the log lines and the handshake deadline.
 * True when the object answered like that stream. */
static bool conn_note_addr(nng_tls_engine_conn *ec)
{
    nng_sockaddr sa;
    char ip[INET6_ADDRSTRLEN] = "";

    if (nng_stream_get_addr((nng_stream *)ec->nng, NNG_OPT_REMADDR, &sa) != 0 ||
        nng_stream_get_addr((nng_stream *)ec->nng, NNG_OPT_LOCADDR, &ec->pending.local) != 0)
        return false;
    ec->pending.remote = sa;
    if (sa.s_family == NNG_AF_INET) {
        inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
        snprintf(ec->peer.addr, sizeof(ec->peer.addr), "%s:%u", ip, ntohs(sa.s_in.sa_port));
    } else if (sa.s_family == NNG_AF_INET6) {
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
        snprintf(ec->peer.addr, sizeof(ec->peer.addr), "[%s]:%u", ip, ntohs(sa.s_in6.sa_port));
    }
    return sa.s_family == NNG_AF_INET || sa.s_family == NNG_AF_INET6;
}

/* Gives the handshake its deadline (see tls_engine.h). */
static void conn_deadline(nng_tls_engine_conn *ec)
{
    char what[160];

    if (ec->cfg->server)
        snprintf(what, sizeof(what), "a client at %s", ec->peer.addr);
    else
        snprintf(what, sizeof(what), "the server at %s (%s)", ec->cfg->host ? ec->cfg->host : "?",
                 ec->peer.addr);
    (void)clus_tls_pending_add(&ec->pending, what);
}

/* mbed TLS's verify callback: remembers the leaf's CN for the log, also
 * when the certificate is refused. Changes no flag. */
static int conn_on_verify(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    nng_tls_engine_conn *ec = arg;

    (void)flags;
    if (depth == 0)
        clus_tls_cert_cn(crt, ec->seen_cn, sizeof(ec->seen_cn));
    return 0;
}

static int conn_init(nng_tls_engine_conn *ec, void *nng, nng_tls_engine_config *cfg)
{
    ec->nng = nng;
    ec->cfg = cfg;
    mbedtls_ssl_init(&ec->ssl);
    if (mbedtls_ssl_setup(&ec->ssl, &cfg->conf) != 0 ||
        (cfg->host != NULL && mbedtls_ssl_set_hostname(&ec->ssl, cfg->host) != 0)) {
        mbedtls_ssl_free(&ec->ssl);
        return NNG_ENOMEM;
    }
    mbedtls_ssl_set_bio(&ec->ssl, ec, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_verify(&ec->ssl, conn_on_verify, ec);
    ec->peer.tls = true;
    if (conn_note_addr(ec))
        conn_deadline(ec);
    return 0;
}

static void conn_fini(nng_tls_engine_conn *ec)
{
    clus_tls_pending_fini(&ec->pending);
    mbedtls_ssl_free(&ec->ssl);
}

static void conn_close(nng_tls_engine_conn *ec)
{
    if (ec->done)
        (void)mbedtls_ssl_close_notify(&ec->ssl);
}

/* A handshake that mbed TLS accepted: clus's policy on the peer's role
 * (only when authentication is required: that is how clus configures its
 * sockets). 0, or NNG_EPEERAUTH after telling the peer. */
static int conn_accept(nng_tls_engine_conn *ec)
{
    const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&ec->ssl);
    char why[160] = "";

    if (crt != NULL) {
        ec->peer.role = clus_tls_cert_role(crt);
        clus_tls_cert_cn(crt, ec->peer.cn, sizeof(ec->peer.cn));
    }
    if (ec->cfg->authmode == MBEDTLS_SSL_VERIFY_REQUIRED) {
        if (ec->cfg->server && ec->peer.role == CLUS_ROLE_NONE)
            snprintf(why, sizeof(why),
                     "its certificate names no clus role (the subject's OU must be admin, reader "
                     "or node)");
        else if (!ec->cfg->server && ec->peer.role != CLUS_ROLE_NODE)
            snprintf(why, sizeof(why),
                     "its certificate is a %s certificate, not a node certificate",
                     clus_role_name(ec->peer.role));
    }
    if (why[0] != '\0') {
        (void)mbedtls_ssl_send_alert_message(&ec->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                             MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED);
        conn_refused(ec, why);
        return NNG_EPEERAUTH;
    }
    ec->done = true;
    if (ec->cfg->server)
        atomic_fetch_add(&server_handshakes, 1);
    return 0;
}

static int conn_handshake(nng_tls_engine_conn *ec)
{
    char why[512];
    int rv = mbedtls_ssl_handshake(&ec->ssl);

    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    clus_tls_pending_done(&ec->pending);
    if (rv == 0)
        return conn_accept(ec);
    conn_explain(ec, rv, why, sizeof(why));
    conn_refused(ec, why);
    return rv == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || rv == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE ||
                   rv == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
                   rv == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
               ? NNG_EPEERAUTH
               : NNG_ECRYPTO;
}

static int conn_recv(nng_tls_engine_conn *ec, uint8_t *buf, size_t *len)
{
    int rv = mbedtls_ssl_read(&ec->ssl, buf, *len);

    if (rv > 0) {
        *len = (size_t)rv;
        return 0;
    }
    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    return rv == 0 || rv == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? NNG_ECLOSED : NNG_ECRYPTO;
}

static int conn_send(nng_tls_engine_conn *ec, const uint8_t *buf, size_t *len)
{
    int rv = mbedtls_ssl_write(&ec->ssl, buf, *len);

    if (rv > 0) {
        *len = (size_t)rv;
        return 0;
    }
    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    return NNG_ECRYPTO;
}

/* Answers NNG_OPT_TLS_VERIFIED, on the asking thread: so the thread's
 * query slot (if any) gets the peer too. */
static bool conn_verified(nng_tls_engine_conn *ec)
{
    bool verified = ec->done && mbedtls_ssl_get_verify_result(&ec->ssl) == 0;

    if (engine_slot != NULL && verified)
        *engine_slot = ec->peer;
    return verified;
}

void clus_tls_engine_query(clus_tls_peer *slot)
{
    engine_slot = slot;
}

/* ------------------------------------------------------------ registration */

static nng_tls_engine_config_ops engine_config_ops = {
    .size = sizeof(nng_tls_engine_config),
    .init = cfg_init,
    .fini = cfg_fini,
    .server = cfg_server_name,
    .auth = cfg_auth,
    .ca_chain = cfg_ca_chain,
    .own_cert = cfg_own_cert,
    .version = cfg_version,
};

static nng_tls_engine_conn_ops engine_conn_ops = {
    .size = sizeof(nng_tls_engine_conn),
    .init = conn_init,
    .fini = conn_fini,
    .close = conn_close,
    .handshake = conn_handshake,
    .recv = conn_recv,
    .send = conn_send,
    .verified = conn_verified,
};

static const nng_tls_engine clus_engine = {
    .version = NNG_TLS_ENGINE_VERSION,
    .config_ops = &engine_config_ops,
    .conn_ops = &engine_conn_ops,
    .name = "clus-mbedtls",
    .description = "clus: mbed TLS 2.28 with peer roles",
    .fips_mode = false,
};

static void engine_setup(void)
{
    static const unsigned char personal[] = "clus-tls";
    nng_tls_config *probe;

    mbedtls_entropy_init(&engine_entropy);
    mbedtls_ctr_drbg_init(&engine_drbg);
    if (mbedtls_ctr_drbg_seed(&engine_drbg, mbedtls_entropy_func, &engine_entropy, personal,
                              sizeof(personal) - 1) != 0) {
        engine_status = NNG_ECRYPTO;
        return;
    }
    /* nng registers its stock engine when it initializes itself, which a
     * configuration's allocation makes sure of: only then replace it. */
    if (nng_tls_config_alloc(&probe, NNG_TLS_MODE_CLIENT) == 0)
        nng_tls_config_free(probe);
    engine_status = nng_tls_engine_register(&clus_engine);
    if (engine_status == 0 && strcmp(nng_tls_engine_name(), clus_engine.name) != 0)
        engine_status = NNG_ENOTSUP;
}

int clus_tls_engine_install(void)
{
    pthread_once(&engine_once, engine_setup);
    return engine_status;
}
