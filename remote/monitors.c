/*
 * QMP monitors from the command line: "-qmp unix:PATH,server=on,wait=off"
 * and "-chardev socket,id=ID,path=PATH|fd=FD,server=on,wait=off" with
 * "-mon chardev=ID,mode=control".  Settings are checked in PHASE_CONFIG
 * (so mistakes surface before anything is created) and the sockets are
 * created in PHASE_MONITORS, the last step of start-up.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "monitor/monitor.h"
#include "cmdline.h"
#include "vl.h"

#include <fcntl.h>

typedef struct Chardev {
    char *id;
    char *path;     /* NULL when fd >= 0 */
    int fd;         /* inherited socket, or -1 */
    bool in_use;    /* taken by a -mon */
} Chardev;

/* Main thread only. */
static GPtrArray *chardevs;     /* of Chardev, from -chardev */
static GPtrArray *mon_chardevs; /* of char *, the chardev= of each -mon */

static void chardev_free(gpointer p)
{
    Chardev *c = p;

    g_free(c->id);
    g_free(c->path);
    g_free(c);
}

static Chardev *chardev_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *c = g_ptr_array_index(chardevs, i);

        if (g_str_equal(c->id, id)) {
            return c;
        }
    }
    return NULL;
}

/*
 * A socket path as the monitor should get it.  A daemon changes to "/"
 * once it is ready, so a relative path is made absolute first: the
 * monitor removes the socket file by this name at exit.
 */
static char *socket_path(const char *path)
{
    if (daemon_requested() && !g_path_is_absolute(path)) {
        return g_canonicalize_filename(path, NULL);
    }
    return g_strdup(path);
}

/*
 * "server=on,wait=off" is the only combination served: qemu-remote never
 * connects out, and never blocks start-up waiting for a client.  QEMU's
 * default for a server socket is wait=on, so wait=off must be explicit.
 */
static bool check_server_wait(const KeyValList *opts, bool need_server,
                              GError **errp)
{
    bool server = false, wait = true;

    if (!keyval_get_bool(opts, "server", &server, errp) ||
        !keyval_get_bool(opts, "wait", &wait, errp)) {
        return false;
    }
    if (need_server && !server) {
        error_setg(errp, "server=on is required (qemu-remote listens; it "
                   "does not connect to a client)");
        return false;
    }
    if (server && wait) {
        error_setg(errp, "wait=on is not supported (add wait=off: "
                   "qemu-remote does not wait for a client to start)");
        return false;
    }
    return true;
}

/*
 * Splits "unix:PATH[,key=value...]" into the path (",," unescaped) and the
 * options after it.  The path is taken up to the first single comma, so it
 * may contain '='.
 */
static bool parse_qmp_spec(const char *arg, char **path, KeyValList **opts,
                           GError **errp)
{
    g_autoptr(GString) p = g_string_new(NULL);
    const char *s;

    if (!g_str_has_prefix(arg, "unix:")) {
        error_setg(errp, "only 'unix:PATH,server=on,wait=off' is supported");
        return false;
    }
    for (s = arg + strlen("unix:"); *s; s++) {
        if (*s == ',') {
            if (s[1] != ',') {
                break;
            }
            s++;
        }
        g_string_append_c(p, *s);
    }
    if (!p->len) {
        error_setg(errp, "the socket path is empty");
        return false;
    }
    *opts = keyval_parse(*s ? s + 1 : "", NULL, errp);
    if (!*opts) {
        return false;
    }
    *path = g_string_free(g_steal_pointer(&p), FALSE);
    return true;
}

bool opt_qmp(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = { "server", "wait", NULL };
    g_autoptr(KeyValList) opts = NULL;
    g_autofree char *path = NULL;
    g_autofree char *abs_path = NULL;

    if (!parse_qmp_spec(arg, &path, &opts, errp) ||
        !keyval_check_keys(opts, allowed, errp) ||
        !check_server_wait(opts, true, errp)) {
        return false;
    }
    if (phase == PHASE_CONFIG) {
        return true;
    }
    abs_path = socket_path(path);
    return monitor_add_qmp_unix(abs_path, false, errp);
}

static bool parse_fd(const char *str, int *fd, GError **errp)
{
    uint64_t v;

    if (!qemu_parse_uint(str, &v, NULL) || v > INT_MAX) {
        error_setg(errp, "fd '%s' is not a file descriptor number", str);
        return false;
    }
    if (fcntl((int)v, F_GETFD) < 0) {
        error_setg(errp, "fd %d is not open", (int)v);
        return false;
    }
    *fd = (int)v;
    return true;
}

