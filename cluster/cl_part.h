/* cl_part.h — the partition map of the scale-out design (issue 17,
 * README "Scale-out (not built yet)"): which partition a tenant's events
 * go to, and which node owns each partition.
 *
 * Contract:
 *   - cl_part_of(tenant, nparts): the tenant's partition, 0..nparts-1.
 *     FROZEN: every node, every version, and every producer that publishes
 *     to `mailpulse.events.<partition>` itself must compute the same
 *     number, so the hash is FNV-1a 64 over the tenant's bytes (unseeded,
 *     unlike the engine's tables: the name picks a subject, it never
 *     probes a table) reduced modulo nparts. Changing it moves tenants.
 *   - cl_part_assign(nodes, n, nparts, owner): each partition's owner, an
 *     index into nodes[] (node ids: 1..CL_NODE_ID_MAX bytes). It depends
 *     only on the set of ids (their order in nodes[] does not matter), so
 *     every node computes the same map from the same live set without
 *     talking to the others. Spread: no node owns more than
 *     ceil(nparts / n). Movement: each partition ranks the nodes by a hash
 *     of (node id, partition) (rendezvous hashing) and goes to the first
 *     node of its ranking that has room, partitions taken in a fixed order;
 *     a node leaving moves its own partitions and a few more that the
 *     capacity bound shifts, a node joining takes about nparts / (n + 1)
 *     (measured in tests/test_cl_part.c).
 *   Pure functions, any thread, no allocation. MP_OK, or MP_ERR_INVAL (no
 *   node, nparts outside 1..CL_PARTS_MAX, an id empty, too long or
 *   given twice).
 */
#ifndef CL_PART_H
#define CL_PART_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define CL_PARTS_MAX 4096
#define CL_NODES_MAX 256
#define CL_NODE_ID_MAX 64

uint32_t cl_part_of(const char *tenant, uint32_t nparts);
int cl_part_assign(const char *const *nodes, size_t n, uint32_t nparts, uint16_t *owner);

#endif
