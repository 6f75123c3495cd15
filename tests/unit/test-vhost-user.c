/*
 * vhost-user session: message validation, replies and ring life cycle,
 * with a fake device behind VhostUserBackendOps and the frontend played by
 * the test on the other end of a socketpair.
 *
 * Messages go through the real reader (vu_session_read()) so framing, fd
 * passing and the header checks are the production ones.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/vhost-user/session.h"
#include "qemu-remote/sockets.h"

#include <fcntl.h>
#include <linux/virtio_config.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/eventfd.h>

#define NUM_QUEUES      4
#define MAX_QUEUE_SIZE  1024
#define CONFIG_SIZE     60
#define MEM_SIZE        (1 << 20)   /* 1 MiB of fake guest RAM */
#define GPA_BASE        0x100000    /* where that RAM sits for the guest */
#define UADDR_BASE      0x7f0000000000ull /* and in the frontend's VA */
#define DEV_FEATURES    ((1ull << VIRTIO_F_VERSION_1) | 0x46)

/* What the fake device saw. */
typedef struct FakeDevice {
    uint64_t features;
    int set_features_calls;
    bool running[NUM_QUEUES];
    VhostUserVringInfo info[NUM_QUEUES];
    uint16_t stop_base[NUM_QUEUES];     /* queue_stop()'s answer */
    int starts, stops, resets;
    int call_fd[NUM_QUEUES];
    uint8_t config[CONFIG_SIZE];
} FakeDevice;

static uint64_t fake_get_features(void *opaque)
{
    return DEV_FEATURES;
}

static bool fake_set_features(void *opaque, uint64_t features, GError **errp)
{
    FakeDevice *d = opaque;

    d->features = features;
    d->set_features_calls++;
    return true;
}

static uint32_t fake_get_config_size(void *opaque)
{
    return CONFIG_SIZE;
}

static void fake_get_config(void *opaque, uint8_t *buf, uint32_t offset,
                            uint32_t len)
{
    FakeDevice *d = opaque;

    memcpy(buf, d->config + offset, len);
}

static void fake_set_config(void *opaque, const uint8_t *buf, uint32_t offset,
                            uint32_t len)
{
    FakeDevice *d = opaque;

    memcpy(d->config + offset, buf, len);
}

static bool fake_queue_start(void *opaque, const VhostUserVringInfo *info,
                             GError **errp)
{
    FakeDevice *d = opaque;

    g_assert_false(d->running[info->index]);
    d->running[info->index] = true;
    d->info[info->index] = *info;
    d->call_fd[info->index] = info->call_fd;
    d->starts++;
    return true;
}

static uint16_t fake_queue_stop(void *opaque, unsigned index)
{
    FakeDevice *d = opaque;

    g_assert_true(d->running[index]);
    d->running[index] = false;
    d->stops++;
    return d->stop_base[index];
}

static void fake_queue_set_call(void *opaque, unsigned index, int fd)
{
    FakeDevice *d = opaque;

    d->call_fd[index] = fd;
}

static void fake_queue_set_log(void *opaque, unsigned index, bool log_used,
                               uint64_t used_gpa)
{
    FakeDevice *d = opaque;

    d->info[index].log_used = log_used;
    d->info[index].used_gpa = used_gpa;
}

static void fake_reset(void *opaque)
{
    FakeDevice *d = opaque;

    for (unsigned i = 0; i < NUM_QUEUES; i++) {
        g_assert_false(d->running[i]);
    }
    d->resets++;
}

static const VhostUserBackendOps fake_ops = {
    .get_features = fake_get_features,
    .set_features = fake_set_features,
    .get_config_size = fake_get_config_size,
    .get_config = fake_get_config,
    .set_config = fake_set_config,
    .queue_start = fake_queue_start,
    .queue_stop = fake_queue_stop,
    .queue_set_call = fake_queue_set_call,
    .queue_set_log = fake_queue_set_log,
    .reset = fake_reset,
};

typedef struct Fixture {
    FakeDevice dev;
    VhostUserBackend be;
    VuSession *s;
    int front;          /* the frontend's end of the socketpair */
    int memfd;          /* fake guest RAM */
    uint8_t *ram;
    unsigned fds_before;
} Fixture;

static unsigned open_fds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    unsigned n = 0;

    while (g_dir_read_name(dir)) {
        n++;
    }
    return n;
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    int sv[2];

    memset(f, 0, sizeof(*f));
    f->fds_before = open_fds();
    for (unsigned i = 0; i < CONFIG_SIZE; i++) {
        f->dev.config[i] = (uint8_t)(i + 1);
    }
    f->be = (VhostUserBackend) {
        .ops = &fake_ops,
        .opaque = &f->dev,
        .num_queues = NUM_QUEUES,
        .max_queue_size = MAX_QUEUE_SIZE,
        .dma = dma_space_new("test"),
    };
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    g_assert_cmpint(fcntl(sv[1], F_SETFL, O_NONBLOCK), ==, 0);
    f->front = sv[0];
    f->s = vu_session_new(NULL, &f->be, "test", sv[1]);
    f->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
    g_assert_cmpint(ftruncate(f->memfd, MEM_SIZE), ==, 0);
    f->ram = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                  f->memfd, 0);
    g_assert_true(f->ram != MAP_FAILED);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vu_session_free(f->s);
    dma_space_free(f->be.dma);
    munmap(f->ram, MEM_SIZE);
    close(f->memfd);
    close(f->front);
    /* Every fd the session received was closed or handed back. */
    g_assert_cmpuint(open_fds(), ==, f->fds_before);
}

/* Writes raw bytes (and fds) to the session's socket. */
static void send_raw(Fixture *f, const void *buf, size_t len, const int *fds,
                     unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (nfds) {
        unix_socket_attach_fds(&mh, control.buf, fds, nfds);
    }
    g_assert_cmpint(sendmsg(f->front, &mh, 0), ==, (ssize_t)len);
}

