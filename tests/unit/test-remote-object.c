/*
 * "-object x-remote-object,id=,devid=,fd=" (remote/mpqemu/remote-obj.c):
 * what create() accepts and every way it refuses.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "hw/misc/testdev.h"
#include "remote/mpqemu.h"

#include <fcntl.h>
#include <sys/socket.h>

static const DeviceType plain_type = {
    .name = "plain-device",
    .desc = "a device on no bus",
    .instance_size = sizeof(Device),
};

const DeviceType *const device_types[] = { &testdev_type, &plain_type, NULL };

static Device *new_device(const char *spec)
{
    g_autoptr(KeyValList) opts = keyval_parse(spec, "driver", NULL);
    Device *dev = device_new(opts, NULL);

    g_assert_nonnull(dev);
    return dev;
}

/* Creates an x-remote-object from @spec; returns the error message (to be
 * freed), or NULL on success. */
static char *create(const char *spec)
{
    g_autoptr(KeyValList) opts = keyval_parse(spec, "qom-type", NULL);
    GError *err = NULL;
    char *msg;

    g_assert_nonnull(opts);
    if (remote_object_type.create(opts, &err)) {
        return NULL;
    }
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static void assert_refused(const char *spec, const char *expect)
{
    g_autofree char *msg = create(spec);

    g_assert_nonnull(msg);
    g_test_message("%s -> %s", spec, msg);
    g_assert_nonnull(strstr(msg, expect));
}

typedef struct Fixture {
    Device *t0, *t1, *plain;
    int sv[2];
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data)
{
    fx->t0 = new_device("x-remote-testdev,id=t0");
    fx->t1 = new_device("x-remote-testdev,id=t1");
    fx->plain = new_device("plain-device,id=p0");
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, fx->sv), ==, 0);
}

static void fixture_teardown(Fixture *fx, gconstpointer data)
{
    /* Frees the links (closing their sockets), then the devices. */
    remote_object_type.cleanup();
    device_free(fx->t0);
    device_free(fx->t1);
    device_free(fx->plain);
    close(fx->sv[0]);
    if (fcntl(fx->sv[1], F_GETFD) >= 0) {
        close(fx->sv[1]);
    }
}

static char *spec_with_fd(const char *id, const char *devid, int fd)
{
    return g_strdup_printf("x-remote-object,id=%s,devid=%s,fd=%d", id, devid,
                           fd);
}

static void test_connected_stream_socket_accepted(Fixture *fx,
                                                  gconstpointer data)
{
    g_autofree char *spec = spec_with_fd("r0", "t0", fx->sv[1]);
    g_autofree char *msg = create(spec);

    g_assert_null(msg);
    g_assert_cmpstr(fx->t0->transport.name, ==, "mpqemu");
    g_assert_cmpstr(fx->t0->transport.state(fx->t0->transport.opaque), ==,
                    "disconnected");
    /* Not inherited by anything the process starts. */
    g_assert_true(fcntl(fx->sv[1], F_GETFD) & FD_CLOEXEC);
}

static void test_missing_properties_refused(Fixture *fx, gconstpointer data)
{
    assert_refused("x-remote-object,devid=t0,fd=3", "'id' is missing");
    assert_refused("x-remote-object,id=r0,fd=3", "'devid' is missing");
    assert_refused("x-remote-object,id=r0,devid=t0", "'fd' is missing");
}

static void test_unknown_property_refused(Fixture *fx, gconstpointer data)
{
    assert_refused("x-remote-object,id=r0,devid=t0,fd=3,socket=3", "socket");
}

static void test_unknown_device_refused(Fixture *fx, gconstpointer data)
{
    g_autofree char *spec = spec_with_fd("r0", "nope", fx->sv[1]);

    assert_refused(spec, "Device 'nope' not found");
}

static void test_non_pci_device_refused(Fixture *fx, gconstpointer data)
{
    g_autofree char *spec = spec_with_fd("r0", "p0", fx->sv[1]);

    assert_refused(spec, "Device 'p0' is not a PCI device");
}

