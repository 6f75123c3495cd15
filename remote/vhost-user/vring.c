/*
 * vhost-user: ring setup and life cycle, kick/call/err eventfds and the
 * in-flight region (GET/SET_INFLIGHT_FD).
 *
 * A ring runs while it has a size, addresses, a kick fd and is enabled
 * (or PROTOCOL_FEATURES was not negotiated), the session has an owner,
 * features and memory.  vu_vring_update() starts or stops it to match;
 * every message that changes a running ring's setup stops it first
 * (draining its requests) and lets the update restart it, so the device
 * only ever sees whole start/stop transitions.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void vu_vrings_init(VuSession *s)
{
    for (unsigned i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
        VuVring *v = &s->vrings[i];

        memset(v, 0, sizeof(*v));
        v->kick_fd = v->call_fd = v->err_fd = -1;
    }
}

static bool vring_should_run(const VuSession *s, const VuVring *v)
{
    bool enabled = v->enabled ||
                   !vu_has_feature(s, VHOST_USER_F_PROTOCOL_FEATURES);

    return s->owner && s->features_set && v->num && v->has_addr &&
           v->kick_set && enabled && dma_space_num_regions(s->be->dma) > 0;
}

static void vring_stop(VuSession *s, unsigned index)
{
    VuVring *v = &s->vrings[index];

    if (v->running) {
        v->base = s->be->ops->queue_stop(s->be->opaque, index);
        v->running = false;
        qr_log_mask(LOG_VHOST_USER, "vhost-user %s: queue %u stopped at %u",
                    s->name, index, v->base);
    }
}

/* Translates one ring part from the frontend's address space. */
static bool ring_part_gpa(VuSession *s, DMATable *t, unsigned index,
                          const char *part, uint64_t uaddr, uint64_t len,
                          uint64_t *gpa, GError **errp)
{
    if (!dma_table_translate_uaddr(t, uaddr, len, gpa)) {
        error_setg(errp, "queue %u %s ring [0x%" PRIx64 ", +0x%" PRIx64
                   ") is not inside guest memory", index, part, uaddr, len);
        return false;
    }
    return true;
}

static bool vring_start(VuSession *s, unsigned index, GError **errp)
{
    VuVring *v = &s->vrings[index];
    g_autoptr(DMATable) t = dma_space_acquire(s->be->dma);
    VhostUserVringInfo info = {
        .index = index,
        .size = v->num,
        .last_avail_idx = v->base,
        .kick_fd = v->kick_fd,
        .call_fd = v->call_fd,
        .err_fd = v->err_fd,
        .log_used = v->addr.flags & (1u << VHOST_VRING_F_LOG),
    };
    /* Split ring sizes, event-index fields included (virtio 1.2 2.7). */
    uint64_t desc_len = 16ull * v->num;
    uint64_t avail_len = 6 + 2ull * v->num;
    uint64_t used_len = 6 + 8ull * v->num;

    if (!ring_part_gpa(s, t, index, "descriptor", v->addr.desc_user_addr,
                       desc_len, &info.desc_gpa, errp) ||
        !ring_part_gpa(s, t, index, "avail", v->addr.avail_user_addr,
                       avail_len, &info.avail_gpa, errp) ||
        !ring_part_gpa(s, t, index, "used", v->addr.used_user_addr,
                       used_len, &info.used_gpa, errp)) {
        return false;
    }
    if (s->inflight_map) {
        if (index >= s->inflight_num_queues ||
            s->inflight_queue_size != v->num) {
            error_setg(errp, "queue %u (size %u) is not covered by the "
                       "inflight region (%u queues of size %u)", index,
                       v->num, s->inflight_num_queues,
                       s->inflight_queue_size);
            return false;
        }
        info.inflight = &s->inflight[index];
    }
    if (!s->be->ops->queue_start(s->be->opaque, &info, errp)) {
        error_prepend(errp, "queue %u: ", index);
        return false;
    }
    v->running = true;
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: queue %u started at %u "
                "(size %u%s%s)", s->name, index, v->base, v->num,
                info.inflight ? ", inflight" : "",
                info.log_used ? ", logged" : "");
    return true;
}

bool vu_vring_update(VuSession *s, unsigned index, GError **errp)
{
    VuVring *v = &s->vrings[index];
    bool run = vring_should_run(s, v);

    if (run == v->running) {
        return true;
    }
    if (!run) {
        vring_stop(s, index);
        return true;
    }
    return vring_start(s, index, errp);
}

uint64_t vu_vrings_pause(VuSession *s)
{
    uint64_t mask = 0;

    for (unsigned i = 0; i < s->be->num_queues; i++) {
        if (s->vrings[i].running) {
            vring_stop(s, i);
            mask |= 1ull << i;
        }
    }
    return mask;
}