/* Sends one message and lets the session handle what arrived. */
static VuSessionResult send_msg(Fixture *f, uint32_t req, uint32_t flags,
                                const void *payload, uint32_t size,
                                const int *fds, unsigned nfds, GError **errp)
{
    g_autofree uint8_t *buf = g_malloc(12 + size);
    VhostUserHeader hdr = { .request = req, .flags = flags, .size = size };

    memcpy(buf, &hdr, sizeof(hdr));
    if (size) {
        memcpy(buf + 12, payload, size);
    }
    send_raw(f, buf, 12 + size, fds, nfds);
    return vu_session_read(f->s, errp);
}

/* A request that must be accepted. */
static void request(Fixture *f, uint32_t req, const void *payload,
                    uint32_t size, const int *fds, unsigned nfds)
{
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(send_msg(f, req, VHOST_USER_VERSION, payload, size, fds,
                             nfds, &err), ==, VU_SESSION_CONTINUE);
    g_assert_no_error(err);
}

static void request_u64(Fixture *f, uint32_t req, uint64_t v)
{
    request(f, req, &v, sizeof(v), NULL, 0);
}

static void request_state(Fixture *f, uint32_t req, uint32_t index,
                          uint32_t num)
{
    VhostUserVringState st = { .index = index, .num = num };

    request(f, req, &st, sizeof(st), NULL, 0);
}

/* A request that must end the session; returns the reason. */
static char *refused(Fixture *f, uint32_t req, uint32_t flags,
                     const void *payload, uint32_t size, const int *fds,
                     unsigned nfds)
{
    GError *err = NULL;
    char *msg;

    g_assert_cmpint(send_msg(f, req, flags, payload, size, fds, nfds, &err),
                    ==, VU_SESSION_FAILED);
    g_assert_nonnull(err);
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

/* Reads one reply and checks its header. */
static void read_reply(Fixture *f, uint32_t req, void *payload, uint32_t size,
                       int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    uint8_t buf[12 + 512];
    struct iovec iov = { .iov_base = buf, .iov_len = 12 + size };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
    VhostUserHeader hdr;
    struct cmsghdr *c;

    g_assert_cmpint(recvmsg(f->front, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC),
                    ==, (ssize_t)(12 + size));
    memcpy(&hdr, buf, sizeof(hdr));
    g_assert_cmpuint(hdr.request, ==, req);
    g_assert_cmphex(hdr.flags, ==, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK);
    g_assert_cmpuint(hdr.size, ==, size);
    memcpy(payload, buf + 12, size);
    c = CMSG_FIRSTHDR(&mh);
    if (fd) {
        g_assert_nonnull(c);
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    } else {
        g_assert_null(c);
    }
}

static uint64_t read_reply_u64(Fixture *f, uint32_t req)
{
    uint64_t v;

    read_reply(f, req, &v, sizeof(v), NULL);
    return v;
}

static void assert_no_reply(Fixture *f)
{
    char c;

    g_assert_cmpint(recv(f->front, &c, 1, MSG_DONTWAIT), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

/* The handshake QEMU 7.2 does on connect (specs: vhost-user.md 7.1). */
static void handshake(Fixture *f, uint64_t protocol_features)
{
    request(f, VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0);
    read_reply_u64(f, VHOST_USER_GET_FEATURES);
    request_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, protocol_features);
    request(f, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
}

static void add_ram(Fixture *f)
{
    VhostUserMemRegMsg reg = {
        .region = { .guest_phys_addr = GPA_BASE, .memory_size = MEM_SIZE,
                    .userspace_addr = UADDR_BASE, .mmap_offset = 0 },
    };

    request(f, VHOST_USER_ADD_MEM_REG, &reg, sizeof(reg), &f->memfd, 1);
}

static int new_eventfd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    return fd;
}

/* Sets up ring @index of @num entries at @offset into the fake RAM. */
static void setup_ring(Fixture *f, unsigned index, uint16_t num,
                       uint64_t offset, uint16_t base)
{
    VhostUserVringAddr addr = {
        .index = index,
        .desc_user_addr = UADDR_BASE + offset,
        .avail_user_addr = UADDR_BASE + offset + 16 * num,
        .used_user_addr = UADDR_BASE + offset + 0x4000,
        .log_guest_addr = GPA_BASE + offset + 0x4000,
    };
    int kick = new_eventfd();
    uint64_t idx = index;

    request_state(f, VHOST_USER_SET_VRING_NUM, index, num);
    request_state(f, VHOST_USER_SET_VRING_BASE, index, base);
    request(f, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
    request(f, VHOST_USER_SET_VRING_KICK, &idx, sizeof(idx), &kick, 1);
    close(kick);
}

static const uint64_t all_protocol_features = VU_PROTOCOL_FEATURES;

/* A session with every protocol feature and the fake RAM as its memory. */
static void negotiate_with_ram(Fixture *f)
{
    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES |
                (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    add_ram(f);
}

/* ... with ring 0 (128 entries at the start of the RAM) enabled. */
static void start_ring0(Fixture *f)
{
    negotiate_with_ram(f);
    setup_ring(f, 0, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
}

static void test_get_features_adds_protocol_and_log_bits(Fixture *f,
                                                         gconstpointer d)
{
    request(f, VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0);

    g_assert_cmphex(read_reply_u64(f, VHOST_USER_GET_FEATURES), ==,
                    DEV_FEATURES | (1ull << VHOST_USER_F_PROTOCOL_FEATURES) |
                    (1ull << VHOST_F_LOG_ALL));
}

static void test_get_protocol_features_offers_what_qemu_72_needs(
    Fixture *f, gconstpointer d)
{
    uint64_t pf;

    request(f, VHOST_USER_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0);
    pf = read_reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES);

    g_assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_MQ));
    g_assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_CONFIG));
    g_assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
    g_assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD));
    g_assert_true(pf & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
    g_assert_false(pf & (1ull << VHOST_USER_PROTOCOL_F_PAGEFAULT));
}

