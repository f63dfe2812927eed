/* eng_types.c — event type and scope names (see eng_types.h). */
#include "eng_types.h"

#include <string.h>

static const char *const types__names[ENG_TYPE_MAX + 1] = {
    NULL,         "sent",    "delivered", "bounce_hard", "bounce_soft", "deferred", "blocked",
    "complaint",  "open",    "click",     "reply",       "unsubscribe", "spam_trap",
};

const char *eng_type_name(int type)
{
    if (type < ENG_TYPE_MIN || type > ENG_TYPE_MAX)
        return NULL;
    return types__names[type];
}

int eng_type_parse(const char *name, int *type)
{
    for (int t = ENG_TYPE_MIN; t <= ENG_TYPE_MAX; t++) {
        if (strcmp(name, types__names[t]) == 0) {
            *type = t;
            return 0;
        }
    }
    return -1;
}

const char *eng_scope_name(int scope)
{
    switch (scope) {
    case ENG_SCOPE_TENANT: return "tenant";
    case ENG_SCOPE_MAILBOX: return "mailbox";
    case ENG_SCOPE_DOMAIN: return "recipient_domain";
    case ENG_SCOPE_PROVIDER: return "provider";
    case ENG_SCOPE_MAILBOX_PROVIDER: return "mailbox_provider";
    case ENG_SCOPE_CAMPAIGN: return "campaign";
    default: return NULL;
    }
}
