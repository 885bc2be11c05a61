/*
 * placement.h - where a resource may run: preferred order, possible owners,
 * node liveness. Pure functions over a snapshot of the nodes; no state.
 *
 * Order of candidates for a resource: its preferred owners in their order,
 * then the remaining possible owners in definition order. A candidate must
 * be up and not draining.
 */
#ifndef CLUS_COORD_PLACEMENT_H
#define CLUS_COORD_PLACEMENT_H

#include "clusterdef.h"

#include <stdbool.h>
#include <stddef.h>

/* What placement needs to know of one node, indexed like def->nodes. */
typedef struct clus_node_facts {
    bool up;       /* holds a lease and answers: may take calls */
    bool draining; /* an administrator is emptying it: no new resources */
} clus_node_facts;

/* The node's rank for r: 0.. for preferred owners, then the other possible
 * owners after them; -1 when node is not a possible owner. */
int clus_place_rank(const clus_def_resource *r, size_t n_nodes, size_t node);

/* Whether r may be placed on node now (possible, up, not draining). */
bool clus_place_eligible(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                         size_t node);

/* The best eligible node for r, skipping `exclude` (-1: none); -1 if none. */
int clus_place_best(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                    int exclude);

/* Failover target: the next eligible candidate after `current` in r's
 * order, wrapping around, never `current` itself; -1 if none. With current
 * -1 (or not a candidate) this is clus_place_best. */
int clus_place_next(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                    int current);

/* Failback: whether the local hour lies in r's failback window (inclusive;
 * windows may wrap midnight; no window = always). */
bool clus_place_in_window(const clus_policy *policy, int local_hour);

#endif
