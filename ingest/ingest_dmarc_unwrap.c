/* ingest_dmarc_unwrap.c — see ingest_dmarc_unwrap.h: gzip by zlib, zip by
 * libzip, a mail message by GMime 3. Every output is bounded by
 * INGEST_DMARC_MAX_XML as it is produced, so a bomb stops at the bound
 * instead of after it. */
#include "ingest_dmarc_unwrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <zip.h>
#include <zlib.h>

#include "ingest_dmarc.h"

#define DM_ZIP_MAX_ENTRIES 64 /* reports hold one; more is not a report */
#define DM_MIME_MAX_DEPTH 8   /* multipart nesting searched */

void ingest_dmarc__gmime_init(void); /* called once by ingest_dmarc_init() */
void ingest_dmarc__gmime_init(void)
{
    g_mime_init();
}

static int dm__refuse(char *err, size_t errlen, const char *what, const char *why)
{
    snprintf(err, errlen, "%s: %s", what, why);
    return MP_ERR_INVAL;
}

/* A growing output bounded by INGEST_DMARC_MAX_XML (plus its NUL). */
struct dm_out {
    char *p;
    size_t n, cap;
};

static int dm__reserve(struct dm_out *o, size_t more)
{
    if (o->n + more + 1 <= o->cap)
        return MP_OK;
    size_t cap = o->cap ? o->cap : 65536;
    while (cap < o->n + more + 1)
        cap *= 2;
    char *np = realloc(o->p, cap);
    if (!np)
        return MP_ERR_NOMEM;
    o->p = np;
    o->cap = cap;
    return MP_OK;
}

static int dm__too_big(char *err, size_t errlen, const char *what)
{
    char why[80];
    snprintf(why, sizeof(why), "larger than %u bytes after unwrapping", INGEST_DMARC_MAX_XML);
    return dm__refuse(err, errlen, what, why);
}

static int dm__gunzip(const unsigned char *in, size_t len, struct dm_out *o, char *err,
                      size_t errlen)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return MP_ERR_NOMEM;
    zs.next_in = (unsigned char *)in; /* zlib's API is not const */
    zs.avail_in = (uInt)len;
    int rc = MP_OK, z = Z_OK;
    while (z != Z_STREAM_END) {
        if (o->n >= INGEST_DMARC_MAX_XML) {
            rc = dm__too_big(err, errlen, "gzip");
            break;
        }
        if ((rc = dm__reserve(o, 65536)) != MP_OK)
            break;
        size_t room = o->cap - o->n - 1;
        zs.next_out = (unsigned char *)o->p + o->n;
        zs.avail_out = (uInt)room;
        z = inflate(&zs, Z_NO_FLUSH);
        o->n += room - zs.avail_out;
        if (z == Z_BUF_ERROR || (z == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
            rc = dm__refuse(err, errlen, "gzip", "truncated");
            break;
        }
        if (z != Z_OK && z != Z_STREAM_END) {
            rc = dm__refuse(err, errlen, "gzip", z == Z_MEM_ERROR ? "out of memory"
                                                                  : "corrupt data");
            break;
        }
    }
    inflateEnd(&zs);
    if (rc == MP_OK && o->n > INGEST_DMARC_MAX_XML)
        rc = dm__too_big(err, errlen, "gzip");
    return rc;
}

static int dm__ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int dm__zip_read(zip_t *za, zip_uint64_t i, struct dm_out *o, char *err, size_t errlen)
{
    zip_file_t *f = zip_fopen_index(za, i, 0);
    if (!f)
        return dm__refuse(err, errlen, "zip", zip_strerror(za));
    int rc = MP_OK;
    for (;;) {
        if ((rc = dm__reserve(o, 65536)) != MP_OK)
            break;
        zip_int64_t got = zip_fread(f, o->p + o->n, o->cap - o->n - 1);
        if (got < 0) {
            rc = dm__refuse(err, errlen, "zip", zip_file_strerror(f));
            break;
        }
        if (got == 0)
            break;
        o->n += (size_t)got;
        if (o->n > INGEST_DMARC_MAX_XML) {
            rc = dm__too_big(err, errlen, "zip");
            break;
        }
    }
    zip_fclose(f);
    return rc;
}

