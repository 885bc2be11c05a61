/*
 * pbcopy.h - a deep copy of a protobuf-c message that owns all its strings
 * and sub-messages, for data kept past the message it came from (the event
 * ring, the agent's status cache).
 */
#ifndef CLUS_PBCOPY_H
#define CLUS_PBCOPY_H

#include <protobuf-c/protobuf-c.h>

/* The copy, made by packing msg and unpacking it again: free it with
 * protobuf_c_message_free_unpacked (or the type's __free_unpacked). NULL
 * when out of memory. */
ProtobufCMessage *clus_pb_copy(const ProtobufCMessage *msg);

#endif
