/*
 * client_internal.h - the reply object, shared by client.c and json.c.
 */
#ifndef CLUS_CLIENT_INTERNAL_H
#define CLUS_CLIENT_INTERNAL_H

#include <clus/client.h>

#include "clus/v1/clus.pb-c.h"

struct clus_reply {
    uint32_t status;
    char *message;
    Clus__V1__Response *resp; /* NULL when no reply came (transport error) */
};

#endif
