#include "names.h"
#include "params.h"
#include "status.h"

#include <clus/restype.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct named_value {
    const char *name;
    uint32_t value;
};

static const struct named_value online_flags[] = {
    {"recover-monitor-state", CLUS_ONLINE_RECOVER_MONITOR_STATE},
    {"ignore-resource-status", CLUS_ONLINE_IGNORE_RESOURCE_STATUS},
    {"return-to-source", CLUS_ONLINE_RETURN_TO_SOURCE_NODE_ON_ERR},
    {"restore-online-state", CLUS_ONLINE_RESTORE_ONLINE_STATE},
    {"ignore-network-connectivity", CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY},
    {NULL, 0},
};

static const struct named_value offline_flags[] = {
    {"ignore-resource-status", CLUS_OFFLINE_IGNORE_RESOURCE_STATUS},
    {"return-to-source", CLUS_OFFLINE_RETURN_TO_SOURCE_NODE_ON_ERROR},
    {"queue-enabled", CLUS_OFFLINE_QUEUE_ENABLED},
    {"returning-to-source", CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR},
    {"due-to-embedded-failure", CLUS_OFFLINE_DUE_TO_EMBEDDED_FAILURE},
    {"ignore-network-connectivity", CLUS_OFFLINE_IGNORE_NETWORK_CONNECTIVITY},
    {"do-not-update-persistent-state", CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE},
    {NULL, 0},
};

static const struct named_value open_flags[] = {
    {"recover-monitor-state", CLUS_OPEN_RECOVER_MONITOR_STATE},
    {"dont-delete-temp-disk", CLUS_OPEN_DONT_DELETE_TEMP_DISK},
    {NULL, 0},
};

