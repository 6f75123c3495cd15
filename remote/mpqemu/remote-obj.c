/*
 * "-object x-remote-object,id=ID,devid=DEV,fd=N": serve PCI device DEV over
 * the mpqemu socket inherited as fd N.  Unlike QEMU's remote, a process may
 * hold any number of these, one per device.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/mpqemu.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

typedef struct RemoteObject {
    char *id;
    char *devid;
    MPQemuLink *link;
} RemoteObject;

/* Main thread only. */
static GPtrArray *remote_objects;

static RemoteObject *find_object(const char *id, const char *devid)
{
    for (guint i = 0; remote_objects && i < remote_objects->len; i++) {
        RemoteObject *o = g_ptr_array_index(remote_objects, i);

        if ((id && g_str_equal(o->id, id)) ||
            (devid && g_str_equal(o->devid, devid))) {
            return o;
        }
    }
    return NULL;
}

/* fd=N must be an inherited, connected AF_UNIX stream socket: fds travel
 * with SCM_RIGHTS and the protocol is a byte stream. */
static bool parse_socket_fd(const char *str, int *out, GError **errp)
{
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof(peer);
    int type = 0, domain = 0;
    socklen_t len = sizeof(int);
    uint64_t v;
    struct stat st;

    if (!qemu_parse_uint(str, &v, NULL) || v > INT_MAX) {
        error_setg(errp, "fd '%s' is not a file descriptor number", str);
        return false;
    }
    if (fstat((int)v, &st) < 0) {
        error_setg_errno(errp, errno, "fd %d", (int)v);
        return false;
    }
    if (!S_ISSOCK(st.st_mode) ||
        getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockopt((int)v, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        type != SOCK_STREAM || domain != AF_UNIX) {
        error_setg(errp, "fd %d is not a Unix stream socket", (int)v);
        return false;
    }
    if (getpeername((int)v, (struct sockaddr *)&peer, &peer_len) < 0) {
        error_setg(errp, "fd %d is not a connected socket", (int)v);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool remote_object_create(const KeyValList *opts, GError **errp)
{
    static const char *const allowed[] = {
        "qom-type", "id", "devid", "fd", NULL
    };
    const char *id = keyval_get(opts, "id");
    const char *devid = keyval_get(opts, "devid");
    const char *fd_str = keyval_get(opts, "fd");
    RemoteObject *other;
    RemoteObject *o;
    Device *dev;
    int fd;

    if (!keyval_check_keys(opts, allowed, errp)) {
        return false;
    }
    if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (!devid) {
        error_setg(errp, "Parameter 'devid' is missing");
        return false;
    }
    if (!fd_str) {
        error_setg(errp, "Parameter 'fd' is missing");
        return false;
    }
    if (find_object(id, NULL)) {
        error_setg(errp, "x-remote-object '%s' already exists", id);
        return false;
    }
    dev = device_find(devid);
    if (!dev) {
        error_setg(errp, "Device '%s' not found", devid);
        return false;
    }
    if (dev->type->bus != &pci_bus_info) {
        error_setg(errp, "Device '%s' is not a PCI device", devid);
        return false;
    }
    other = find_object(NULL, devid);
    if (other) {
        error_setg(errp, "Device '%s' is already served by x-remote-object "
                   "'%s'", devid, other->id);
        return false;
    }
    if (!parse_socket_fd(fd_str, &fd, errp) ||
        !sandbox_require(&mpqemu_sandbox_policy, errp)) {
        return false;
    }
    /* Not for anything this process might start. */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "fd %d", fd);
        return false;
    }

    o = g_new0(RemoteObject, 1);
    o->id = g_strdup(id);
    o->devid = g_strdup(devid);
    o->link = mpqemu_link_new(PCI_DEVICE(dev), fd, id);
    if (!remote_objects) {
        remote_objects = g_ptr_array_new();
    }
    g_ptr_array_add(remote_objects, o);
    return true;
}

static bool remote_object_start(GError **errp)
{
    for (guint i = 0; remote_objects && i < remote_objects->len; i++) {
        RemoteObject *o = g_ptr_array_index(remote_objects, i);

        if (!mpqemu_link_start(o->link, errp)) {
            return false;
        }
    }
    return true;
}

static void remote_object_cleanup(void)
{
    for (guint i = 0; remote_objects && i < remote_objects->len; i++) {
        RemoteObject *o = g_ptr_array_index(remote_objects, i);

        mpqemu_link_free(o->link);
        g_free(o->id);
        g_free(o->devid);
        g_free(o);
    }
    g_clear_pointer(&remote_objects, g_ptr_array_unref);
}

const ObjectType remote_object_type = {
    .name = "x-remote-object",
    .desc = "serve a PCI device to QEMU's x-pci-proxy-dev over an mpqemu "
            "socket (devid=DEVICE-ID,fd=FD)",
    .early = false,
    .create = remote_object_create,
    .start = remote_object_start,
    .cleanup = remote_object_cleanup,
};