static void test_get_queue_num_answers_the_backend_maximum(Fixture *f,
                                                           gconstpointer d)
{
    handshake(f, all_protocol_features);

    request(f, VHOST_USER_GET_QUEUE_NUM, NULL, 0, NULL, 0);

    g_assert_cmpuint(read_reply_u64(f, VHOST_USER_GET_QUEUE_NUM), ==,
                     NUM_QUEUES);
}

static void test_get_queue_num_without_mq_is_refused(Fixture *f,
                                                     gconstpointer d)
{
    g_autofree char *why = NULL;

    handshake(f, 0);

    why = refused(f, VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION, NULL, 0,
                  NULL, 0);
    g_assert_nonnull(strstr(why, "protocol feature"));
}

static void test_unknown_request_is_refused(Fixture *f, gconstpointer d)
{
    g_autofree char *why = refused(f, 99, VHOST_USER_VERSION, NULL, 0, NULL,
                                   0);

    g_assert_nonnull(strstr(why, "unsupported request 99"));
}

static void test_request_with_reply_flag_is_refused(Fixture *f,
                                                    gconstpointer d)
{
    g_autofree char *why = refused(f, VHOST_USER_GET_FEATURES,
                                   VHOST_USER_VERSION | VHOST_USER_REPLY_MASK,
                                   NULL, 0, NULL, 0);

    g_assert_nonnull(strstr(why, "reply"));
}

static void test_wrong_version_is_refused(Fixture *f, gconstpointer d)
{
    g_autofree char *why = refused(f, VHOST_USER_GET_FEATURES, 0x2, NULL, 0,
                                   NULL, 0);

    g_assert_nonnull(strstr(why, "version"));
}

static void test_oversized_payload_is_refused_before_reading_it(
    Fixture *f, gconstpointer d)
{
    VhostUserHeader hdr = { .request = VHOST_USER_SET_MEM_TABLE,
                            .flags = VHOST_USER_VERSION,
                            .size = VHOST_USER_PAYLOAD_MAX + 1 };
    GError *err = NULL;

    /* Only the header is sent: the check must not wait for the body. */
    send_raw(f, &hdr, sizeof(hdr), NULL, 0);

    g_assert_cmpint(vu_session_read(f->s, &err), ==, VU_SESSION_FAILED);
    g_assert_nonnull(strstr(err->message, "exceeds"));
    g_error_free(err);
}

static void test_payload_size_disagreeing_with_request_is_refused(
    Fixture *f, gconstpointer d)
{
    uint32_t index = 0;
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, &index,
                  sizeof(index), NULL, 0);
    g_assert_nonnull(strstr(why, "payload size 4, expected 8"));
}

static void test_message_split_into_pieces_is_reassembled(Fixture *f,
                                                          gconstpointer d)
{
    uint8_t msg[12 + 8];
    VhostUserHeader hdr = { .request = VHOST_USER_SET_PROTOCOL_FEATURES,
                            .flags = VHOST_USER_VERSION, .size = 8 };
    uint64_t pf = 1ull << VHOST_USER_PROTOCOL_F_MQ;

    memcpy(msg, &hdr, 12);
    memcpy(msg + 12, &pf, 8);

    for (unsigned i = 0; i < sizeof(msg); i += 3) {
        send_raw(f, msg + i, MIN(3, sizeof(msg) - i), NULL, 0);
        g_assert_cmpint(vu_session_read(f->s, NULL), ==, VU_SESSION_CONTINUE);
    }

    g_assert_cmphex(f->s->protocol_features, ==, pf);
}

static void test_socket_closed_half_way_through_a_message_fails(
    Fixture *f, gconstpointer d)
{
    VhostUserHeader hdr = { .request = VHOST_USER_SET_FEATURES,
                            .flags = VHOST_USER_VERSION, .size = 8 };
    GError *err = NULL;

    send_raw(f, &hdr, sizeof(hdr), NULL, 0);
    shutdown(f->front, SHUT_WR);

    g_assert_cmpint(vu_session_read(f->s, &err), ==, VU_SESSION_FAILED);
    g_assert_nonnull(strstr(err->message, "middle of a message"));
    g_error_free(err);
}

static void test_socket_closed_between_messages_is_a_clean_end(
    Fixture *f, gconstpointer d)
{
    shutdown(f->front, SHUT_WR);

    g_assert_cmpint(vu_session_read(f->s, NULL), ==, VU_SESSION_CLOSED);
}

static void test_more_fds_than_allowed_are_refused_and_closed(
    Fixture *f, gconstpointer d)
{
    int fds[VHOST_USER_MAX_FDS + 1];
    uint64_t idx = 0;
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);
    for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++) {
        fds[i] = new_eventfd();
    }

    why = refused(f, VHOST_USER_SET_VRING_CALL, VHOST_USER_VERSION, &idx,
                  sizeof(idx), fds, G_N_ELEMENTS(fds));

    g_assert_nonnull(strstr(why, "more than 8 fds"));
    for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++) {
        close(fds[i]);
    }
}

static void test_vring_kick_without_its_fd_is_refused(Fixture *f,
                                                      gconstpointer d)
{
    uint64_t idx = 0;
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_KICK, VHOST_USER_VERSION, &idx,
                  sizeof(idx), NULL, 0);
    g_assert_nonnull(strstr(why, "0 fds, expected 1"));
}

static void test_vring_call_with_nofd_and_an_fd_is_refused(Fixture *f,
                                                           gconstpointer d)
{
    uint64_t v = VHOST_USER_VRING_NOFD_MASK;
    int fd = new_eventfd();
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_CALL, VHOST_USER_VERSION, &v,
                  sizeof(v), &fd, 1);
    g_assert_nonnull(strstr(why, "1 fds, expected 0"));
    close(fd);
}

