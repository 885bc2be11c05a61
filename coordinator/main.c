/*
 * clus-coordinator - the cluster service: options, signals, the loop;
 * everything else is in libclus-coordinator (coordinator.h).
 */
#include "coordinator.h"
#include "log.h"
#include "status.h"
#include "daemon.h"
#include "tls.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct options {
    const char *listen, *config, *state_dir, *log_level;
    bool insecure;
    clus_tls_files tls; /* the coordinator's node certificate: listening and agents */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clus-coordinator --config cluster.yaml --state-dir DIR [--listen URL]\n"
            "                        [--log-level debug|info|warn|error] [--insecure]\n"
            "                        [--tls-ca FILE --tls-cert FILE --tls-key FILE]\n"
            "\n"
            "Leases every agent of the cluster definition, places resources, restarts and\n"
            "fails them over by policy (default listen %s).\n"
            "Plain tcp:// on a non-loopback address needs --insecure (use tls+tcp://).\n"
            "The TLS files (a node certificate, OU=node) serve a tls+tcp:// listener and\n"
            "authenticate the coordinator to agents at tls+tcp:// URLs (docs/security.md).\n"
            "SIGTERM/SIGINT stop it; agents keep their resources until their leases run out.\n",
            CLUS_COORDINATOR_DEFAULT_URL);
}

enum { OPT_INSECURE = CLUS_OPT_TLS_NEXT };

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"state-dir", required_argument, NULL, 's'},
                                         {"log-level", required_argument, NULL, 'v'},
                                         {"insecure", no_argument, NULL, OPT_INSECURE},
                                         CLUS_TLS_LONG_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "l:c:s:v:h", opts, NULL)) != -1) {
        if (clus_tls_option(c, optarg, &o->tls))
            continue;
        switch (c) {
        case OPT_INSECURE:
            o->insecure = true;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'v':
            o->log_level = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "clus-coordinator: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->config == NULL || o->state_dir == NULL) {
        fprintf(stderr, "clus-coordinator: --config and --state-dir are required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static void stop_coordinator(void *co)
{
    clus_coordinator_stop(co);
}

/* The node identity serves a tls+tcp:// listener and every agent at a
 * tls+tcp:// URL; either without it is a start-up error, as are bad files. */
static uint32_t setup_tls(const struct options *o, const clus_clusterdef *def, char *err,
                          size_t errlen)
{
    bool any = o->tls.ca != NULL || o->tls.cert != NULL || o->tls.key != NULL;
    const char *needs = clus_url_is_tls(o->listen) ? o->listen : NULL;

    for (size_t i = 0; needs == NULL && i < def->n_nodes; i++)
        needs = clus_url_is_tls(def->nodes[i].agent) ? def->nodes[i].agent : NULL;
    if (needs != NULL && !any) {
        snprintf(err, errlen,
                 "%s needs TLS: give --tls-ca, --tls-cert and --tls-key (a node certificate)",
                 needs);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (!any)
        return CLUS_OK;
    clus_tls_log_refusals(true);
    return clus_tls_set_process_identity(&o->tls, true, err, errlen);
}

static int run(const struct options *o, clus_clusterdef *def)
{
    clus_coordinator_config config = {
        .listen_url = o->listen, .state_dir = o->state_dir, .insecure = o->insecure};
    uv_loop_t *loop = uv_default_loop();
    clus_coordinator *co = NULL;
    char err[512] = "";
    uint32_t status = clus_coordinator_start(loop, &config, def, &co, err, sizeof(err));

    if (status != CLUS_OK) {
        clus_error("cannot start: %s (%s)", err, clus_status_name(status));
        return 1;
    }
    /* Everything worth keeping is already in sqlite (committed as it
     * changes): should the shutdown hang (nng 1.5.2's close, docs/
     * architecture.md), SIGALRM's default action ends the process. */
    clus_daemon_run(loop, stop_coordinator, co, 10);
    clus_coordinator_free(co);
    uv_loop_close(loop);
    clus_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    clus_clusterdef *def = NULL;
    char err[512];
    int rc = parse_args(argc, argv, &o), level;

    if (rc != 0)
        return rc == 1 ? 0 : rc;
    level = o.log_level ? clus_log_level_parse(o.log_level) : CLUS_LOG_LEVEL_INFO;
    if (level < 0) {
        fprintf(stderr, "clus-coordinator: unknown log level %s\n", o.log_level);
        return 2;
    }
    if (clus_clusterdef_load(o.config, &def, err, sizeof(err)) != CLUS_OK) {
        fprintf(stderr, "clus-coordinator: %s\n", err);
        return 2;
    }
    if (setup_tls(&o, def, err, sizeof(err)) != CLUS_OK) {
        fprintf(stderr, "clus-coordinator: %s\n", err);
        clus_clusterdef_free(def);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    clus_log_init("clus-coordinator", (enum clus_log_level)level);
    rc = run(&o, def);
    clus_tls_set_process_identity(NULL, false, err, sizeof(err));
    return rc;
}
