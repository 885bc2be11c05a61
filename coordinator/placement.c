/*
 * placement.c - candidate order and eligibility (see placement.h).
 */
#include "placement.h"

/* Candidate i in r's order: preferred owners first, then the possible
 * owners that are not preferred. Returns false past the end. */
static bool candidate_at(const clus_def_resource *r, size_t i, size_t *node)
{
    if (i < r->n_preferred) {
        *node = r->preferred[i];
        return true;
    }
    i -= r->n_preferred;
    for (size_t j = 0; j < r->n_possible; j++) {
        bool preferred = false;
        for (size_t k = 0; k < r->n_preferred; k++)
            preferred = preferred || r->preferred[k] == r->possible[j];
        if (preferred)
            continue;
        if (i == 0) {
            *node = r->possible[j];
            return true;
        }
        i--;
    }
    return false;
}

static size_t candidate_count(const clus_def_resource *r)
{
    size_t n = 0, node;

    while (candidate_at(r, n, &node))
        n++;
    return n;
}

int clus_place_rank(const clus_def_resource *r, size_t n_nodes, size_t node)
{
    size_t candidate;

    if (node >= n_nodes || !clus_def_possible(r, node))
        return -1;
    for (size_t i = 0; candidate_at(r, i, &candidate); i++) {
        if (candidate == node)
            return (int)i;
    }
    return -1;
}

bool clus_place_eligible(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                         size_t node)
{
    return node < n_nodes && clus_def_possible(r, node) && nodes[node].up && !nodes[node].draining;
}

int clus_place_best(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                    int exclude)
{
    size_t node;

    for (size_t i = 0; candidate_at(r, i, &node); i++) {
        if ((int)node != exclude && clus_place_eligible(r, nodes, n_nodes, node))
            return (int)node;
    }
    return -1;
}

int clus_place_next(const clus_def_resource *r, const clus_node_facts *nodes, size_t n_nodes,
                    int current)
{
    int rank = current >= 0 ? clus_place_rank(r, n_nodes, (size_t)current) : -1;
    size_t n = candidate_count(r), node;

    if (rank < 0)
        return clus_place_best(r, nodes, n_nodes, current);
    for (size_t step = 1; step < n; step++) {
        if (candidate_at(r, ((size_t)rank + step) % n, &node) &&
            clus_place_eligible(r, nodes, n_nodes, node))
            return (int)node;
    }
    return -1;
}

bool clus_place_in_window(const clus_policy *policy, int local_hour)
{
    int start = policy->failback_window_start, end = policy->failback_window_end;

    if (start < 0 || end < 0)
        return true;
    if (start <= end)
        return local_hour >= start && local_hour <= end;
    return local_hour >= start || local_hour <= end;
}