static void test_queue_index_out_of_range_is_refused(Fixture *f,
                                                     gconstpointer d)
{
    VhostUserVringState st = { .index = NUM_QUEUES, .num = 128 };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, &st,
                  sizeof(st), NULL, 0);
    g_assert_nonnull(strstr(why, "queue index 4 out of range"));
}

static void test_ring_size_not_a_power_of_two_is_refused(Fixture *f,
                                                         gconstpointer d)
{
    VhostUserVringState st = { .index = 0, .num = 100 };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, &st,
                  sizeof(st), NULL, 0);
    g_assert_nonnull(strstr(why, "not a power of two"));
}

static void test_ring_size_at_the_limit_is_accepted(Fixture *f,
                                                    gconstpointer d)
{
    handshake(f, all_protocol_features);

    request_state(f, VHOST_USER_SET_VRING_NUM, 0, MAX_QUEUE_SIZE);

    g_assert_cmpuint(f->s->vrings[0].num, ==, MAX_QUEUE_SIZE);
}

static void test_ring_size_past_the_limit_is_refused(Fixture *f,
                                                     gconstpointer d)
{
    VhostUserVringState st = { .index = 0, .num = 2 * MAX_QUEUE_SIZE };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, &st,
                  sizeof(st), NULL, 0);
    g_assert_nonnull(strstr(why, "not a power of two up to 1024"));
}

static void test_ring_message_before_set_owner_is_refused(Fixture *f,
                                                          gconstpointer d)
{
    VhostUserVringState st = { .index = 0, .num = 128 };
    g_autofree char *why = refused(f, VHOST_USER_SET_VRING_NUM,
                                   VHOST_USER_VERSION, &st, sizeof(st), NULL,
                                   0);

    g_assert_nonnull(strstr(why, "before SET_OWNER"));
}

static void test_second_set_owner_is_refused(Fixture *f, gconstpointer d)
{
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, NULL, 0, NULL,
                  0);
    g_assert_nonnull(strstr(why, "already"));
}

static void test_features_not_offered_are_refused(Fixture *f,
                                                  gconstpointer d)
{
    uint64_t features = DEV_FEATURES | (1ull << 20);
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, &features,
                  sizeof(features), NULL, 0);
    g_assert_nonnull(strstr(why, "were not offered"));
}

static void test_same_features_while_rings_run_do_not_stop_them(
    Fixture *f, gconstpointer d)
{
    uint64_t acked = DEV_FEATURES | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);

    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, acked);
    add_ram(f);
    setup_ring(f, 0, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);

    request_u64(f, VHOST_USER_SET_FEATURES, acked);

    g_assert_cmpint(f->dev.set_features_calls, ==, 1);
    g_assert_cmpint(f->dev.stops, ==, 0);
    g_assert_cmphex(f->dev.features, ==, DEV_FEATURES);
}

static void test_log_all_while_rings_run_drains_them_once(Fixture *f,
                                                          gconstpointer d)
{
    uint64_t acked = DEV_FEATURES | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);

    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, acked);
    add_ram(f);
    setup_ring(f, 0, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);

    request_u64(f, VHOST_USER_SET_FEATURES, acked | (1ull << VHOST_F_LOG_ALL));

    g_assert_cmpint(f->dev.stops, ==, 1);
    g_assert_true(f->dev.running[0]);
    g_assert_cmpint(f->dev.set_features_calls, ==, 1);
}

static void test_need_reply_gets_exactly_one_ack(Fixture *f, gconstpointer d)
{
    uint64_t acked = DEV_FEATURES;

    handshake(f, all_protocol_features);

    g_assert_cmpint(send_msg(f, VHOST_USER_SET_FEATURES,
                             VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK,
                             &acked, sizeof(acked), NULL, 0, NULL),
                    ==, VU_SESSION_CONTINUE);

    g_assert_cmpuint(read_reply_u64(f, VHOST_USER_SET_FEATURES), ==, 0);
    assert_no_reply(f);
}

static void test_need_reply_without_reply_ack_gets_no_ack(Fixture *f,
                                                          gconstpointer d)
{
    uint64_t acked = DEV_FEATURES;

    handshake(f, 1ull << VHOST_USER_PROTOCOL_F_MQ);

    g_assert_cmpint(send_msg(f, VHOST_USER_SET_FEATURES,
                             VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK,
                             &acked, sizeof(acked), NULL, 0, NULL),
                    ==, VU_SESSION_CONTINUE);

    assert_no_reply(f);
}

static void test_request_with_reply_and_need_reply_gets_one_reply(
    Fixture *f, gconstpointer d)
{
    handshake(f, all_protocol_features);

    g_assert_cmpint(send_msg(f, VHOST_USER_GET_FEATURES,
                             VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK,
                             NULL, 0, NULL, 0, NULL),
                    ==, VU_SESSION_CONTINUE);

    read_reply_u64(f, VHOST_USER_GET_FEATURES);
    assert_no_reply(f);
}

static void test_get_config_returns_the_device_bytes(Fixture *f,
                                                     gconstpointer d)
{
    VhostUserConfig req = { .offset = 0, .size = 57 };
    VhostUserConfig rep;

    handshake(f, all_protocol_features);

    request(f, VHOST_USER_GET_CONFIG, &req, 12 + 57, NULL, 0);

    read_reply(f, VHOST_USER_GET_CONFIG, &rep, 12 + 57, NULL);
    g_assert_cmpuint(rep.offset, ==, 0);
    g_assert_cmpuint(rep.size, ==, 57);
    g_assert_cmpmem(rep.region, 57, f->dev.config, 57);
}

