/*
 * tls.c - identities (CA, certificate, key as PEM text, checked when
 * loaded), nng TLS configurations made from them, roles, and the peer of a
 * pipe. The engine under it is tls_engine.c.
 */
#include "tls.h"
#include "tls_engine.h"

#include "status.h"

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_FILE_MAX (1u << 20) /* a CA bundle larger than this is a mistake */

struct clus_tls_identity {
    char *ca;   /* PEM: the cluster CA (and any CRL appended to its file) */
    char *cert; /* PEM or NULL */
    char *key;  /* PEM or NULL */
    clus_role role;
};

static _Atomic(clus_tls_identity *) process_identity;

/* ------------------------------------------------------------ roles */

const char *clus_role_name(clus_role role)
{
    switch (role) {
    case CLUS_ROLE_READER:
        return "reader";
    case CLUS_ROLE_ADMIN:
        return "admin";
    case CLUS_ROLE_NODE:
        return "node";
    default:
        return "none";
    }
}

bool clus_role_allows(clus_role role, bool read_only)
{
    return role == CLUS_ROLE_ADMIN || role == CLUS_ROLE_NODE ||
           (role == CLUS_ROLE_READER && read_only);
}

static clus_role role_parse(const unsigned char *text, size_t len)
{
    static const struct {
        const char *name;
        clus_role role;
    } roles[] = {
        {"reader", CLUS_ROLE_READER}, {"admin", CLUS_ROLE_ADMIN}, {"node", CLUS_ROLE_NODE}};

    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strlen(roles[i].name) == len && memcmp(roles[i].name, text, len) == 0)
            return roles[i].role;
    }
    return CLUS_ROLE_NONE;
}

clus_role clus_tls_cert_role(const mbedtls_x509_crt *crt)
{
    clus_role role = CLUS_ROLE_NONE;

    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        clus_role r;
        if (n->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORG_UNIT, &n->oid) != 0)
            continue;
        if ((r = role_parse(n->val.p, n->val.len)) == CLUS_ROLE_NONE)
            continue;
        if (role != CLUS_ROLE_NONE && role != r)
            return CLUS_ROLE_NONE; /* two roles: ambiguous, so none */
        role = r;
    }
    return role;
}

