/*
 * The seccomp allowlist: "-sandbox" parsing, policy composition and
 * loading (see include/qemu-remote/sandbox.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"
#include "qemu-remote/sandbox.h"
#include "sandbox-internal.h"

#include <seccomp.h>
#include <signal.h>
#include <ucontext.h>

typedef enum SandboxDebug {
    SANDBOX_DEBUG_OFF,
    SANDBOX_DEBUG_EPERM,    /* SIGSYS handler: message, then -EPERM */
    SANDBOX_DEBUG_LOG,      /* SECCOMP_RET_LOG: run it, kernel logs it */
} SandboxDebug;

/* Main thread only. */
static struct {
    bool enabled;
    bool obsolete;
    bool elevate;
    bool spawn;
    bool resourcecontrol;
    SandboxDebug debug;
} opts;

static GPtrArray *required;     /* of const SandboxPolicy *, deduplicated */
static bool installed;

/* Syscall names for the SIGSYS handler, resolved before the filter is
 * loaded: the handler may not allocate.  x86-64 numbers stay below this. */
#define SYSCALL_NAME_SLOTS 1024
static char *syscall_names[SYSCALL_NAME_SLOTS];

/* --- -sandbox ------------------------------------------------------- */

/* QEMU's "allow|deny" sub-options; "children" only where @children. */
static bool parse_allow_deny(const KeyValList *kv, const char *key,
                             bool children, bool *allow, GError **errp)
{
    const char *v = keyval_get(kv, key);

    if (!v) {
        return true;
    }
    if (g_str_equal(v, "allow") || (children && g_str_equal(v, "children"))) {
        *allow = true;
    } else if (g_str_equal(v, "deny")) {
        *allow = false;
    } else {
        error_setg(errp, "invalid argument for %s", key);
        return false;
    }
    return true;
}

bool sandbox_parse_option(const char *arg, GError **errp)
{
    static const char *const allowed[] = {
        "enable", "obsolete", "elevateprivileges", "spawn",
        "resourcecontrol", "debug", NULL
    };
    g_autoptr(KeyValList) kv = keyval_parse(arg, "enable", errp);
    const char *debug;

    if (!kv || !keyval_check_keys(kv, allowed, errp)) {
        return false;
    }
    memset(&opts, 0, sizeof(opts));
    if (!keyval_get(kv, "enable")) {
        error_setg(errp, "Parameter 'enable' is missing");
        return false;
    }
    if (!keyval_get_bool(kv, "enable", &opts.enabled, errp) ||
        !parse_allow_deny(kv, "obsolete", false, &opts.obsolete, errp) ||
        !parse_allow_deny(kv, "elevateprivileges", true, &opts.elevate,
                          errp) ||
        !parse_allow_deny(kv, "spawn", false, &opts.spawn, errp) ||
        !parse_allow_deny(kv, "resourcecontrol", false,
                          &opts.resourcecontrol, errp)) {
        return false;
    }
    debug = keyval_get(kv, "debug");
    if (!debug || g_str_equal(debug, "off")) {
        opts.debug = SANDBOX_DEBUG_OFF;
    } else if (g_str_equal(debug, "eperm")) {
#ifdef __x86_64__
        opts.debug = SANDBOX_DEBUG_EPERM;
#else
        error_setg(errp, "debug=eperm is only supported on x86-64");
        return false;
#endif
    } else if (g_str_equal(debug, "log")) {
        opts.debug = SANDBOX_DEBUG_LOG;
    } else {
        error_setg(errp, "invalid argument for debug (off, eperm or log)");
        return false;
    }
    return true;
}

bool sandbox_enabled(void)
{
    return opts.enabled;
}

bool sandbox_installed(void)
{
    return installed;
}

/* --- composition ---------------------------------------------------- */

static bool policy_listed(GPtrArray *list, const SandboxPolicy *p)
{
    for (guint i = 0; list && i < list->len; i++) {
        if (g_ptr_array_index(list, i) == p) {
            return true;
        }
    }
    return false;
}

