/* mp_addr.c — listen address parsing and resolution (see mp_addr.h). */
#include "mp_addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int addr__fail(char *err, size_t errlen, int rc, const char *s, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: expected %s%s%s", s ? s : "(null)", MP_ADDR_SYNTAX,
                 why ? ", " : "", why ? why : "");
    return rc;
}

static int addr__name_ok(const char *h, size_t n)
{
    if (n < 1 || n > 253 || h[0] == '.' || h[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int mp_addr_parse(const char *s, struct mp_addr *out, char *err, size_t errlen)
{
    if (s == NULL)
        return addr__fail(err, errlen, MP_ERR_INVAL, s, NULL);
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        return addr__fail(err, errlen, MP_ERR_INVAL, s, NULL);
    struct mp_addr a;
    memset(&a, 0, sizeof(a));
    const char *h = s;
    size_t hlen = (size_t)(colon - s);
    if (s[0] == '[') {
        if (hlen < 3 || colon[-1] != ']')
            return addr__fail(err, errlen, MP_ERR_INVAL, s, "IPv6 in brackets: [::1]:port");
        h = s + 1;
        hlen -= 2;
        struct in6_addr a6;
        if (hlen >= sizeof(a.host))
            return addr__fail(err, errlen, MP_ERR_INVAL, s, "IPv6 in brackets: [::1]:port");
        memcpy(a.host, h, hlen);
        if (inet_pton(AF_INET6, a.host, &a6) != 1)
            return addr__fail(err, errlen, MP_ERR_INVAL, s, "IPv6 in brackets: [::1]:port");
        a.ipv6 = 1;
    } else {
        if (memchr(s, ':', hlen) != NULL)
            return addr__fail(err, errlen, MP_ERR_INVAL, s, "IPv6 in brackets: [::1]:port");
        if (!addr__name_ok(h, hlen))
            return addr__fail(err, errlen, MP_ERR_INVAL, s, "host an IP address or a name");
        memcpy(a.host, h, hlen);
    }
    /* Digits only: strtoul alone would take "+80", " 80" and "80x". */
    const char *p = colon + 1;
    size_t plen = strlen(p);
    unsigned long v = 0;
    if (plen == 0 || plen > 5)
        return addr__fail(err, errlen, MP_ERR_INVAL, s, NULL);
    for (size_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return addr__fail(err, errlen, MP_ERR_INVAL, s, NULL);
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return addr__fail(err, errlen, MP_ERR_INVAL, s, NULL);
    a.port = (uint16_t)v;
    *out = a;
    return MP_OK;
}

int mp_addr_resolve(const struct mp_addr *a, struct sockaddr_storage *ss, socklen_t *sslen,
                    char *err, size_t errlen)
{
    memset(ss, 0, sizeof(*ss));
    if (a->ipv6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        if (inet_pton(AF_INET6, a->host, &s6->sin6_addr) != 1)
            return addr__fail(err, errlen, MP_ERR_INVAL, a->host, NULL);
        *sslen = sizeof(*s6);
        return MP_OK;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a->port);
    if (strcmp(a->host, "localhost") == 0) {
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *sslen = sizeof(*s4);
        return MP_OK;
    }
    if (inet_pton(AF_INET, a->host, &s4->sin_addr) == 1) {
        *sslen = sizeof(*s4);
        return MP_OK;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int g = getaddrinfo(a->host, NULL, &hints, &res);
    if (g != 0 || res == NULL || res->ai_addrlen > sizeof(*ss)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot resolve: %s", a->host,
                     g ? gai_strerror(g) : "no address");
        if (res)
            freeaddrinfo(res);
        return MP_ERR_NOTFOUND;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = (socklen_t)res->ai_addrlen;
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(a->port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(a->port);
    freeaddrinfo(res);
    return MP_OK;
}
