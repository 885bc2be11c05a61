/*
 * pbcopy.c - see pbcopy.h.
 */
#include "pbcopy.h"

#include <stdint.h>
#include <stdlib.h>

ProtobufCMessage *clus_pb_copy(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    ProtobufCMessage *copy = NULL;

    if (buf != NULL) {
        protobuf_c_message_pack(msg, buf);
        copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
        free(buf);
    }
    return copy;
}
