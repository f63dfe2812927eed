/* fuzz_dnsq.c — libFuzzer target for base/mp_dnsq.c's answer handling: any
 * bytes as the answer to an A query (mp_dnsq_interpret, through c-ares'
 * ares_parse_a_reply) and to a TXT query (mp_dnsq_txt, ares_parse_txt_reply),
 * and as the target of the name builders. It aborts when a contract of
 * mp_dnsq.h breaks: a listing whose code is empty or not 127/8, an error
 * without a reason, a TXT text with control bytes or unterminated, a name
 * over 253 characters.
 */
#include <ares.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_dnsq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mp_dnsq_answer a;
    mp_dnsq_interpret(ARES_SUCCESS, data, (int)(size > 65535 ? 65535 : size), &a);
    if (a.result == MP_DNSQ_LISTED && (strncmp(a.code, "127.", 4) != 0 || a.reason != MP_DNSQ_OK))
        abort();
    if (a.result == MP_DNSQ_ERROR && (a.reason <= MP_DNSQ_OK || a.reason >= MP_DNSQ_NREASONS))
        abort();
    if (memchr(a.code, '\0', sizeof(a.code)) == NULL)
        abort();
    char txt[MP_DNSQ_TXT_MAX];
    mp_dnsq_txt(ARES_SUCCESS, data, (int)(size > 65535 ? 65535 : size), txt, sizeof(txt));
    if (memchr(txt, '\0', sizeof(txt)) == NULL)
        abort();
    for (const char *p = txt; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();
    char s[300], name[MP_DNSQ_NAME_MAX];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    if ((mp_dnsq_ip_name(s, "zen.example", name, sizeof(name)) == MP_OK ||
         mp_dnsq_domain_name(s, "dbl.example", name, sizeof(name)) == MP_OK) &&
        strlen(name) > 253)
        abort();
    return 0;
}