static int dm__unzip(const unsigned char *in, size_t len, struct dm_out *o, char *err,
                     size_t errlen)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(in, len, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return MP_ERR_NOMEM;
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!za) {
        int rc = dm__refuse(err, errlen, "zip", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    int rc = MP_OK;
    zip_int64_t n = zip_get_num_entries(za, 0), pick = -1;
    if (n > DM_ZIP_MAX_ENTRIES)
        rc = dm__refuse(err, errlen, "zip", "more than 64 entries");
    for (zip_int64_t i = 0; rc == MP_OK && i < n && pick < 0; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            continue;
        if (!dm__ends(st.name, ".xml"))
            continue;
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            rc = dm__refuse(err, errlen, "zip", "the .xml entry is encrypted");
        pick = i;
    }
    if (rc == MP_OK && pick < 0)
        rc = dm__refuse(err, errlen, "zip", "no .xml entry");
    if (rc == MP_OK)
        rc = dm__zip_read(za, (zip_uint64_t)pick, o, err, errlen);
    zip_discard(za); /* frees src too */
    return rc;
}

static int dm__is_gzip(const unsigned char *b, size_t n)
{
    return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

static int dm__is_zip(const unsigned char *b, size_t n)
{
    return n >= 4 && memcmp(b, "PK\3\4", 4) == 0;
}

static int dm__is_xml(const unsigned char *b, size_t n)
{
    size_t i = 0;
    if (n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i < n && b[i] == '<';
}

/* An attachment (or the bare body) of a report type. */
static int dm__report_part(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct)
        return 0;
    static const char *const types[][2] = {
        {"application", "gzip"}, {"application", "x-gzip"}, {"application", "zip"},
        {"application", "x-zip-compressed"}, {"application", "x-zip"}, {"text", "xml"},
        {"application", "xml"}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (g_mime_content_type_is_type(ct, types[i][0], types[i][1]))
            return 1;
    const char *fn = g_mime_part_get_filename(GMIME_PART(obj));
    return fn && g_mime_content_type_is_type(ct, "application", "octet-stream") &&
           (dm__ends(fn, ".xml") || dm__ends(fn, ".gz") || dm__ends(fn, ".zip"));
}

static GMimePart *dm__find(GMimeObject *obj, int depth)
{
    if (depth > DM_MIME_MAX_DEPTH || !obj)
        return NULL;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) {
            GMimePart *p = dm__find(g_mime_multipart_get_part(mp, i), depth + 1);
            if (p)
                return p;
        }
        return NULL;
    }
    if (GMIME_IS_PART(obj) && dm__report_part(obj))
        return GMIME_PART(obj);
    return NULL;
}

/* The decoded bytes of the message's report attachment into *part. */
static int dm__message(const unsigned char *in, size_t len, struct dm_out *part, char *err,
                       size_t errlen)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)in, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    int rc = MP_OK;
    GMimePart *p = msg ? dm__find(g_mime_message_get_mime_part(msg), 0) : NULL;
    if (!msg)
        rc = dm__refuse(err, errlen, "message", "not a mail message");
    else if (!p)
        rc = dm__refuse(err, errlen, "message", "no report attachment");
    GMimeDataWrapper *dw = p ? g_mime_part_get_content(p) : NULL;
    if (rc == MP_OK && !dw)
        rc = dm__refuse(err, errlen, "message", "the report attachment is empty");
    if (rc == MP_OK) {
        /* The decoded part is no larger than the encoded message, which
         * INGEST_DMARC_MAX_BODY bounds. */
        GMimeStream *out = g_mime_stream_mem_new();
        if (g_mime_data_wrapper_write_to_stream(dw, out) < 0) {
            rc = dm__refuse(err, errlen, "message", "the report attachment does not decode");
        } else {
            GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
            if ((rc = dm__reserve(part, ba->len)) == MP_OK) {
                memcpy(part->p, ba->data, ba->len);
                part->n = ba->len;
            }
        }
        g_object_unref(out);
    }
    if (msg)
        g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(s);
    return rc;
}

/* gzip, zip or XML (not a message) into *o; *form says which. */
static int dm__archive(const unsigned char *b, size_t n, int *form, struct dm_out *o, char *err,
                       size_t errlen)
{
    if (dm__is_gzip(b, n)) {
        *form = INGEST_DMARC_GZIP;
        return dm__gunzip(b, n, o, err, errlen);
    }
    if (dm__is_zip(b, n)) {
        *form = INGEST_DMARC_ZIP;
        return dm__unzip(b, n, o, err, errlen);
    }
    if (dm__is_xml(b, n)) {
        *form = INGEST_DMARC_XML;
        if (n > INGEST_DMARC_MAX_XML)
            return dm__too_big(err, errlen, "xml");
        int rc = dm__reserve(o, n);
        if (rc == MP_OK) {
            memcpy(o->p, b, n);
            o->n = n;
        }
        return rc;
    }
    return MP_ERR_NOTFOUND;
}

int ingest_dmarc_unwrap(const unsigned char *body, size_t len, int mime, int *form, char **xml,
                        size_t *xmllen, char *err, size_t errlen)
{
    struct dm_out o = {0}, part = {0};
    *xml = NULL;
    *xmllen = 0;
    *form = INGEST_DMARC_XML;
    int rc = dm__archive(body, len, form, &o, err, errlen);
    if (rc == MP_ERR_NOTFOUND && !mime)
        rc = dm__refuse(err, errlen, "body", "not XML, gzip or zip");
    if (rc == MP_ERR_NOTFOUND) {
        *form = INGEST_DMARC_MESSAGE;
        rc = dm__message(body, len, &part, err, errlen);
        int inner = 0;
        if (rc == MP_OK)
            rc = dm__archive((const unsigned char *)part.p, part.n, &inner, &o, err, errlen);
        if (rc == MP_ERR_NOTFOUND)
            rc = dm__refuse(err, errlen, "message", "the attachment is not XML, gzip or zip");
        free(part.p);
    }
    if (rc != MP_OK) {
        free(o.p);
        return rc;
    }
    if (!o.p && (rc = dm__reserve(&o, 0)) != MP_OK)
        return rc;
    o.p[o.n] = '\0';
    *xml = o.p;
    *xmllen = o.n;
    return MP_OK;
}
