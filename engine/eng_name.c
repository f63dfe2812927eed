/* eng_name.c — the name grammar (see eng_name.h). */
#include "eng_name.h"

int eng_name_valid(const char *s, size_t len)
{
    if (s == NULL || len < 1 || len > ENG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}