static void test_get_config_past_the_end_is_refused(Fixture *f,
                                                    gconstpointer d)
{
    VhostUserConfig req = { .offset = CONFIG_SIZE - 4, .size = 8 };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_GET_CONFIG, VHOST_USER_VERSION, &req, 12 + 8,
                  NULL, 0);
    g_assert_nonnull(strstr(why, "outside the device"));
}

static void test_set_config_reaches_the_device(Fixture *f, gconstpointer d)
{
    VhostUserConfig req = { .offset = 32, .size = 1, .region = { 1 } };

    handshake(f, all_protocol_features);

    request(f, VHOST_USER_SET_CONFIG, &req, 12 + 1, NULL, 0);

    g_assert_cmpuint(f->dev.config[32], ==, 1);
}

static void test_mem_table_with_fewer_fds_than_regions_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserMemory mem = {
        .nregions = 2,
        .regions = {
            { .guest_phys_addr = 0, .memory_size = 0x1000 },
            { .guest_phys_addr = 0x1000, .memory_size = 0x1000,
              .mmap_offset = 0x1000 },
        },
    };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, &mem,
                  8 + 2 * 32, &f->memfd, 1);
    g_assert_nonnull(strstr(why, "1 fds, expected 2"));
}

static void test_mem_table_size_disagreeing_with_region_count_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserMemory mem = { .nregions = 2 };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, &mem,
                  8 + 32, &f->memfd, 1);
    g_assert_nonnull(strstr(why, "payload size 40, expected 72"));
}

static void test_mem_region_that_overflows_is_refused(Fixture *f,
                                                      gconstpointer d)
{
    VhostUserMemRegMsg reg = {
        .region = { .guest_phys_addr = UINT64_MAX - 0xfff,
                    .memory_size = 0x2000 },
    };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_ADD_MEM_REG, VHOST_USER_VERSION, &reg,
                  sizeof(reg), &f->memfd, 1);
    g_assert_nonnull(strstr(why, "overflows"));
}

static void test_mem_regions_that_overlap_are_refused(Fixture *f,
                                                      gconstpointer d)
{
    VhostUserMemory mem = {
        .nregions = 2,
        .regions = {
            { .guest_phys_addr = 0, .memory_size = 0x2000,
              .userspace_addr = 0x10000 },
            { .guest_phys_addr = 0x1000, .memory_size = 0x2000,
              .userspace_addr = 0x20000 },
        },
    };
    int fds[2] = { f->memfd, f->memfd };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, &mem,
                  8 + 2 * 32, fds, 2);
    g_assert_nonnull(strstr(why, "overlap"));
    g_assert_cmpuint(dma_space_num_regions(f->be.dma), ==, 0);
}

static void test_mem_region_beyond_its_file_is_refused(Fixture *f,
                                                       gconstpointer d)
{
    VhostUserMemRegMsg reg = {
        .region = { .guest_phys_addr = 0, .memory_size = 2 * MEM_SIZE },
    };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_ADD_MEM_REG, VHOST_USER_VERSION, &reg,
                  sizeof(reg), &f->memfd, 1);
    g_assert_nonnull(strstr(why, "beyond its backing file"));
}

static void test_mem_region_backed_by_a_non_memory_fd_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserMemRegMsg reg = {
        .region = { .guest_phys_addr = 0, .memory_size = 0x1000 },
    };
    int efd = new_eventfd();
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_ADD_MEM_REG, VHOST_USER_VERSION, &reg,
                  sizeof(reg), &efd, 1);
    g_assert_nonnull(strstr(why, "not backed by a memory file"));
    close(efd);
}

static void test_identical_mem_table_keeps_rings_running(Fixture *f,
                                                         gconstpointer d)
{
    VhostUserMemory mem = {
        .nregions = 1,
        .regions = { { .guest_phys_addr = GPA_BASE, .memory_size = MEM_SIZE,
                       .userspace_addr = UADDR_BASE } },
    };

    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES |
                (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    request(f, VHOST_USER_SET_MEM_TABLE, &mem, 8 + 32, &f->memfd, 1);
    setup_ring(f, 0, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
    g_assert_cmpint(f->dev.starts, ==, 1);

    /* QEMU re-sends the same table ~10 ms after each start. */
    request(f, VHOST_USER_SET_MEM_TABLE, &mem, 8 + 32, &f->memfd, 1);

    g_assert_cmpint(f->dev.stops, ==, 0);
    g_assert_true(f->dev.running[0]);
}

static void test_vring_addr_outside_the_memory_table_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserVringAddr addr = {
        .index = 0,
        .desc_user_addr = UADDR_BASE + MEM_SIZE,
        .avail_user_addr = UADDR_BASE,
        .used_user_addr = UADDR_BASE,
    };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);
    add_ram(f);

    why = refused(f, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, &addr,
                  sizeof(addr), NULL, 0);
    g_assert_nonnull(strstr(why, "not inside guest memory"));
}

static void test_ring_reaching_past_the_memory_end_is_refused_at_start(
    Fixture *f, gconstpointer d)
{
    GError *err = NULL;
    VhostUserVringState en = { .index = 0, .num = 1 };

    negotiate_with_ram(f);
    /* Descriptor table of 1024 * 16 bytes starting 4 KiB before the end. */
    setup_ring(f, 0, 1024, MEM_SIZE - 0x1000 - 0x4000, 0);

    g_assert_cmpint(send_msg(f, VHOST_USER_SET_VRING_ENABLE,
                             VHOST_USER_VERSION, &en, sizeof(en), NULL, 0,
                             &err), ==, VU_SESSION_FAILED);
    g_assert_nonnull(strstr(err->message, "not inside guest memory"));
    g_assert_false(f->dev.running[0]);
    g_error_free(err);
}