/* Appends @p and everything it includes, each once. */
static void collect(GPtrArray *list, const SandboxPolicy *p)
{
    if (!p || policy_listed(list, p)) {
        return;
    }
    g_ptr_array_add(list, (gpointer)p);
    for (const SandboxPolicy *const *i = p->includes; i && *i; i++) {
        collect(list, *i);
    }
}

bool sandbox_require(const SandboxPolicy *policy, GError **errp)
{
    g_autoptr(GPtrArray) wanted = NULL;

    if (!policy || !opts.enabled) {
        return true;
    }
    if (!required) {
        required = g_ptr_array_new();
    }
    if (!installed) {
        if (!policy_listed(required, policy)) {
            qr_log_mask(LOG_SANDBOX, "sandbox: %s needed", policy->name);
        }
        collect(required, policy);
        return true;
    }
    wanted = g_ptr_array_new();
    collect(wanted, policy);
    for (guint i = 0; i < wanted->len; i++) {
        const SandboxPolicy *p = g_ptr_array_index(wanted, i);

        if (!policy_listed(required, p)) {
            error_setg(errp, "the sandbox installed at start-up does not "
                       "allow %s (nothing that needs it was configured "
                       "then)", p->name);
            return false;
        }
    }
    return true;
}

bool sandbox_is_required(const SandboxPolicy *policy)
{
    return policy_listed(required, policy);
}

/* Every policy the filter is made of, in a fixed order. */
static GPtrArray *compose(void)
{
    GPtrArray *list = g_ptr_array_new();

    collect(list, &sandbox_common_policy);
    if (opts.obsolete) {
        collect(list, &sandbox_obsolete_policy);
    }
    if (opts.elevate) {
        collect(list, &sandbox_elevate_policy);
    }
    if (opts.spawn) {
        collect(list, &sandbox_spawn_policy);
    }
    if (opts.resourcecontrol) {
        collect(list, &sandbox_resourcecontrol_policy);
    }
    if (sandbox_sanitizer_policy.rules) {
        collect(list, &sandbox_sanitizer_policy);
    }
    for (guint i = 0; required && i < required->len; i++) {
        collect(list, g_ptr_array_index(required, i));
    }
    return list;
}

/* Per system call: whether some policy allows it unconditionally, and
 * all its rules. */
typedef struct CallRules {
    const char *name;
    bool unconditional;
    GPtrArray *rules;       /* of const SandboxRule * */
} CallRules;

static void call_rules_free(gpointer p)
{
    CallRules *c = p;

    g_ptr_array_unref(c->rules);
    g_free(c);
}

/* Two policies may name the same rule: libseccomp gets it once. */
static bool rule_listed(GPtrArray *rules, const SandboxRule *r)
{
    for (guint i = 0; i < rules->len; i++) {
        const SandboxRule *o = g_ptr_array_index(rules, i);

        if (o->err == r->err && o->check == r->check && o->arg == r->arg &&
            o->mask == r->mask && o->value == r->value) {
            return true;
        }
    }
    return false;
}

/* The rules of @policies by system call, in first-mention order. */
static GPtrArray *rules_by_call(GPtrArray *policies)
{
    GPtrArray *calls = g_ptr_array_new_with_free_func(call_rules_free);
    g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < policies->len; i++) {
        const SandboxPolicy *p = g_ptr_array_index(policies, i);

        for (const SandboxRule *r = p->rules; r && r->syscall; r++) {
            CallRules *c = g_hash_table_lookup(index, r->syscall);

            if (!c) {
                c = g_new0(CallRules, 1);
                c->name = r->syscall;
                c->rules = g_ptr_array_new();
                g_hash_table_insert(index, (gpointer)r->syscall, c);
                g_ptr_array_add(calls, c);
            }
            if (!r->err && r->check == SANDBOX_ARG_ANY) {
                c->unconditional = true;
            }
            if (!rule_listed(c->rules, r)) {
                g_ptr_array_add(c->rules, (gpointer)r);
            }
        }
    }
    return calls;
}

