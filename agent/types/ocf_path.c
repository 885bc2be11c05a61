/*
 * ocf_path.c - agent names ("provider:type"), OCF_ROOT, and where an agent
 * lives: $OCF_ROOT/resource.d/<provider>/<type>.
 *
 * A name part can never leave its directory: no '/', no "..", no leading
 * '.' or '-'. The root is an absolute path without "." or ".." components.
 * Symbolic links inside the tree are followed (distributions install some
 * agents as links); the tree is root's, like the agents themselves.
 */
#include "ocf_internal.h"

#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool ocf_part_valid(const char *part)
{
    size_t n = strlen(part);

    if (n == 0 || n > OCF_PART_MAX || part[0] == '.' || part[0] == '-' ||
        strstr(part, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)part[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '_' && c != '.' && c != '+' && c != '-')
            return false;
    }
    return true;
}

uint32_t ocf_agent_split(const char *agent, char *provider, char *type, char *err, size_t errlen)
{
    const char *colon = strchr(agent, ':');
    size_t n = colon != NULL ? (size_t)(colon - agent) : 0;

    if (strstr(agent, "..") != NULL || strchr(agent, '/') != NULL) {
        snprintf(err, errlen,
                 "agent '%.140s': '..' and '/' are not allowed (the form is provider:type)", agent);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (colon == NULL || n > OCF_PART_MAX || strlen(colon + 1) > OCF_PART_MAX) {
        snprintf(err, errlen,
                 "agent '%.140s' is not of the form provider:type (e.g. heartbeat:Dummy)", agent);
        return CLUS_E_INVALID_PARAMETER;
    }
    memcpy(provider, agent, n);
    provider[n] = '\0';
    snprintf(type, OCF_PART_MAX + 1, "%s", colon + 1);
    if (!ocf_part_valid(provider) || !ocf_part_valid(type)) {
        snprintf(err, errlen,
                 "agent '%.140s': provider and type are 1-%d characters of A-Z a-z 0-9 _ . + -, "
                 "not starting with '.' or '-'",
                 agent, OCF_PART_MAX);
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}

/* Absolute, no "." or ".." component. */
static bool root_syntax_ok(const char *root)
{
    const char *p = root;

    if (root[0] != '/' || strlen(root) > OCF_PATH_MAX - 2 * OCF_PART_MAX - 16)
        return false;
    while (*p != '\0') {
        size_t n;
        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
    }
    return true;
}

uint32_t ocf_root_check(const char *root, char *err, size_t errlen)
{
    struct stat st;

    if (!root_syntax_ok(root)) {
        snprintf(err, errlen,
                 "ocf_root '%.140s' must be an absolute path without '.' or '..' components", root);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "ocf_root '%.140s' is not a directory", root);
        return CLUS_E_FILE_NOT_FOUND;
    }
    return CLUS_OK;
}

const char *ocf_default_root(void)
{
    const char *env = getenv("OCF_ROOT");
    char err[64];

    if (env != NULL && ocf_root_check(env, err, sizeof(err)) == CLUS_OK)
        return env;
    return OCF_DEFAULT_ROOT;
}

uint32_t ocf_agent_resolve(const char *root, const char *provider, const char *type, char *path,
                           char *err, size_t errlen)
{
    struct stat st;

    if (!ocf_part_valid(provider) || !ocf_part_valid(type)) {
        snprintf(err, errlen, "agent '%.64s:%.64s' is not a valid name", provider, type);
        return CLUS_E_INVALID_PARAMETER;
    }
    if ((size_t)snprintf(path, OCF_PATH_MAX, "%s/resource.d/%s/%s", root, provider, type) >=
        OCF_PATH_MAX) {
        snprintf(err, errlen, "the path of agent %s:%s is too long", provider, type);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (stat(path, &st) != 0) {
        uint32_t status = clus_status_from_errno(errno);
        snprintf(err, errlen, "no OCF agent %s:%s (%s: %s)", provider, type, path, strerror(errno));
        return status == CLUS_E_ACCESS_DENIED ? status : CLUS_E_FILE_NOT_FOUND;
    }
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
        snprintf(err, errlen, "OCF agent %s:%s (%s) is not an executable file", provider, type,
                 path);
        return CLUS_E_ACCESS_DENIED;
    }
    return CLUS_OK;
}

/* The entries of dir in name order (scandir); n < 0 when it cannot be read. */
static int sorted_entries(const char *dir, struct dirent ***list)
{
    return scandir(dir, list, NULL, alphasort);
}

static void free_entries(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* Each executable regular file of one provider directory. */
static size_t agents_of_provider(const char *root, const char *provider, size_t max,
                                 ocf_agent_fn fn, void *arg)
{
    char dir[OCF_PATH_MAX], path[OCF_PATH_MAX];
    struct dirent **list;
    struct stat st;
    size_t found = 0;
    int n;

    snprintf(dir, sizeof(dir), "%s/resource.d/%s", root, provider);
    if ((n = sorted_entries(dir, &list)) < 0)
        return 0;
    for (int i = 0; i < n && found < max; i++) {
        if (!ocf_part_valid(list[i]->d_name) ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >= sizeof(path))
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
            continue;
        fn(arg, provider, list[i]->d_name, path);
        found++;
    }
    free_entries(list, n);
    return found;
}

size_t ocf_agents_each(const char *root, size_t max, ocf_agent_fn fn, void *arg)
{
    char dir[OCF_PATH_MAX], path[OCF_PATH_MAX];
    struct dirent **list;
    struct stat st;
    size_t found = 0;
    int n;

    snprintf(dir, sizeof(dir), "%s/resource.d", root);
    if ((n = sorted_entries(dir, &list)) < 0)
        return 0;
    for (int i = 0; i < n && found < max; i++) {
        if (!ocf_part_valid(list[i]->d_name) ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >= sizeof(path) ||
            stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        found += agents_of_provider(root, list[i]->d_name, max - found, fn, arg);
    }
    free_entries(list, n);
    return found;
}