static void test_misaligned_ring_is_refused(Fixture *f, gconstpointer d)
{
    VhostUserVringAddr addr = {
        .index = 0,
        .desc_user_addr = UADDR_BASE + 8,
        .avail_user_addr = UADDR_BASE + 0x1000,
        .used_user_addr = UADDR_BASE + 0x2000,
    };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);
    add_ram(f);

    why = refused(f, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, &addr,
                  sizeof(addr), NULL, 0);
    g_assert_nonnull(strstr(why, "misaligned"));
}

/*
 * SeaBIOS then Linux on one connection (specs: vhost-user.md 0.2-0.4):
 * SeaBIOS sets up queue 0 only, but both queues get ENABLE(1); the stop is
 * ENABLE(0) for all and GET_VRING_BASE; Linux starts both from 0.
 */
static void test_double_start_seabios_then_linux(Fixture *f, gconstpointer d)
{
    VhostUserVringState st;

    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, 0x140000046ull);
    add_ram(f);
    setup_ring(f, 0, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);
    g_assert_true(f->dev.running[0]);
    g_assert_false(f->dev.running[1]);

    f->dev.stop_base[0] = 29;
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 0);
    request_state(f, VHOST_USER_GET_VRING_BASE, 0, 0);
    read_reply(f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL);
    g_assert_cmpuint(st.index, ==, 0);
    g_assert_cmpuint(st.num, ==, 29);
    g_assert_false(f->dev.running[0]);

    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES |
                (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    setup_ring(f, 0, 128, 0x10000, 0);
    setup_ring(f, 1, 128, 0x20000, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);

    g_assert_true(f->dev.running[0]);
    g_assert_true(f->dev.running[1]);
    g_assert_cmpuint(f->dev.info[0].last_avail_idx, ==, 0);
    g_assert_cmphex(f->dev.info[1].desc_gpa, ==, GPA_BASE + 0x20000);
    g_assert_cmphex(f->dev.features, ==, DEV_FEATURES);
    g_assert_cmpint(f->dev.starts, ==, 3);
}

static void test_enabled_ring_without_kick_does_not_start(Fixture *f,
                                                          gconstpointer d)
{
    negotiate_with_ram(f);
    request_state(f, VHOST_USER_SET_VRING_NUM, 2, 128);

    request_state(f, VHOST_USER_SET_VRING_ENABLE, 2, 1);

    g_assert_false(f->dev.running[2]);
}

static void test_call_fd_replaced_while_running_reaches_the_device(
    Fixture *f, gconstpointer d)
{
    int call = new_eventfd();
    uint64_t idx = 0;

    start_ring0(f);

    request(f, VHOST_USER_SET_VRING_CALL, &idx, sizeof(idx), &call, 1);

    g_assert_cmpint(f->dev.call_fd[0], >=, 0);
    g_assert_cmpint(f->dev.stops, ==, 0);
    close(call);
}

static void test_ring_base_is_resumed_after_stop_and_cont(Fixture *f,
                                                          gconstpointer d)
{
    VhostUserVringState st;

    start_ring0(f);
    f->dev.stop_base[0] = 442;
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 0);
    request_state(f, VHOST_USER_GET_VRING_BASE, 0, 0);
    read_reply(f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL);

    setup_ring(f, 0, 128, 0, (uint16_t)st.num);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 0, 1);

    g_assert_cmpuint(f->dev.info[0].last_avail_idx, ==, 442);
}

static void test_inflight_region_round_trip(Fixture *f, gconstpointer d)
{
    VhostUserInflight in = { .num_queues = 2, .queue_size = 128 };
    VhostUserInflight rep;
    int fd = -1;

    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES |
                (1ull << VHOST_USER_F_PROTOCOL_FEATURES));

    request(f, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), NULL, 0);
    read_reply(f, VHOST_USER_GET_INFLIGHT_FD, &rep, sizeof(rep), &fd);
    g_assert_cmpuint(rep.mmap_size, ==, 4224);
    g_assert_cmpuint(rep.mmap_offset, ==, 0);
    request(f, VHOST_USER_SET_INFLIGHT_FD, &rep, sizeof(rep), &fd, 1);
    add_ram(f);
    setup_ring(f, 1, 128, 0, 0);
    request_state(f, VHOST_USER_SET_VRING_ENABLE, 1, 1);

    g_assert_true(f->dev.info[1].inflight == &f->s->inflight[1]);
    close(fd);
}

static void test_inflight_region_of_the_wrong_size_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserInflight in = { .mmap_size = 4096, .num_queues = 2,
                             .queue_size = 128 };
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_INFLIGHT_FD, VHOST_USER_VERSION, &in,
                  sizeof(in), &f->memfd, 1);
    g_assert_nonnull(strstr(why, "expected size 0x1080"));
}

/* Found by fuzz-vhost-user: the region's fields were then accessed at
 * misaligned addresses (undefined; UBSan stopped there). */
static void test_inflight_region_at_misaligned_offset_is_refused(
    Fixture *f, gconstpointer d)
{
    VhostUserInflight in = { .mmap_offset = 0x79, .num_queues = 1,
                             .queue_size = 128 };
    g_autofree char *why = NULL;

    in.mmap_size = vu_inflight_queue_region_size(128);
    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_INFLIGHT_FD, VHOST_USER_VERSION, &in,
                  sizeof(in), &f->memfd, 1);
    g_assert_nonnull(strstr(why, "offset 0x79 is not a multiple of 64"));
}

static void test_inflight_request_of_20_bytes_is_accepted(Fixture *f,
                                                          gconstpointer d)
{
    VhostUserInflight in = { .num_queues = 1, .queue_size = 256 };
    VhostUserInflight rep = { 0 };
    int fd = -1;

    handshake(f, all_protocol_features);

    request(f, VHOST_USER_GET_INFLIGHT_FD, &in, 20, NULL, 0);

    read_reply(f, VHOST_USER_GET_INFLIGHT_FD, &rep, 20, &fd);
    g_assert_cmpuint(rep.mmap_size, ==, vu_inflight_queue_region_size(256));
    close(fd);
}