static bool call_allowed(const CallRules *c)
{
    for (guint i = 0; i < c->rules->len; i++) {
        const SandboxRule *r = g_ptr_array_index(c->rules, i);

        if (!r->err) {
            return true;
        }
    }
    return false;
}

void sandbox_count(unsigned *allowed, unsigned *filtered, unsigned *refused)
{
    g_autoptr(GPtrArray) policies = compose();
    g_autoptr(GPtrArray) calls = rules_by_call(policies);

    *allowed = *filtered = *refused = 0;
    for (guint i = 0; i < calls->len; i++) {
        const CallRules *c = g_ptr_array_index(calls, i);

        if (!call_allowed(c)) {
            (*refused)++;
            continue;
        }
        (*allowed)++;
        if (!c->unconditional) {
            (*filtered)++;
        }
    }
}

/* --- loading -------------------------------------------------------- */

static bool add_rule(scmp_filter_ctx ctx, int nr, const SandboxRule *r,
                     bool whole_call, GError **errp)
{
    uint32_t action = r->err ? SCMP_ACT_ERRNO(r->err) : SCMP_ACT_ALLOW;
    struct scmp_arg_cmp cmp;
    int ret;

    if (whole_call || r->check == SANDBOX_ARG_ANY) {
        ret = seccomp_rule_add_exact_array(ctx, action, nr, 0, NULL);
    } else {
        cmp = (struct scmp_arg_cmp) {
            .arg = r->arg,
            .op = r->check == SANDBOX_ARG_EQ ? SCMP_CMP_EQ
                                              : SCMP_CMP_MASKED_EQ,
            .datum_a = r->check == SANDBOX_ARG_EQ ? r->value : r->mask,
            .datum_b = r->value,
        };
        ret = seccomp_rule_add_exact_array(ctx, action, nr, 1, &cmp);
    }
    if (ret < 0) {
        error_setg(errp, "cannot add a seccomp rule for %s: %s",
                   r->syscall, g_strerror(-ret));
        return false;
    }
    return true;
}

static bool add_call(scmp_filter_ctx ctx, const CallRules *c, GError **errp)
{
    int nr = seccomp_syscall_resolve_name(c->name);

    if (nr == __NR_SCMP_ERROR) {
        error_setg(errp, "sandbox policy names an unknown system call '%s'",
                   c->name);
        return false;
    }
    if (nr < 0) {
        /* Does not exist on this architecture (libseccomp's negative
         * pseudo-numbers): nothing to allow. */
        return true;
    }
    for (guint i = 0; i < c->rules->len; i++) {
        const SandboxRule *r = g_ptr_array_index(c->rules, i);

        /* Allowed outright somewhere: one rule, and no refusal. */
        if (c->unconditional && (r->err || r->check != SANDBOX_ARG_ANY)) {
            continue;
        }
        /* A refusal without a condition would override the allowed
         * arguments (libseccomp lets the rule without one win): the
         * arguments not allowed take the default action instead. */
        if (r->err && r->check == SANDBOX_ARG_ANY && call_allowed(c)) {
            continue;
        }
        if (!add_rule(ctx, nr, r, false, errp)) {
            return false;
        }
        if (c->unconditional) {
            break;
        }
    }
    return true;
}

static void resolve_syscall_names(void)
{
    for (int nr = 0; nr < SYSCALL_NAME_SLOTS; nr++) {
        if (!syscall_names[nr]) {
            syscall_names[nr] =
                seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        }
    }
}

/* Async-signal-safe: appends @s to @buf (of @size, NUL-terminated). */
static void append_str(char *buf, size_t size, size_t *len, const char *s)
{
    while (*s && *len + 1 < size) {
        buf[(*len)++] = *s++;
    }
    buf[*len] = 0;
}

static void append_uint(char *buf, size_t size, size_t *len, unsigned v)
{
    char digits[12];
    int n = 0;

    do {
        digits[n++] = '0' + v % 10;
        v /= 10;
    } while (v && n < (int)sizeof(digits));
    while (n > 0 && *len + 1 < size) {
        buf[(*len)++] = digits[--n];
    }
    buf[*len] = 0;
}