static const struct named_value control_codes[] = {
    {"UNKNOWN", CLUSCTL_RESOURCE_UNKNOWN},
    {"GET_CHARACTERISTICS", CLUSCTL_RESOURCE_GET_CHARACTERISTICS},
    {"GET_FLAGS", CLUSCTL_RESOURCE_GET_FLAGS},
    {"GET_CLASS_INFO", CLUSCTL_RESOURCE_GET_CLASS_INFO},
    {"GET_NAME", CLUSCTL_RESOURCE_GET_NAME},
    {"GET_RESOURCE_TYPE", CLUSCTL_RESOURCE_GET_RESOURCE_TYPE},
    {"ENUM_COMMON_PROPERTIES", CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES},
    {"GET_RO_COMMON_PROPERTIES", CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES},
    {"GET_COMMON_PROPERTIES", CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES},
    {"SET_COMMON_PROPERTIES", CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES},
    {"VALIDATE_COMMON_PROPERTIES", CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES},
    {"ENUM_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES},
    {"GET_RO_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES},
    {"GET_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES},
    {"SET_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES},
    {"VALIDATE_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES},
    {"STATE_CHANGE_REASON", CLUSCTL_RESOURCE_STATE_CHANGE_REASON},
    {"STORAGE_GET_DISK_INFO", CLUSCTL_RESOURCE_STORAGE_GET_DISK_INFO},
    {"VOLUME_READ", CLUSCTL_RESOURCE_VOLUME_READ},
    {"VOLUME_WRITE", CLUSCTL_RESOURCE_VOLUME_WRITE},
    {"VOLUME_GET_INFO", CLUSCTL_RESOURCE_VOLUME_GET_INFO},
    {"VOLUME_IS_OFFLINE", CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE},
    {NULL, 0},
};

static const struct named_value type_control_codes[] = {
    {"UNKNOWN", CLUSCTL_RESOURCE_TYPE_UNKNOWN},
    {"GET_CHARACTERISTICS", CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS},
    {"GET_ARB_TIMEOUT", CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT},
    {"GET_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTIES},
    {"SET_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_TYPE_SET_PRIVATE_PROPERTIES},
    {"VALIDATE_PRIVATE_PROPERTIES", CLUSCTL_RESOURCE_TYPE_VALIDATE_PRIVATE_PROPS},
    {"GET_METADATA", CLUSCTL_RESOURCE_TYPE_GET_METADATA},
    {"META-DATA", CLUSCTL_RESOURCE_TYPE_GET_METADATA},
    {NULL, 0},
};

bool clus_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > CLUS_NAME_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return false;
    }
    return true;
}

/* The length of the UTF-8 sequence at p (n bytes left), 0 when malformed. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xc2 && c <= 0xdf ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;

    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    }
    /* Overlong 3- and 4-byte forms, UTF-16 surrogates, above U+10FFFF. */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

bool clus_utf8_valid(const char *text, size_t len, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, step;

    while (i < len) {
        if ((step = utf8_sequence(p + i, len - i)) == 0) {
            *bad_at = i;
            return false;
        }
        i += step;
    }
    return true;
}

bool clus_yaml_text_valid(const char *text, size_t len, size_t *bad_at)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\r') || c == 0x7f) {
            *bad_at = i;
            return false;
        }
    }
    return clus_utf8_valid(text, len, bad_at);
}

const char *clus_state_name(int state)
{
    switch (state) {
    case CLUS_STATE_INITIALIZING:
        return "Initializing";
    case CLUS_STATE_ONLINE:
        return "Online";
    case CLUS_STATE_OFFLINE:
        return "Offline";
    case CLUS_STATE_FAILED:
        return "Failed";
    case CLUS_STATE_ONLINE_PENDING:
        return "OnlinePending";
    case CLUS_STATE_OFFLINE_PENDING:
        return "OfflinePending";
    default:
        return "Unknown";
    }
}

static const struct named_value *flag_table(enum clus_flag_space space)
{
    switch (space) {
    case CLUS_FLAGS_ONLINE:
        return online_flags;
    case CLUS_FLAGS_OFFLINE:
        return offline_flags;
    default:
        return open_flags;
    }
}

uint32_t clus_flags_valid(enum clus_flag_space space)
{
    uint32_t all = 0;

    for (const struct named_value *f = flag_table(space); f->name != NULL; f++)
        all |= f->value;
    return all;
}

static bool flag_lookup(const struct named_value *table, const char *name, size_t len,
                        uint32_t *out)
{
    for (const struct named_value *f = table; f->name != NULL; f++) {
        if (strlen(f->name) == len && strncasecmp(f->name, name, len) == 0) {
            *out = f->value;
            return true;
        }
    }
    return false;
}

uint32_t clus_flags_parse(enum clus_flag_space space, const char *text, uint32_t *out, char *err,
                          size_t errlen)
{
    const struct named_value *table = flag_table(space);
    uint32_t flags = 0, bit;
    const char *p = text;

    if (clus_parse_u32(text, UINT32_MAX, &flags)) {
        if (flags & ~clus_flags_valid(space)) {
            snprintf(err, errlen, "flags 0x%x have bits outside the defined set 0x%x", flags,
                     clus_flags_valid(space));
            return CLUS_E_INVALID_PARAMETER;
        }
        *out = flags;
        return CLUS_OK;
    }
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (!flag_lookup(table, p, len, &bit)) {
            snprintf(err, errlen, "unknown flag '%.*s'", (int)(len > 64 ? 64 : len), p);
            return CLUS_E_INVALID_PARAMETER;
        }
        flags |= bit;
        p += len;
        if (*p == ',')
            p++;
    }
    *out = flags;
    return CLUS_OK;
}

void clus_flags_format(enum clus_flag_space space, uint32_t flags, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (const struct named_value *f = flag_table(space); f->name != NULL; f++) {
        if (flags & f->value) {
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", f->name);
            if (n < 0 || (size_t)n >= len - used)
                return;
            used += (size_t)n;
        }
    }
}

uint32_t clus_control_code_parse(const char *text, bool type_code, uint32_t *out)
{
    const struct named_value *table = type_code ? type_control_codes : control_codes;
    const char *prefix = type_code ? "CLUSCTL_RESOURCE_TYPE_" : "CLUSCTL_RESOURCE_";

    if (clus_parse_u32(text, UINT32_MAX, out))
        return CLUS_OK;
    if (strncasecmp(text, prefix, strlen(prefix)) == 0)
        text += strlen(prefix);
    for (const struct named_value *c = table; c->name != NULL; c++) {
        if (strcasecmp(c->name, text) == 0) {
            *out = c->value;
            return CLUS_OK;
        }
    }
    return CLUS_E_INVALID_PARAMETER;
}

const char *clus_control_code_name(uint32_t code)
{
    const struct named_value *table = (code >> 24) == 2 ? type_control_codes : control_codes;

    for (const struct named_value *c = table; c->name != NULL; c++) {
        if (c->value == code)
            return c->name;
    }
    return NULL;
}
