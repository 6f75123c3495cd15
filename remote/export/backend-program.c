/*
 * The vhost-user "backend program conventions" for a block backend
 * (docs/interop/vhost-user.md of QEMU): what a management tool that finds
 * us through share/qemu/vhost-user/50-qemu-remote-blk.json may pass.
 *
 *   qemu-remote --print-capabilities
 *   qemu-remote --socket-path=PATH | --fd=FDNUM  --blk-file=PATH [--read-only]
 *
 * The second form is shorthand for
 *   -blockdev driver=file,node-name=vhost-user-blk0,filename=PATH[,read-only=on]
 *   -export type=vhost-user-blk,id=vhost-user-blk0,node-name=vhost-user-blk0,
 *           addr.type=unix,addr.path=PATH | addr.type=fd,addr.str=FDNUM,
 *           writable=on|off,num-queues=16
 * where --fd names an already connected socket: the process exits (status
 * 0) when that frontend hangs up.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/option.h"
#include "block/block.h"
#include "remote/export.h"
#include "remote/vhost-user.h"

#include <fcntl.h>

#define NODE_NAME "vhost-user-blk0"
#define EXPORT_ID "vhost-user-blk0"

/*
 * The convention has no queue-count option, and QEMU's vhost-user-blk-pci
 * wants one queue per vCPU unless told otherwise: offer plenty.
 */
#define BACKEND_PROGRAM_QUEUES 16

/* Main thread only. */
static struct {
    char *socket_path;
    char *fd;
    char *blk_file;
    bool read_only;
    bool given;
    bool started;
} bp;

static const char *const capabilities[] = { "read-only", "blk-file", NULL };

bool backend_program_print_capabilities(GError **errp)
{
    g_autofree char *json = vhost_user_capabilities_json("block",
                                                         capabilities);

    printf("%s\n", json);
    fflush(stdout);
    return true;
}

bool backend_program_set(const char *name, const char *value, GError **errp)
{
    char **slot = NULL;

    if (g_str_equal(name, "socket-path")) {
        slot = &bp.socket_path;
    } else if (g_str_equal(name, "fd")) {
        slot = &bp.fd;
    } else if (g_str_equal(name, "blk-file")) {
        slot = &bp.blk_file;
    } else if (g_str_equal(name, "read-only")) {
        bp.read_only = true;
    } else {
        error_setg(errp, "unknown backend program option '%s'", name);
        return false;
    }
    if (slot) {
        if (!*value) {
            error_setg(errp, "needs a non-empty value");
            return false;
        }
        g_free(*slot);
        *slot = g_strdup(value);
    }
    bp.given = true;
    return true;
}

/* "a,b" -> "a,,b": a value inside a key=value list. */
static char *escape_commas(const char *s)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);

    return g_strjoinv(",,", parts);
}

static bool check_fd(const char *str, GError **errp)
{
    uint64_t fd;

    if (!qemu_parse_uint(str, &fd, NULL) || fd > INT_MAX ||
        fcntl((int)fd, F_GETFD) < 0) {
        error_setg(errp, "--fd=%s: not an open file descriptor", str);
        return false;
    }
    return true;
}

bool backend_program_start(GError **errp)
{
    g_autofree char *file = NULL;
    g_autofree char *bdev = NULL;
    g_autoptr(KeyValList) kv = NULL;
    SocketAddress addr = { 0 };
    BlockExportOptions opts = {
        .type = BLOCK_EXPORT_TYPE_VHOST_USER_BLK,
        .id = (char *)EXPORT_ID,
        .node_name = (char *)NODE_NAME,
        .has_writable = true,
        .writable = !bp.read_only,
    };

    if (!bp.given || bp.started) {
        return true;
    }
    bp.started = true;
    if (!bp.blk_file) {
        error_setg(errp, "--blk-file is required");
        return false;
    }
    if (!!bp.socket_path == !!bp.fd) {
        error_setg(errp, bp.fd ? "--socket-path and --fd cannot be used "
                   "together" : "one of --socket-path and --fd is required");
        return false;
    }
    if (bp.fd && !check_fd(bp.fd, errp)) {
        return false;
    }

    file = escape_commas(bp.blk_file);
    bdev = g_strdup_printf("driver=file,node-name=" NODE_NAME
                           ",filename=%s%s", file,
                           bp.read_only ? ",read-only=on" : "");
    kv = keyval_parse(bdev, NULL, errp);
    if (!kv || !blockdev_add_keyval(kv, errp)) {
        error_prepend(errp, "--blk-file=%s: ", bp.blk_file);
        return false;
    }

    if (bp.socket_path) {
        addr.type = SOCKET_ADDRESS_TYPE_UNIX;
        addr.u.q_unix.path = bp.socket_path;
    } else {
        addr.type = SOCKET_ADDRESS_TYPE_FD;
        addr.u.fd.str = bp.fd;
    }
    opts.u.vhost_user_blk.addr = &addr;
    opts.u.vhost_user_blk.has_num_queues = true;
    opts.u.vhost_user_blk.num_queues = BACKEND_PROGRAM_QUEUES;
    return block_export_add(&opts, errp);
}