bool vu_vrings_resume(VuSession *s, uint64_t mask, GError **errp)
{
    for (unsigned i = 0; i < s->be->num_queues; i++) {
        if ((mask & (1ull << i)) && !vu_vring_update(s, i, errp)) {
            return false;
        }
    }
    return true;
}

void vu_vrings_reset(VuSession *s)
{
    for (unsigned i = 0; i < s->be->num_queues; i++) {
        VuVring *v = &s->vrings[i];

        vring_stop(s, i);
        close_fd(&v->kick_fd);
        close_fd(&v->call_fd);
        close_fd(&v->err_fd);
    }
    vu_vrings_init(s);
}

/* Stops ring @index if it runs; the caller changes it, then updates. */
static VuVring *vring_for_change(VuSession *s, unsigned index)
{
    vring_stop(s, index);
    return &s->vrings[index];
}

bool vu_set_vring_num(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    VuVring *v = vring_for_change(s, m->payload.state.index);

    v->num = (uint16_t)m->payload.state.num;
    return vu_vring_update(s, m->payload.state.index, errp);
}

static bool same_ring(const VhostUserVringAddr *a, const VhostUserVringAddr *b)
{
    return a->desc_user_addr == b->desc_user_addr &&
           a->avail_user_addr == b->avail_user_addr &&
           a->used_user_addr == b->used_user_addr &&
           a->log_guest_addr == b->log_guest_addr;
}

/*
 * The addresses must be inside the memory table now (QEMU sends the table
 * first); they are translated again, with the ring's size, at every start.
 * A running ring whose addresses stay the same only changes its logging.
 */
bool vu_set_vring_addr(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    const VhostUserVringAddr *a = &m->payload.addr;
    g_autoptr(DMATable) t = dma_space_acquire(s->be->dma);
    VuVring *v = &s->vrings[a->index];
    uint64_t gpa;

    if (v->running && same_ring(&v->addr, a)) {
        if (!ring_part_gpa(s, t, a->index, "used", a->used_user_addr,
                           6 + 8ull * v->num, &gpa, errp)) {
            error_prepend(errp, "SET_VRING_ADDR: ");
            return false;
        }
        v->addr.flags = a->flags;
        s->be->ops->queue_set_log(s->be->opaque, a->index,
                                  a->flags & (1u << VHOST_VRING_F_LOG), gpa);
        return true;
    }

    if (!ring_part_gpa(s, t, a->index, "descriptor", a->desc_user_addr, 1,
                       &gpa, errp) ||
        !ring_part_gpa(s, t, a->index, "avail", a->avail_user_addr, 1, &gpa,
                       errp) ||
        !ring_part_gpa(s, t, a->index, "used", a->used_user_addr, 1, &gpa,
                       errp)) {
        error_prepend(errp, "SET_VRING_ADDR: ");
        return false;
    }
    vring_stop(s, a->index);
    v->addr = *a;
    v->has_addr = true;
    return vu_vring_update(s, a->index, errp);
}

bool vu_set_vring_base(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    VuVring *v = vring_for_change(s, m->payload.state.index);

    v->base = (uint16_t)m->payload.state.num;
    return vu_vring_update(s, m->payload.state.index, errp);
}

/*
 * Stops the ring (draining its requests) and answers with the next avail
 * index.  The ring needs a new kick fd and call fd to run again; its size,
 * addresses and error fd stay (QEMU sends SET_VRING_ERR only once per
 * connection).
 */
bool vu_get_vring_base(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    unsigned index = m->payload.state.index;
    VuVring *v = vring_for_change(s, index);

    v->enabled = false;
    v->kick_set = false;
    close_fd(&v->kick_fd);
    close_fd(&v->call_fd);
    reply->payload.state.index = index;
    reply->payload.state.num = v->base;
    reply->size = sizeof(VhostUserVringState);
    return true;
}

/* Takes the fd of a KICK/CALL/ERR message; -1 with NOFD. */
static int take_vring_fd(VuMsg *m)
{
    int fd;

    if (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) {
        return -1;
    }
    fd = m->fds[0];
    m->fds[0] = -1;
    return fd;
}

bool vu_set_vring_kick(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    unsigned index = m->payload.u64 & VHOST_USER_VRING_IDX_MASK;
    VuVring *v;

    /* Without a kick fd the backend would have to poll the avail ring. */
    if (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK) {
        error_setg(errp, "SET_VRING_KICK: queue %u without an fd (polling "
                   "mode is not supported)", index);
        return false;
    }
    v = vring_for_change(s, index);
    close_fd(&v->kick_fd);
    v->kick_fd = take_vring_fd(m);
    v->kick_set = true;
    return vu_vring_update(s, index, errp);
}

