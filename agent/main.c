/*
 * clus-agent - the per-node Resource Monitor. Options, signals, the loop;
 * everything else is in libclus-agent (agent.h).
 */
#include "agent.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "params.h"
#include "status.h"
#include "daemon.h"
#include "tls.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clus-agent --state-dir DIR [--listen URL] [--config FILE]\n"
            "                  [--plugin-dir DIR] [--call-bound-ms MS] [--contexts N]\n"
            "                  [--log-level debug|info|warn|error] [--insecure]\n"
            "                  [--tls-ca FILE --tls-cert FILE --tls-key FILE]\n"
            "\n"
            "Serves every resource entry point over nng (default listen %s).\n"
            "Plain tcp:// on a non-loopback address needs --insecure (use tls+tcp://).\n"
            "tls+tcp:// needs the cluster CA and this node's certificate (OU=node) and key;\n"
            "clients must then show a certificate of that CA (docs/security.md).\n"
            "SIGTERM/SIGINT stop the agent and leave resources as they are.\n",
            CLUS_AGENT_DEFAULT_URL);
}

static void stop_agent(void *agent)
{
    clus_agent_stop(agent);
}

static int parse_args(int argc, char **argv, clus_agent_file *f, const char **config_path,
                      clus_tls_files *tls)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"state-dir", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"plugin-dir", required_argument, NULL, 'p'},
                                         {"call-bound-ms", required_argument, NULL, 'b'},
                                         {"contexts", required_argument, NULL, 'n'},
                                         {"log-level", required_argument, NULL, 'v'},
                                         {"insecure", no_argument, NULL, 'i'},
                                         CLUS_TLS_LONG_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char **slot[] = {
        ['l'] = &f->listen, ['s'] = &f->state_dir, ['p'] = &f->plugin_dir, ['v'] = &f->log_level};
    int c;

    while ((c = getopt_long(argc, argv, "l:s:c:p:b:n:v:hi", opts, NULL)) != -1) {
        if (clus_tls_option(c, optarg, tls))
            continue;
        switch (c) {
        case 'i':
            f->insecure = true;
            break;
        case 'c':
            *config_path = optarg;
            break;
        case 'b':
            if (!clus_parse_u32(optarg, 600000, &f->call_bound_ms) || f->call_bound_ms == 0)
                return fprintf(stderr, "clus-agent: bad --call-bound-ms %s\n", optarg), 2;
            break;
        case 'n':
            if (!clus_parse_u32(optarg, 4096, &f->contexts) || f->contexts == 0)
                return fprintf(stderr, "clus-agent: bad --contexts %s\n", optarg), 2;
            break;
        case 'l':
        case 's':
        case 'p':
        case 'v':
            free(*slot[c]);
            *slot[c] = strdup(optarg);
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
        fprintf(stderr, "clus-agent: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* Options win over the file: fills the gaps of args from file. */
static void merge(clus_agent_file *args, clus_agent_file *file)
{
    char **a[] = {&args->listen, &args->state_dir, &args->plugin_dir, &args->log_level};
    char **b[] = {&file->listen, &file->state_dir, &file->plugin_dir, &file->log_level};

    for (int i = 0; i < 4; i++) {
        if (*a[i] == NULL) {
            *a[i] = *b[i];
            *b[i] = NULL;
        }
    }
    if (args->call_bound_ms == 0)
        args->call_bound_ms = file->call_bound_ms;
    if (args->contexts == 0)
        args->contexts = file->contexts;
}

static int run(clus_agent_file *f)
{
    static char self_exe[4096]; /* this binary: it is also the process guard */
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

    self_exe[n > 0 ? n : 0] = '\0';
    clus_agent_config config = {.listen_url = f->listen,
                                .state_dir = f->state_dir,
                                .plugin_dir = f->plugin_dir,
                                .contexts = f->contexts,
                                .call_bound_ms = f->call_bound_ms,
                                .insecure = f->insecure,
                                .guard_exe = self_exe};
    clus_agent *agent = NULL;
    uv_loop_t *loop = uv_default_loop();
    char err[512] = "";
    uint32_t status = clus_agent_start(loop, &config, &agent, err, sizeof(err));

    if (status != CLUS_OK) {
        clus_error("cannot start: %s (%s)", err, clus_status_name(status));
        return 1;
    }
    clus_daemon_run(loop, stop_agent, agent, 0);
    clus_agent_free(agent);
    uv_loop_close(loop);
    clus_info("stopped");
    return 0;
}

static int agent_main(int argc, char **argv);

/* tls+tcp:// takes this node's identity (checked now: a bad certificate is
 * a start-up error, not a refused handshake later); TLS files without a
 * TLS listener are a mistake worth saying. 0 or 2 (usage). */
static int setup_tls(const char *listen, const clus_tls_files *tls)
{
    char err[512];

    if (tls->ca == NULL && tls->cert == NULL && tls->key == NULL && !clus_url_is_tls(listen))
        return 0;
    if (!clus_url_is_tls(listen)) {
        fprintf(stderr, "clus-agent: --tls-ca/--tls-cert/--tls-key need --listen tls+tcp://\n");
        return 2;
    }
    if (clus_tls_set_process_identity(tls, true, err, sizeof(err)) != CLUS_OK) {
        fprintf(stderr, "clus-agent: %s\n", err);
        return 2;
    }
    clus_tls_log_refusals(true);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--guard") == 0)
        return clus_guard_main(argc - 1, argv + 1); /* a process resource's lease guard */
    return agent_main(argc, argv);
}

static int agent_main(int argc, char **argv)
{
    clus_agent_file args = {0}, file = {0};
    const char *config_path = NULL;
    clus_tls_files tls = {0};
    char err[512];
    int rc = parse_args(argc, argv, &args, &config_path, &tls), level;

    if (rc == 1) { /* --help */
        clus_agent_file_free(&args);
        return 0;
    }
    if (rc == 0 && config_path != NULL &&
        clus_agent_file_load(config_path, &file, err, sizeof(err)) != CLUS_OK) {
        fprintf(stderr, "clus-agent: %s\n", err);
        rc = 2;
    }
    merge(&args, &file);
    if (rc == 0 && args.state_dir == NULL) {
        fprintf(stderr, "clus-agent: --state-dir is required\n");
        usage(stderr);
        rc = 2;
    }
    level = args.log_level ? clus_log_level_parse(args.log_level) : CLUS_LOG_LEVEL_INFO;
    if (rc == 0 && level < 0) {
        fprintf(stderr, "clus-agent: unknown log level %s\n", args.log_level);
        rc = 2;
    }
    if (rc == 0)
        rc = setup_tls(args.listen, &tls);
    if (rc == 0) {
        signal(SIGPIPE, SIG_IGN);
        /* Blocking types (volume, process) share libuv's pool with nothing
         * else; give it room for slow mounts and stop timeouts. */
        setenv("UV_THREADPOOL_SIZE", "16", 0);
        clus_log_init("clus-agent", (enum clus_log_level)level);
        rc = run(&args);
    }
    clus_agent_file_free(&args);
    clus_agent_file_free(&file);
    clus_tls_set_process_identity(NULL, false, err, sizeof(err));
    return rc;
}