/* Printable ASCII only: the CN goes into log lines and messages. */
void clus_tls_cert_cn(const mbedtls_x509_crt *crt, char *cn, size_t len)
{
    size_t n = 0;

    for (const mbedtls_x509_name *a = &crt->subject; a != NULL && len > 0; a = a->next) {
        if (a->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &a->oid) != 0)
            continue;
        for (size_t i = 0; i < a->val.len && n + 1 < len; i++) {
            unsigned char c = a->val.p[i];
            cn[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        break;
    }
    if (len > 0)
        cn[n] = '\0';
}

/* ------------------------------------------------------------ identities */

/* The whole file, NUL-terminated (mbed TLS wants the NUL counted). */
static char *pem_read(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t n = 0;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read the %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    text = malloc(PEM_FILE_MAX + 1);
    if (text != NULL)
        n = fread(text, 1, PEM_FILE_MAX + 1, f);
    if (text == NULL || ferror(f) || n > PEM_FILE_MAX || memchr(text, '\0', n) != NULL) {
        snprintf(err, errlen, "cannot read the %s %s: %s", what, path,
                 text == NULL ? "out of memory" : "unreadable, too large or not PEM text");
        free(text);
        text = NULL;
    } else {
        text[n] = '\0';
    }
    fclose(f);
    return text;
}

static uint32_t crt_parse(mbedtls_x509_crt *crt, const char *pem, const char *path,
                          const char *what, char *err, size_t errlen)
{
    if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL ||
        mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1) != 0) {
        snprintf(err, errlen, "%s: not a PEM certificate (the %s)", path, what);
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

/* A node's own certificate must be usable now: signed by the CA, in its
 * validity period, OU=node. Saying so at start beats refused handshakes. */
static uint32_t check_node_cert(mbedtls_x509_crt *crt, mbedtls_x509_crt *ca,
                                const clus_tls_files *files, char *err, size_t errlen)
{
    clus_role role = clus_tls_cert_role(crt);
    uint32_t flags = 0;
    char info[256];

    if (role != CLUS_ROLE_NODE) {
        snprintf(err, errlen,
                 "%s is %s certificate: a daemon needs a node certificate (OU=node; "
                 "scripts/pki.sh issue DIR NAME --role node)",
                 files->cert,
                 role == CLUS_ROLE_NONE    ? "not a clus role's"
                 : role == CLUS_ROLE_ADMIN ? "an admin"
                                           : "a reader");
        return CLUS_E_INVALID_PARAMETER;
    }
    if (mbedtls_x509_crt_verify(crt, ca, NULL, NULL, &flags, NULL, NULL) != 0) {
        if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
            info[0] = '\0';
        for (char *p = info; *p != '\0'; p++)
            *p = *p == '\n' ? ' ' : *p;
        snprintf(err, errlen, "%s is not valid with the CA %s: %s", files->cert, files->ca, info);
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

/* Parses what id holds; with node, also check_node_cert. */
static uint32_t identity_check(clus_tls_identity *id, const clus_tls_files *files, bool node,
                               char *err, size_t errlen)
{
    mbedtls_x509_crt ca, crt;
    mbedtls_pk_context key;
    uint32_t status;

    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    status = crt_parse(&ca, id->ca, files->ca, "cluster CA", err, errlen);
    if (status == CLUS_OK && id->cert != NULL)
        status = crt_parse(&crt, id->cert, files->cert, "certificate", err, errlen);
    if (status == CLUS_OK && id->cert != NULL &&
        mbedtls_pk_parse_key(&key, (const unsigned char *)id->key, strlen(id->key) + 1, NULL, 0) !=
            0) {
        snprintf(err, errlen, "%s: not an unencrypted PEM private key", files->key);
        status = CLUS_E_INVALID_PARAMETER;
    }
    if (status == CLUS_OK && id->cert != NULL && mbedtls_pk_check_pair(&crt.pk, &key) != 0) {
        snprintf(err, errlen, "the key %s does not belong to the certificate %s", files->key,
                 files->cert);
        status = CLUS_E_INVALID_PARAMETER;
    }
    if (status == CLUS_OK && id->cert != NULL)
        id->role = clus_tls_cert_role(&crt);
    if (status == CLUS_OK && node)
        status = check_node_cert(&crt, &ca, files, err, errlen);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
    return status;
}

static uint32_t files_complete(const clus_tls_files *files, bool node, char *err, size_t errlen)
{
    if (files->ca == NULL) {
        snprintf(err, errlen, "TLS needs the cluster CA: --tls-ca FILE");
        return CLUS_E_INVALID_PARAMETER;
    }
    if ((files->cert == NULL) != (files->key == NULL) || (node && files->cert == NULL)) {
        snprintf(err, errlen, "TLS needs both --tls-cert FILE and --tls-key FILE%s",
                 node ? " (a node certificate)" : "");
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

uint32_t clus_tls_identity_load(const clus_tls_files *files, bool node, clus_tls_identity **out,
                                char *err, size_t errlen)
{
    clus_tls_identity *id;
    uint32_t status = files_complete(files, node, err, errlen);

    if (status != CLUS_OK)
        return status;
    if ((id = calloc(1, sizeof(*id))) == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    id->ca = pem_read(files->ca, "CA file", err, errlen);
    if (id->ca != NULL && files->cert != NULL) {
        id->cert = pem_read(files->cert, "certificate", err, errlen);
        id->key = id->cert != NULL ? pem_read(files->key, "key", err, errlen) : NULL;
    }
    if (id->ca == NULL || (files->cert != NULL && (id->cert == NULL || id->key == NULL)))
        status = CLUS_E_INVALID_PARAMETER;
    else
        status = identity_check(id, files, node, err, errlen);
    if (status != CLUS_OK) {
        clus_tls_identity_free(id);
        return status;
    }
    *out = id;
    return CLUS_OK;
}

void clus_tls_identity_free(clus_tls_identity *id)
{
    if (id == NULL)
        return;
    free(id->ca);
    free(id->cert);
    if (id->key != NULL) /* a private key: do not leave it in freed memory */
        memset(id->key, 0, strlen(id->key));
    free(id->key);
    free(id);
}

bool clus_tls_identity_has_cert(const clus_tls_identity *id)
{
    return id != NULL && id->cert != NULL;
}

bool clus_tls_option(int opt, const char *arg, clus_tls_files *files)
{
    switch (opt) {
    case CLUS_OPT_TLS_CA:
        files->ca = arg;
        return true;
    case CLUS_OPT_TLS_CERT:
        files->cert = arg;
        return true;
    case CLUS_OPT_TLS_KEY:
        files->key = arg;
        return true;
    default:
        return false;
    }
}

uint32_t clus_tls_set_process_identity(const clus_tls_files *files, bool node, char *err,
                                       size_t errlen)
{
    clus_tls_identity *id = NULL;
    uint32_t status =
        files != NULL ? clus_tls_identity_load(files, node, &id, err, errlen) : CLUS_OK;

    if (status == CLUS_OK)
        clus_tls_identity_free(atomic_exchange(&process_identity, id));
    return status;
}

const clus_tls_identity *clus_tls_process_identity(void)
{
    return atomic_load(&process_identity);
}

void clus_tls_log_refusals(bool on)
{
    clus_tls_engine_log_refusals(on);
}

/* ------------------------------------------------------------ configurations */

bool clus_url_is_tls(const char *url)
{
    return url != NULL && strncmp(url, "tls+tcp", 7) == 0;
}

/* The CRL blocks of the CA file, when the operator appended any. */
static const char *ca_crl(const clus_tls_identity *id)
{
    return strstr(id->ca, "-----BEGIN X509 CRL-----") != NULL ? id->ca : NULL;
}

static uint32_t config_new(const clus_tls_identity *id, nng_tls_mode mode, const char *host,
                           nng_tls_config **out, char *err, size_t errlen)
{
    nng_tls_config *cfg = NULL;
    int rv = clus_tls_engine_install();

    if (rv != 0) {
        snprintf(err, errlen, "nng did not take clus's TLS engine: %s", nng_strerror(rv));
        return CLUS_E_NOT_SUPPORTED;
    }
    rv = nng_tls_config_alloc(&cfg, mode);
    if (rv == 0)
        rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
    if (rv == 0)
        rv = nng_tls_config_ca_chain(cfg, id->ca, ca_crl(id));
    if (rv == 0 && id->cert != NULL)
        rv = nng_tls_config_own_cert(cfg, id->cert, id->key, NULL);
    if (rv == 0 && host != NULL)
        rv = nng_tls_config_server_name(cfg, host);
    if (rv != 0) {
        snprintf(err, errlen, "cannot set up TLS: %s", nng_strerror(rv));
        if (cfg != NULL)
            nng_tls_config_free(cfg);
        return CLUS_E_INVALID_PARAMETER;
    }
    *out = cfg;
    return CLUS_OK;
}

uint32_t clus_tls_config_server(const clus_tls_identity *id, nng_tls_config **out, char *err,
                                size_t errlen)
{
    if (id == NULL || id->cert == NULL) {
        snprintf(err, errlen,
                 "tls+tcp:// needs --tls-ca, --tls-cert and --tls-key (a node "
                 "certificate of the cluster CA)");
        return CLUS_E_INVALID_PARAMETER;
    }
    return config_new(id, NNG_TLS_MODE_SERVER, NULL, out, err, errlen);
}

uint32_t clus_tls_config_client(const clus_tls_identity *id, const char *url, nng_tls_config **out,
                                char *err, size_t errlen)
{
    nng_url *u = NULL;
    uint32_t status;

    if (id == NULL) {
        snprintf(err, errlen, "%s needs the cluster CA: --tls-ca FILE (or $CLUS_TLS_CA)", url);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (nng_url_parse(&u, url) != 0) {
        snprintf(err, errlen, "%s is not a URL", url);
        return CLUS_E_INVALID_PARAMETER;
    }
    /* The server's certificate must name the host the URL names. */
    status = config_new(id, NNG_TLS_MODE_CLIENT, u->u_hostname, out, err, errlen);
    nng_url_free(u);
    return status;
}

/* ------------------------------------------------------------ peers */

void clus_tls_peer_of_pipe(nng_pipe pipe, clus_tls_peer *out)
{
    bool verified = false;
    int rv;

    memset(out, 0, sizeof(*out));
    clus_tls_engine_query(out);
    rv = nng_pipe_get_bool(pipe, NNG_OPT_TLS_VERIFIED, &verified);
    clus_tls_engine_query(NULL);
    if (rv != 0 || !verified) /* gone, or not ours: nothing allowed */
        out->role = CLUS_ROLE_NONE;
    out->tls = true;
}