/* QEMU replaces call fds while rings run (MSI-X masking): swap in place. */
bool vu_set_vring_call(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    unsigned index = m->payload.u64 & VHOST_USER_VRING_IDX_MASK;
    VuVring *v = &s->vrings[index];
    int old = v->call_fd;

    v->call_fd = take_vring_fd(m);
    if (v->running) {
        s->be->ops->queue_set_call(s->be->opaque, index, v->call_fd);
    }
    close_fd(&old);
    return true;
}

bool vu_set_vring_err(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    unsigned index = m->payload.u64 & VHOST_USER_VRING_IDX_MASK;
    VuVring *v = vring_for_change(s, index);

    close_fd(&v->err_fd);
    v->err_fd = take_vring_fd(m);
    return vu_vring_update(s, index, errp);
}

bool vu_set_vring_enable(VuSession *s, VuMsg *m, VuReply *reply,
                         GError **errp)
{
    unsigned index = m->payload.state.index;

    s->vrings[index].enabled = m->payload.state.num;
    return vu_vring_update(s, index, errp);
}

void vu_inflight_unmap(VuSession *s)
{
    if (s->inflight_map) {
        munmap(s->inflight_map, s->inflight_len);
        s->inflight_map = NULL;
        s->inflight_len = 0;
        s->inflight_num_queues = 0;
        s->inflight_queue_size = 0;
    }
}

/*
 * A fresh zeroed region the frontend keeps for us across backend restarts.
 * Sealed so that neither side can shrink it under the other's mapping.
 */
bool vu_get_inflight_fd(VuSession *s, VuMsg *m, VuReply *reply,
                        GError **errp)
{
    const VhostUserInflight *in = &m->payload.inflight;
    uint64_t size = (uint64_t)in->num_queues *
                    vu_inflight_queue_region_size(in->queue_size);
    int fd = memfd_create("vhost-user-inflight",
                          MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0) {
        error_setg_errno(errp, errno, "GET_INFLIGHT_FD: memfd_create");
        return false;
    }
    if (ftruncate(fd, (off_t)size) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)
            < 0) {
        error_setg_errno(errp, errno, "GET_INFLIGHT_FD: sizing the region");
        close(fd);
        return false;
    }
    reply->payload.inflight = *in;
    reply->payload.inflight.mmap_size = size;
    reply->payload.inflight.mmap_offset = 0;
    reply->payload.inflight.padding = 0;
    reply->size = m->hdr.size;
    reply->fd = fd;
    return true;
}

bool vu_set_inflight_fd(VuSession *s, VuMsg *m, VuReply *reply,
                        GError **errp)
{
    const VhostUserInflight *in = &m->payload.inflight;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t qsize = vu_inflight_queue_region_size(in->queue_size);
    uint64_t map_off = QR_ALIGN_DOWN(in->mmap_offset, page);
    uint64_t delta = in->mmap_offset - map_off;
    struct stat st;
    void *map;

    for (unsigned i = 0; i < s->be->num_queues; i++) {
        if (s->vrings[i].running) {
            error_setg(errp, "SET_INFLIGHT_FD while queue %u runs", i);
            return false;
        }
    }
    if (fstat(m->fds[0], &st) < 0 || !S_ISREG(st.st_mode) ||
        !range_fits(in->mmap_offset, in->mmap_size, (uint64_t)st.st_size)) {
        error_setg(errp, "SET_INFLIGHT_FD: region [0x%" PRIx64 ", +0x%"
                   PRIx64 ") is not inside its memory file", in->mmap_offset,
                   in->mmap_size);
        return false;
    }
    map = mmap(NULL, in->mmap_size + delta, PROT_READ | PROT_WRITE,
               MAP_SHARED, m->fds[0], (off_t)map_off);
    if (map == MAP_FAILED) {
        error_setg_errno(errp, errno, "SET_INFLIGHT_FD: cannot map region");
        return false;
    }
    vu_inflight_unmap(s);
    s->inflight_map = map;
    s->inflight_len = in->mmap_size + delta;
    s->inflight_num_queues = in->num_queues;
    s->inflight_queue_size = in->queue_size;
    for (unsigned i = 0; i < in->num_queues; i++) {
        uint8_t *base = (uint8_t *)map + delta + i * qsize;

        if (!vu_inflight_queue_attach(&s->inflight[i], base, in->queue_size,
                                      errp)) {
            error_prepend(errp, "SET_INFLIGHT_FD: queue %u: ", i);
            vu_inflight_unmap(s);
            return false;
        }
    }
    return true;
}