static void test_log_base_gets_a_reply_and_logs_with_log_all(Fixture *f,
                                                             gconstpointer d)
{
    VhostUserLog log = { .mmap_size = 0x1000, .mmap_offset = 0 };
    int logfd = memfd_create("log", MFD_CLOEXEC);
    g_autoptr(DMATable) t = NULL;
    uint8_t *bitmap;
    uint8_t byte = 0xab;

    g_assert_cmpint(ftruncate(logfd, 0x1000), ==, 0);
    bitmap = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, logfd, 0);
    negotiate_with_ram(f);

    request(f, VHOST_USER_SET_LOG_BASE, &log, sizeof(log), &logfd, 1);
    g_assert_cmpuint(read_reply_u64(f, VHOST_USER_SET_LOG_BASE), ==, 0);
    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES |
                (1ull << VHOST_USER_F_PROTOCOL_FEATURES) |
                (1ull << VHOST_F_LOG_ALL));
    t = dma_space_acquire(f->be.dma);
    g_assert_true(dma_table_write(t, GPA_BASE + 5 * 4096 + 7, &byte, 1));

    /* page (GPA_BASE >> 12) + 5 = 0x105: byte 0x20, bit 5 */
    g_assert_cmphex(bitmap[0x20], ==, 1u << 5);
    munmap(bitmap, 0x1000);
    close(logfd);
}

static void test_log_base_without_log_all_does_not_log(Fixture *f,
                                                       gconstpointer d)
{
    VhostUserLog log = { .mmap_size = 0x1000 };
    int logfd = memfd_create("log", MFD_CLOEXEC);
    g_autoptr(DMATable) t = NULL;

    g_assert_cmpint(ftruncate(logfd, 0x1000), ==, 0);
    handshake(f, all_protocol_features);
    request_u64(f, VHOST_USER_SET_FEATURES, DEV_FEATURES);
    add_ram(f);

    request(f, VHOST_USER_SET_LOG_BASE, &log, sizeof(log), &logfd, 1);
    read_reply_u64(f, VHOST_USER_SET_LOG_BASE);

    t = dma_space_acquire(f->be.dma);
    g_assert_false(dma_table_logging(t));
    close(logfd);
}

static void test_log_flag_on_a_running_ring_keeps_it_running(Fixture *f,
                                                             gconstpointer d)
{
    VhostUserVringAddr addr = {
        .index = 0,
        .flags = 1u << VHOST_VRING_F_LOG,
        .desc_user_addr = UADDR_BASE,
        .avail_user_addr = UADDR_BASE + 16 * 128,
        .used_user_addr = UADDR_BASE + 0x4000,
        .log_guest_addr = GPA_BASE + 0x4000,
    };

    start_ring0(f);

    request(f, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);

    g_assert_cmpint(f->dev.stops, ==, 0);
    g_assert_true(f->dev.info[0].log_used);
    g_assert_cmphex(f->dev.info[0].used_gpa, ==, GPA_BASE + 0x4000);
}

static void test_new_addresses_for_a_running_ring_restart_it(Fixture *f,
                                                             gconstpointer d)
{
    VhostUserVringAddr addr = {
        .index = 0,
        .desc_user_addr = UADDR_BASE + 0x10000,
        .avail_user_addr = UADDR_BASE + 0x10000 + 16 * 128,
        .used_user_addr = UADDR_BASE + 0x14000,
    };

    start_ring0(f);

    request(f, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);

    g_assert_cmpint(f->dev.stops, ==, 1);
    g_assert_true(f->dev.running[0]);
    g_assert_cmphex(f->dev.info[0].desc_gpa, ==, GPA_BASE + 0x10000);
}

static void test_status_reads_back_what_was_set(Fixture *f, gconstpointer d)
{
    handshake(f, all_protocol_features);

    request_u64(f, VHOST_USER_SET_STATUS, 0xf);
    request(f, VHOST_USER_GET_STATUS, NULL, 0, NULL, 0);

    g_assert_cmphex(read_reply_u64(f, VHOST_USER_GET_STATUS), ==, 0xf);
}

static void test_status_beyond_a_byte_is_refused(Fixture *f, gconstpointer d)
{
    uint64_t status = 0x100;
    g_autofree char *why = NULL;

    handshake(f, all_protocol_features);

    why = refused(f, VHOST_USER_SET_STATUS, VHOST_USER_VERSION, &status,
                  sizeof(status), NULL, 0);
    g_assert_nonnull(strstr(why, "status byte"));
}

static void test_reset_device_stops_rings_and_keeps_memory(Fixture *f,
                                                           gconstpointer d)
{
    start_ring0(f);

    request(f, VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0);

    g_assert_false(f->dev.running[0]);
    g_assert_cmpint(f->dev.resets, ==, 1);
    g_assert_cmpuint(dma_space_num_regions(f->be.dma), ==, 1);
}

static void test_max_mem_slots_answers_the_table_limit(Fixture *f,
                                                       gconstpointer d)
{
    handshake(f, all_protocol_features);

    request(f, VHOST_USER_GET_MAX_MEM_SLOTS, NULL, 0, NULL, 0);

    g_assert_cmpuint(read_reply_u64(f, VHOST_USER_GET_MAX_MEM_SLOTS), ==,
                     DMA_MAX_REGIONS);
}

static void test_rem_mem_reg_removes_the_region(Fixture *f, gconstpointer d)
{
    VhostUserMemRegMsg reg = {
        .region = { .guest_phys_addr = GPA_BASE, .memory_size = MEM_SIZE,
                    .userspace_addr = UADDR_BASE },
    };

    handshake(f, all_protocol_features);
    add_ram(f);

    request(f, VHOST_USER_REM_MEM_REG, &reg, sizeof(reg), NULL, 0);

    g_assert_cmpuint(dma_space_num_regions(f->be.dma), ==, 0);
}

