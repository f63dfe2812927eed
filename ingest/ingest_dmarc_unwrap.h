/* ingest_dmarc_unwrap.h — the envelope of a DMARC aggregate report: gzip
 * (zlib), zip (libzip) or a whole mail message (GMime 3) around the XML.
 *
 * Contract: ingest_dmarc_unwrap() looks at the body's first bytes (gzip
 * magic 1f 8b, zip "PK\3\4", '<' after optional whitespace and a UTF-8
 * BOM: XML; anything else is a mail message when `mime` is set) and hands
 * back the report XML in *xml (malloc'd, NUL-terminated, the caller frees)
 * with its length, and the form it found in *form (enum ingest_dmarc_form).
 * A message is searched for its first attachment of a report type
 * (application/gzip, application/x-gzip, application/zip,
 * application/x-zip-compressed, text/xml, application/xml, or an
 * application/octet-stream part whose file name ends .xml, .gz or .zip),
 * which is unwrapped in turn (never another message). A zip archive must
 * hold one .xml entry (the first is taken), unencrypted.
 *
 * Refusals are MP_ERR_INVAL with a reason ("gzip: corrupt data",
 * "zip: no .xml entry", "message: no report attachment", "xml: larger than
 * 33554432 bytes after unwrapping"); *xml is NULL then. MP_ERR_NOMEM when
 * memory ran out. Any thread after ingest_dmarc_init().
 */
#ifndef INGEST_DMARC_UNWRAP_H
#define INGEST_DMARC_UNWRAP_H

#include <stddef.h>

int ingest_dmarc_unwrap(const unsigned char *body, size_t len, int mime, int *form, char **xml,
                        size_t *xmllen, char *err, size_t errlen);

#endif
