/* mp_matcher.c — see mp_matcher.h. */
#include "mp_matcher.h"

#include <stdlib.h>
#include <string.h>

char *mp_matcher_value(const char *p)
{
    size_t vl = strlen(p);
    char *v = malloc(vl + 1);
    if (!v)
        return NULL;
    if (vl >= 2 && p[0] == '"' && p[vl - 1] == '"') {
        size_t o = 0;
        for (size_t i = 1; i + 1 < vl; i++) {
            if (p[i] == '\\' && i + 2 < vl)
                i++;
            v[o++] = p[i];
        }
        v[o] = '\0';
    } else {
        memcpy(v, p, vl + 1);
    }
    return v;
}
