/* eng_store_checkpoint.c — RocksDB checkpoints of a store (see eng_store.h).
 *
 * Kept apart from eng_store.c (near its size limit): one call into
 * rocksdb_checkpoint_create under the store's read lock, so a recovery
 * reopen cannot swap the handle out from under it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <rocksdb/c.h>

#include "eng_store.h"
#include "eng_store_impl.h"

int eng_store_checkpoint(struct eng_store *s, const char *dir, char *err, size_t errlen)
{
    char *rerr = NULL;
    rocksdb_checkpoint_t *cp = NULL;
    int rc = MP_OK;
    if (s == NULL || dir == NULL || dir[0] == '\0') {
        snprintf(err, errlen, "eng_store_checkpoint: no store or directory");
        return MP_ERR_INVAL;
    }
    pthread_rwlock_rdlock(&s->lock);
    cp = rocksdb_checkpoint_object_create(s->db, &rerr);
    /* log_size_for_flush 0: the memtables are flushed first, so the copy
     * holds every committed write in table files, not only in a WAL. */
    if (cp && rerr == NULL)
        rocksdb_checkpoint_create(cp, dir, 0, &rerr);
    pthread_rwlock_unlock(&s->lock);
    if (rerr) {
        snprintf(err, errlen, "checkpoint of %.256s into %.256s: %.256s", s->dir, dir, rerr);
        rc = MP_ERR_IO;
        free(rerr);
    }
    if (cp)
        rocksdb_checkpoint_object_destroy(cp);
    return rc;
}