static void test_fd_name_refused(Fixture *fx, gconstpointer data)
{
    assert_refused("x-remote-object,id=r0,devid=t0,fd=sock0",
                   "fd 'sock0' is not a file descriptor number");
}

static void test_closed_fd_refused(Fixture *fx, gconstpointer data)
{
    int fd = dup(fx->sv[1]);
    g_autofree char *spec = spec_with_fd("r0", "t0", fd);

    close(fd);
    assert_refused(spec, "Bad file descriptor");
}

static void test_regular_file_refused(Fixture *fx, gconstpointer data)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    g_autofree char *spec = spec_with_fd("r0", "t0", fd);

    assert_refused(spec, "is not a Unix stream socket");
    close(fd);
}

static void test_datagram_socket_refused(Fixture *fx, gconstpointer data)
{
    int sv[2];
    g_autofree char *spec = NULL;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), ==, 0);
    spec = spec_with_fd("r0", "t0", sv[1]);
    assert_refused(spec, "is not a Unix stream socket");
    close(sv[0]);
    close(sv[1]);
}

static void test_unconnected_socket_refused(Fixture *fx, gconstpointer data)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_autofree char *spec = spec_with_fd("r0", "t0", fd);

    assert_refused(spec, "is not a connected socket");
    close(fd);
}

static void test_device_served_twice_refused(Fixture *fx, gconstpointer data)
{
    int sv[2];
    g_autofree char *first = spec_with_fd("r0", "t0", fx->sv[1]);
    g_autofree char *second = NULL;
    g_autofree char *msg = create(first);

    g_assert_null(msg);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    second = spec_with_fd("r1", "t0", sv[1]);

    assert_refused(second, "Device 't0' is already served by "
                   "x-remote-object 'r0'");
    close(sv[0]);
    close(sv[1]);
}

static void test_duplicate_object_id_refused(Fixture *fx, gconstpointer data)
{
    int sv[2];
    g_autofree char *first = spec_with_fd("r0", "t0", fx->sv[1]);
    g_autofree char *second = NULL;
    g_autofree char *msg = create(first);

    g_assert_null(msg);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    second = spec_with_fd("r0", "t1", sv[1]);

    assert_refused(second, "x-remote-object 'r0' already exists");
    close(sv[0]);
    close(sv[1]);
}

static void test_two_objects_for_two_devices(Fixture *fx, gconstpointer data)
{
    int sv[2];
    g_autofree char *first = spec_with_fd("r0", "t0", fx->sv[1]);
    g_autofree char *second = NULL;
    g_autofree char *msg0 = create(first);
    g_autofree char *msg1 = NULL;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    second = spec_with_fd("r1", "t1", sv[1]);
    msg1 = create(second);

    g_assert_null(msg0);
    g_assert_null(msg1);
    g_assert_cmpstr(fx->t1->transport.name, ==, "mpqemu");
    close(sv[0]);
}

static void add(const char *name, void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/remote-object/connected-stream-socket-accepted",
        test_connected_stream_socket_accepted);
    add("/remote-object/missing-properties-refused",
        test_missing_properties_refused);
    add("/remote-object/unknown-property-refused",
        test_unknown_property_refused);
    add("/remote-object/unknown-device-refused", test_unknown_device_refused);
    add("/remote-object/non-pci-device-refused", test_non_pci_device_refused);
    add("/remote-object/fd-name-refused", test_fd_name_refused);
    add("/remote-object/closed-fd-refused", test_closed_fd_refused);
    add("/remote-object/regular-file-refused", test_regular_file_refused);
    add("/remote-object/datagram-socket-refused",
        test_datagram_socket_refused);
    add("/remote-object/unconnected-socket-refused",
        test_unconnected_socket_refused);
    add("/remote-object/device-served-twice-refused",
        test_device_served_twice_refused);
    add("/remote-object/duplicate-object-id-refused",
        test_duplicate_object_id_refused);
    add("/remote-object/two-objects-for-two-devices",
        test_two_objects_for_two_devices);
    return g_test_run();
}