static bool chardev_mon_wanted(const char *id)
{
    for (guint i = 0; mon_chardevs && i < mon_chardevs->len; i++) {
        if (g_str_equal(g_ptr_array_index(mon_chardevs, i), id)) {
            return true;
        }
    }
    return false;
}

bool opt_chardev(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = {
        "backend", "id", "path", "fd", "server", "wait", NULL
    };
    g_autoptr(KeyValList) opts = keyval_parse(arg, "backend", errp);
    const char *backend, *id, *path, *fd_str;
    Chardev *c;
    int fd = -1;

    if (!opts) {
        return false;
    }
    backend = keyval_get(opts, "backend");
    id = keyval_get(opts, "id");
    if (phase == PHASE_MONITORS) {
        if (!chardev_mon_wanted(id)) {
            warn_report("chardev '%s' is not used by any -mon: ignored", id);
        }
        return true;
    }
    if (!backend) {
        error_setg(errp, "Parameter 'backend' is missing");
        return false;
    }
    if (!g_str_equal(backend, "socket")) {
        error_setg(errp, "chardev backend '%s' is not supported (only "
                   "'socket', for -mon)", backend);
        return false;
    }
    if (!keyval_check_keys(opts, allowed, errp)) {
        return false;
    }
    if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (chardev_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return false;
    }
    path = keyval_get(opts, "path");
    fd_str = keyval_get(opts, "fd");
    if (!path == !fd_str) {
        error_setg(errp, "chardev '%s' needs exactly one of path=PATH (a "
                   "UNIX socket) and fd=FD", id);
        return false;
    }
    if (path && !*path) {
        error_setg(errp, "the socket path is empty");
        return false;
    }
    if (!check_server_wait(opts, path != NULL, errp) ||
        (fd_str && !parse_fd(fd_str, &fd, errp))) {
        return false;
    }

    c = g_new0(Chardev, 1);
    c->id = g_strdup(id);
    c->path = g_strdup(path);
    c->fd = fd;
    if (!chardevs) {
        chardevs = g_ptr_array_new_with_free_func(chardev_free);
    }
    g_ptr_array_add(chardevs, c);
    return true;
}

bool opt_mon(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = {
        "chardev", "mode", "pretty", "id", NULL
    };
    g_autoptr(KeyValList) opts = keyval_parse(arg, "chardev", errp);
    g_autofree char *abs_path = NULL;
    const char *id, *mode;
    bool pretty = false;
    Chardev *c;
    int fd;

    if (!opts || !keyval_check_keys(opts, allowed, errp) ||
        !keyval_get_bool(opts, "pretty", &pretty, errp)) {
        return false;
    }
    id = keyval_get(opts, "chardev");
    mode = keyval_get(opts, "mode");
    if (!id) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    /* QEMU's default mode is the human monitor. */
    if (!mode || !g_str_equal(mode, "control")) {
        error_setg(errp, "mode=%s is not supported: qemu-remote serves QMP "
                   "only (mode=control)", mode ? mode : "readline");
        return false;
    }
    if (pretty) {
        error_setg(errp, "pretty=on is not supported");
        return false;
    }
    if (phase == PHASE_CONFIG) {
        if (!mon_chardevs) {
            mon_chardevs = g_ptr_array_new_with_free_func(g_free);
        }
        g_ptr_array_add(mon_chardevs, g_strdup(id));
        return true;
    }

    c = chardev_find(id);
    if (!c) {
        error_setg(errp, "chardev \"%s\" not found", id);
        return false;
    }
    if (c->in_use) {
        error_setg(errp, "Device '%s' is in use", id);
        return false;
    }
    c->in_use = true;
    if (c->path) {
        abs_path = socket_path(c->path);
        return monitor_add_qmp_unix(abs_path, false, errp);
    }
    /* The monitor owns the fd from here, even on failure. */
    fd = c->fd;
    c->fd = -1;
    return monitor_add_qmp_fd(fd, errp);
}

void cli_monitors_cleanup(void)
{
    monitor_cleanup();
    g_clear_pointer(&chardevs, g_ptr_array_unref);
    g_clear_pointer(&mon_chardevs, g_ptr_array_unref);
}