#define ADD(path, fn) \
    g_test_add("/vhost-user/" path, Fixture, NULL, fixture_setup, fn, \
               fixture_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("get-features-adds-vhost-bits",
        test_get_features_adds_protocol_and_log_bits);
    ADD("protocol-features-for-qemu-72",
        test_get_protocol_features_offers_what_qemu_72_needs);
    ADD("get-queue-num", test_get_queue_num_answers_the_backend_maximum);
    ADD("get-queue-num-without-mq-refused",
        test_get_queue_num_without_mq_is_refused);
    ADD("unknown-request-refused", test_unknown_request_is_refused);
    ADD("reply-flag-refused", test_request_with_reply_flag_is_refused);
    ADD("wrong-version-refused", test_wrong_version_is_refused);
    ADD("oversized-payload-refused",
        test_oversized_payload_is_refused_before_reading_it);
    ADD("payload-size-mismatch-refused",
        test_payload_size_disagreeing_with_request_is_refused);
    ADD("split-message-reassembled",
        test_message_split_into_pieces_is_reassembled);
    ADD("closed-mid-message-fails",
        test_socket_closed_half_way_through_a_message_fails);
    ADD("closed-between-messages-ends",
        test_socket_closed_between_messages_is_a_clean_end);
    ADD("too-many-fds-refused",
        test_more_fds_than_allowed_are_refused_and_closed);
    ADD("kick-without-fd-refused", test_vring_kick_without_its_fd_is_refused);
    ADD("call-nofd-with-fd-refused",
        test_vring_call_with_nofd_and_an_fd_is_refused);
    ADD("queue-index-out-of-range-refused",
        test_queue_index_out_of_range_is_refused);
    ADD("ring-size-not-power-of-two-refused",
        test_ring_size_not_a_power_of_two_is_refused);
    ADD("ring-size-at-limit", test_ring_size_at_the_limit_is_accepted);
    ADD("ring-size-past-limit-refused",
        test_ring_size_past_the_limit_is_refused);
    ADD("before-set-owner-refused",
        test_ring_message_before_set_owner_is_refused);
    ADD("second-set-owner-refused", test_second_set_owner_is_refused);
    ADD("features-not-offered-refused",
        test_features_not_offered_are_refused);
    ADD("same-features-while-running",
        test_same_features_while_rings_run_do_not_stop_them);
    ADD("log-all-while-running-drains-once",
        test_log_all_while_rings_run_drains_them_once);
    ADD("need-reply-one-ack", test_need_reply_gets_exactly_one_ack);
    ADD("need-reply-without-reply-ack",
        test_need_reply_without_reply_ack_gets_no_ack);
    ADD("reply-and-need-reply-one-reply",
        test_request_with_reply_and_need_reply_gets_one_reply);
    ADD("get-config", test_get_config_returns_the_device_bytes);
    ADD("get-config-past-end-refused",
        test_get_config_past_the_end_is_refused);
    ADD("set-config", test_set_config_reaches_the_device);
    ADD("mem-table-missing-fds-refused",
        test_mem_table_with_fewer_fds_than_regions_is_refused);
    ADD("mem-table-size-mismatch-refused",
        test_mem_table_size_disagreeing_with_region_count_is_refused);
    ADD("mem-region-overflow-refused",
        test_mem_region_that_overflows_is_refused);
    ADD("mem-regions-overlap-refused",
        test_mem_regions_that_overlap_are_refused);
    ADD("mem-region-beyond-file-refused",
        test_mem_region_beyond_its_file_is_refused);
    ADD("mem-region-non-memory-fd-refused",
        test_mem_region_backed_by_a_non_memory_fd_is_refused);
    ADD("identical-mem-table-keeps-rings",
        test_identical_mem_table_keeps_rings_running);
    ADD("vring-addr-outside-memory-refused",
        test_vring_addr_outside_the_memory_table_is_refused);
    ADD("ring-past-memory-end-refused",
        test_ring_reaching_past_the_memory_end_is_refused_at_start);
    ADD("misaligned-ring-refused", test_misaligned_ring_is_refused);
    ADD("double-start-seabios-linux", test_double_start_seabios_then_linux);
    ADD("enabled-without-kick-not-started",
        test_enabled_ring_without_kick_does_not_start);
    ADD("call-fd-replaced-while-running",
        test_call_fd_replaced_while_running_reaches_the_device);
    ADD("base-resumed-after-stop-cont",
        test_ring_base_is_resumed_after_stop_and_cont);
    ADD("inflight-round-trip", test_inflight_region_round_trip);
    ADD("inflight-wrong-size-refused",
        test_inflight_region_of_the_wrong_size_is_refused);
    ADD("inflight-misaligned-offset-refused",
        test_inflight_region_at_misaligned_offset_is_refused);
    ADD("inflight-20-byte-request",
        test_inflight_request_of_20_bytes_is_accepted);
    ADD("log-base-reply-and-log-all",
        test_log_base_gets_a_reply_and_logs_with_log_all);
    ADD("log-base-without-log-all",
        test_log_base_without_log_all_does_not_log);
    ADD("log-flag-keeps-ring-running",
        test_log_flag_on_a_running_ring_keeps_it_running);
    ADD("new-addresses-restart-ring",
        test_new_addresses_for_a_running_ring_restart_it);
    ADD("status-reads-back", test_status_reads_back_what_was_set);
    ADD("status-beyond-byte-refused", test_status_beyond_a_byte_is_refused);
    ADD("reset-device", test_reset_device_stops_rings_and_keeps_memory);
    ADD("max-mem-slots", test_max_mem_slots_answers_the_table_limit);
    ADD("rem-mem-reg", test_rem_mem_reg_removes_the_region);
    return g_test_run();
}
