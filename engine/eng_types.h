/* eng_types.h — event types and key scopes as the engine knows them.
 *
 * Contract: the numeric values equal the wire enum EventType in
 * proto/mailpulse.proto (1..12) and never change: they index counter slots
 * and reach disk. Scope values are stable for the same reason. The name
 * tables are static and read-only; any thread.
 */
#ifndef ENG_TYPES_H
#define ENG_TYPES_H

enum eng_type {
    ENG_SENT = 1,
    ENG_DELIVERED = 2,
    ENG_BOUNCE_HARD = 3,
    ENG_BOUNCE_SOFT = 4,
    ENG_DEFERRED = 5,
    ENG_BLOCKED = 6,
    ENG_COMPLAINT = 7,
    ENG_OPEN = 8,
    ENG_CLICK = 9,
    ENG_REPLY = 10,
    ENG_UNSUBSCRIBE = 11,
    ENG_SPAM_TRAP = 12,
};
#define ENG_TYPE_MIN 1
#define ENG_TYPE_MAX 12
#define ENG_NTYPES 12 /* counter slots per bucket; slot = type - 1 */

enum eng_scope {
    ENG_SCOPE_TENANT = 0,
    ENG_SCOPE_MAILBOX = 1, /* tenant + sending mailbox */
    ENG_SCOPE_DOMAIN = 2,  /* tenant + recipient domain */
    ENG_SCOPE_PROVIDER = 3, /* tenant + mailbox provider of the domain (eng_provider.h) */
    ENG_SCOPE_MAILBOX_PROVIDER = 4, /* tenant + mailbox + provider; name "mailbox/provider" */
    ENG_SCOPE_CAMPAIGN = 5, /* tenant + campaign, for events that carry one */
};
#define ENG_NSCOPES 6
#define ENG_SCOPES_ALL ((1u << ENG_NSCOPES) - 1) /* a bit (1u << scope) per scope */
/* The first three, the only ones before the provider scopes (issue 12). */
#define ENG_SCOPES_CLASSIC (1u << ENG_SCOPE_TENANT | 1u << ENG_SCOPE_MAILBOX | 1u << ENG_SCOPE_DOMAIN)

/* "sent", "bounce_hard", ...; NULL for an unknown type. */
const char *eng_type_name(int type);
/* Name -> type; returns 0 and sets *type, or -1 when unknown. */
int eng_type_parse(const char *name, int *type);
/* "tenant", "mailbox", "recipient_domain", "provider", "mailbox_provider",
 * "campaign"; NULL when unknown. */
const char *eng_scope_name(int scope);

#endif