#ifdef __x86_64__
/* debug=eperm: the filter traps; name the call and make it fail. */
static void sigsys_handler(int sig, siginfo_t *info, void *ctx)
{
    ucontext_t *uc = ctx;
    unsigned nr = (unsigned)info->si_syscall;
    const char *name = nr < SYSCALL_NAME_SLOTS && syscall_names[nr]
                       ? syscall_names[nr] : "?";
    int saved_errno = errno;
    char line[160];
    size_t len = 0;

    append_str(line, sizeof(line), &len,
               "qemu-remote: sandbox: blocked system call ");
    append_str(line, sizeof(line), &len, name);
    append_str(line, sizeof(line), &len, " (");
    append_uint(line, sizeof(line), &len, nr);
    append_str(line, sizeof(line), &len, ")\n");
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nowhere else to say it. */
    }
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
    errno = saved_errno;
}

static bool install_sigsys_handler(GError **errp)
{
    struct sigaction act = {
        .sa_sigaction = sigsys_handler,
        .sa_flags = SA_SIGINFO,
    };

    sigemptyset(&act.sa_mask);
    if (sigaction(SIGSYS, &act, NULL) < 0) {
        error_setg_errno(errp, errno, "cannot install the SIGSYS handler");
        return false;
    }
    return true;
}
#endif

static uint32_t default_action(void)
{
    switch (opts.debug) {
    case SANDBOX_DEBUG_EPERM:
        return SCMP_ACT_TRAP;
    case SANDBOX_DEBUG_LOG:
        return SCMP_ACT_LOG;
    default:
        return SCMP_ACT_KILL_PROCESS;
    }
}

static void log_composition(GPtrArray *policies)
{
    unsigned allowed, filtered, refused;

    if (!qr_log_enabled(LOG_SANDBOX)) {
        return;
    }
    for (guint i = 0; i < policies->len; i++) {
        const SandboxPolicy *p = g_ptr_array_index(policies, i);

        qr_log("sandbox: policy %s%s%s", p->name, p->keeps ? "; keeps " : "",
               p->keeps ? p->keeps : "");
    }
    sandbox_count(&allowed, &filtered, &refused);
    qr_log("sandbox: %u system calls allowed (%u only with some arguments),"
           " %u refused with an errno, the rest %s", allowed, filtered,
           refused, opts.debug == SANDBOX_DEBUG_EPERM ? "fail with EPERM"
                    : opts.debug == SANDBOX_DEBUG_LOG ? "logged"
                    : "kill the process");
}

bool sandbox_install(GError **errp)
{
    g_autoptr(GPtrArray) policies = NULL;
    g_autoptr(GPtrArray) calls = NULL;
    scmp_filter_ctx ctx;
    bool ok = false;
    int ret;

    if (!opts.enabled || installed) {
        return true;
    }
    policies = compose();
    calls = rules_by_call(policies);
    ctx = seccomp_init(default_action());
    if (!ctx) {
        error_setg(errp, "cannot create a seccomp filter");
        return false;
    }
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0) {
        error_setg(errp, "libseccomp cannot synchronise threads (TSYNC)");
        goto out;
    }
    for (guint i = 0; i < calls->len; i++) {
        if (!add_call(ctx, g_ptr_array_index(calls, i), errp)) {
            goto out;
        }
    }
    if (opts.debug == SANDBOX_DEBUG_EPERM) {
        resolve_syscall_names();
#ifdef __x86_64__
        if (!install_sigsys_handler(errp)) {
            goto out;
        }
#endif
    }
    log_composition(policies);
    ret = seccomp_load(ctx);
    if (ret < 0) {
        error_setg(errp, "cannot load the seccomp filter: %s",
                   g_strerror(-ret));
        goto out;
    }
    installed = true;
    qr_log_mask(LOG_SANDBOX, "sandbox: seccomp filter installed on every "
                "thread");
    ok = true;
out:
    seccomp_release(ctx);
    return ok;
}
