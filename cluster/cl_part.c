/* cl_part.c — the partition map (see cl_part.h). */
#include <string.h>

#include "cl_part.h"

/* FROZEN: FNV-1a 64 (offset basis and prime of the FNV spec). */
static uint64_t part__fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define PART_FNV_BASIS 0xcbf29ce484222325ULL

uint32_t cl_part_of(const char *tenant, uint32_t nparts)
{
    if (nparts == 0)
        return 0;
    return (uint32_t)(part__fnv(tenant, strlen(tenant), PART_FNV_BASIS) % nparts);
}

/* The weight of node id for partition p: FNV-1a over id, NUL, be32(p),
 * then a final mix (FNV alone leaves the low bits of close inputs alike). */
static uint64_t part__weight(const char *id, uint32_t p)
{
    unsigned char pb[5] = {0, (unsigned char)(p >> 24), (unsigned char)(p >> 16),
                           (unsigned char)(p >> 8), (unsigned char)p};
    uint64_t h = part__fnv(pb, sizeof(pb), part__fnv(id, strlen(id), PART_FNV_BASIS));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int part__ids_ok(const char *const *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = nodes[i] ? strlen(nodes[i]) : 0;
        if (len == 0 || len > CL_NODE_ID_MAX)
            return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(nodes[i], nodes[j]) == 0)
                return 0;
    }
    return 1;
}

int cl_part_assign(const char *const *nodes, size_t n, uint32_t nparts, uint16_t *owner)
{
    if (n == 0 || n > CL_NODES_MAX || nparts == 0 || nparts > CL_PARTS_MAX ||
        !part__ids_ok(nodes, n))
        return MP_ERR_INVAL;
    uint32_t load[CL_NODES_MAX] = {0}, cap = (uint32_t)((nparts + n - 1) / n);
    for (uint32_t p = 0; p < nparts; p++) {
        /* the best node with room; ties (equal weights) go to the smaller
         * id, so the answer never depends on the order of nodes[] */
        size_t best = n;
        uint64_t bw = 0;
        for (size_t i = 0; i < n; i++) {
            if (load[i] >= cap)
                continue;
            uint64_t w = part__weight(nodes[i], p);
            if (best == n || w > bw || (w == bw && strcmp(nodes[i], nodes[best]) < 0)) {
                best = i;
                bw = w;
            }
        }
        owner[p] = (uint16_t)best; /* always found: n * cap >= nparts */
        load[best]++;
    }
    return MP_OK;
}
