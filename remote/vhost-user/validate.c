/*
 * vhost-user message validation: one is_valid_*() predicate per payload
 * shape.  Each checks the payload size exactly, the fd count exactly, and
 * every index, size, address range and flag against the session before a
 * handler sees the message.  They only read; they never close fds (the
 * dispatcher does on failure).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/vhost-user/internal.h"

static const char *name(const VuMsg *m)
{
    return vhost_user_request_name(m->hdr.request);
}

static bool check_size(const VuMsg *m, uint32_t size, GError **errp)
{
    if (m->hdr.size != size) {
        error_setg(errp, "%s: payload size %u, expected %u", name(m),
                   m->hdr.size, size);
        return false;
    }
    return true;
}

static bool check_fds(const VuMsg *m, unsigned nfds, GError **errp)
{
    if (m->nfds != nfds) {
        error_setg(errp, "%s: %u fds, expected %u", name(m), m->nfds, nfds);
        return false;
    }
    return true;
}

static bool check_index(const VuSession *s, const VuMsg *m, uint32_t index,
                        GError **errp)
{
    if (index >= s->be->num_queues) {
        error_setg(errp, "%s: queue index %u out of range (%u queues)",
                   name(m), index, s->be->num_queues);
        return false;
    }
    return true;
}

bool is_valid_no_payload(const VuSession *s, const VuMsg *m, GError **errp)
{
    return check_size(m, 0, errp) && check_fds(m, 0, errp);
}

bool is_valid_u64(const VuSession *s, const VuMsg *m, GError **errp)
{
    return check_size(m, sizeof(uint64_t), errp) && check_fds(m, 0, errp);
}

bool is_valid_features(const VuSession *s, const VuMsg *m, GError **errp)
{
    uint64_t offered;

    if (!is_valid_u64(s, m, errp)) {
        return false;
    }
    offered = s->be->ops->get_features(s->be->opaque) | VU_TRANSPORT_FEATURES;
    if (m->payload.u64 & ~offered) {
        error_setg(errp, "%s: features 0x%" PRIx64 " were not offered",
                   name(m), m->payload.u64 & ~offered);
        return false;
    }
    return true;
}

bool is_valid_protocol_features(const VuSession *s, const VuMsg *m,
                                GError **errp)
{
    if (!is_valid_u64(s, m, errp)) {
        return false;
    }
    if (m->payload.u64 & ~VU_PROTOCOL_FEATURES) {
        error_setg(errp, "%s: protocol features 0x%" PRIx64 " were not "
                   "offered", name(m), m->payload.u64 & ~VU_PROTOCOL_FEATURES);
        return false;
    }
    return true;
}

bool is_valid_status(const VuSession *s, const VuMsg *m, GError **errp)
{
    if (!is_valid_u64(s, m, errp)) {
        return false;
    }
    if (m->payload.u64 > UINT8_MAX) {
        error_setg(errp, "%s: status 0x%" PRIx64 " is not a virtio status "
                   "byte", name(m), m->payload.u64);
        return false;
    }
    return true;
}

bool is_valid_vring_state(const VuSession *s, const VuMsg *m, GError **errp)
{
    return check_size(m, sizeof(VhostUserVringState), errp) &&
           check_fds(m, 0, errp) &&
           check_index(s, m, m->payload.state.index, errp);
}

bool is_valid_vring_base(const VuSession *s, const VuMsg *m, GError **errp)
{
    if (!is_valid_vring_state(s, m, errp)) {
        return false;
    }
    /* Split rings only: the packed ring's wrap counter (bit 15 of a
     * 16-bit index) would need RING_PACKED, which we do not offer. */
    if (m->payload.state.num > UINT16_MAX) {
        error_setg(errp, "%s: ring base %u is not a 16-bit index", name(m),
                   m->payload.state.num);
        return false;
    }
    return true;
}

bool is_valid_vring_num(const VuSession *s, const VuMsg *m, GError **errp)
{
    uint32_t num = m->payload.state.num;

    if (!is_valid_vring_state(s, m, errp)) {
        return false;
    }
    if (!QR_IS_POWER_OF_2(num) || num > s->be->max_queue_size) {
        error_setg(errp, "%s: queue %u size %u is not a power of two up to "
                   "%u", name(m), m->payload.state.index, num,
                   s->be->max_queue_size);
        return false;
    }
    return true;
}

bool is_valid_vring_enable(const VuSession *s, const VuMsg *m, GError **errp)
{
    if (!is_valid_vring_state(s, m, errp)) {
        return false;
    }
    if (m->payload.state.num > 1) {
        error_setg(errp, "%s: queue %u enable value %u is not 0 or 1",
                   name(m), m->payload.state.index, m->payload.state.num);
        return false;
    }
    return true;
}

bool is_valid_vring_addr(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserVringAddr *a = &m->payload.addr;

    if (!check_size(m, sizeof(*a), errp) || !check_fds(m, 0, errp) ||
        !check_index(s, m, a->index, errp)) {
        return false;
    }
    if (a->flags & ~(1u << VHOST_VRING_F_LOG)) {
        error_setg(errp, "%s: queue %u unknown flags 0x%x", name(m),
                   a->index, a->flags);
        return false;
    }
    /* Alignment the virtio spec requires of each part (split ring). */
    if ((a->desc_user_addr & 15) || (a->avail_user_addr & 1) ||
        (a->used_user_addr & 3)) {
        error_setg(errp, "%s: queue %u ring parts misaligned (desc 0x%"
                   PRIx64 ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ")",
                   name(m), a->index, a->desc_user_addr, a->avail_user_addr,
                   a->used_user_addr);
        return false;
    }
    return true;
}

bool is_valid_vring_fd(const VuSession *s, const VuMsg *m, GError **errp)
{
    uint64_t v = m->payload.u64;
    const uint64_t known = VHOST_USER_VRING_IDX_MASK |
                           VHOST_USER_VRING_NOFD_MASK;

    if (!check_size(m, sizeof(uint64_t), errp)) {
        return false;
    }
    if (v & ~known) {
        error_setg(errp, "%s: unknown bits in 0x%" PRIx64, name(m), v);
        return false;
    }
    return check_index(s, m, v & VHOST_USER_VRING_IDX_MASK, errp) &&
           check_fds(m, (v & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1, errp);
}

static bool check_region(const VuMsg *m, const VhostUserMemoryRegion *r,
                         GError **errp)
{
    if (r->memory_size == 0) {
        error_setg(errp, "%s: empty memory region at gpa 0x%" PRIx64,
                   name(m), r->guest_phys_addr);
        return false;
    }
    if (!range_fits(r->guest_phys_addr, r->memory_size, UINT64_MAX) ||
        !range_fits(r->userspace_addr, r->memory_size, UINT64_MAX) ||
        !range_fits(r->mmap_offset, r->memory_size, UINT64_MAX)) {
        error_setg(errp, "%s: memory region gpa 0x%" PRIx64 " size 0x%"
                   PRIx64 " uaddr 0x%" PRIx64 " offset 0x%" PRIx64
                   " overflows", name(m), r->guest_phys_addr, r->memory_size,
                   r->userspace_addr, r->mmap_offset);
        return false;
    }
    return true;
}

bool is_valid_mem_table(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserMemory *mem = &m->payload.memory;
    const uint32_t head = offsetof(VhostUserMemory, regions);

    if (m->hdr.size < head) {
        error_setg(errp, "%s: payload size %u is too small", name(m),
                   m->hdr.size);
        return false;
    }
    if (mem->nregions == 0 || mem->nregions > VHOST_USER_MEM_TABLE_MAX) {
        error_setg(errp, "%s: %u regions (1 to %u allowed)", name(m),
                   mem->nregions, VHOST_USER_MEM_TABLE_MAX);
        return false;
    }
    if (!check_size(m, head + mem->nregions *
                    (uint32_t)sizeof(VhostUserMemoryRegion), errp) ||
        !check_fds(m, mem->nregions, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < mem->nregions; i++) {
        if (!check_region(m, &mem->regions[i], errp)) {
            return false;
        }
    }
    return true;
}

bool is_valid_mem_reg(const VuSession *s, const VuMsg *m, GError **errp)
{
    bool add = m->hdr.request == VHOST_USER_ADD_MEM_REG;

    if (!check_size(m, sizeof(VhostUserMemRegMsg), errp)) {
        return false;
    }
    /* REM_MEM_REG may come with the region's fd, which we just close. */
    if (add ? !check_fds(m, 1, errp) : m->nfds > 1) {
        if (!add) {
            error_setg(errp, "%s: %u fds, expected at most 1", name(m),
                       m->nfds);
        }
        return false;
    }
    return check_region(m, &m->payload.memreg.region, errp);
}

bool is_valid_log_base(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserLog *log = &m->payload.log;

    if (!check_size(m, sizeof(*log), errp) || !check_fds(m, 1, errp)) {
        return false;
    }
    if (log->mmap_size == 0 ||
        !range_fits(log->mmap_offset, log->mmap_size, UINT64_MAX)) {
        error_setg(errp, "%s: log size 0x%" PRIx64 " at offset 0x%" PRIx64
                   " is empty or overflows", name(m), log->mmap_size,
                   log->mmap_offset);
        return false;
    }
    return true;
}

static bool check_config(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserConfig *c = &m->payload.config;
    uint32_t cfg_size = s->be->ops->get_config_size(s->be->opaque);

    if (m->hdr.size < VHOST_USER_CONFIG_HDR_SIZE) {
        error_setg(errp, "%s: payload size %u is too small", name(m),
                   m->hdr.size);
        return false;
    }
    if (c->size > VHOST_USER_CONFIG_MAX) {
        error_setg(errp, "%s: config size %u exceeds %u", name(m), c->size,
                   VHOST_USER_CONFIG_MAX);
        return false;
    }
    if (!check_size(m, VHOST_USER_CONFIG_HDR_SIZE + c->size, errp) ||
        !check_fds(m, 0, errp)) {
        return false;
    }
    if (!range_fits(c->offset, c->size, cfg_size)) {
        error_setg(errp, "%s: config bytes [0x%x, +0x%x) outside the "
                   "device's %u bytes", name(m), c->offset, c->size,
                   cfg_size);
        return false;
    }
    return true;
}

bool is_valid_config_get(const VuSession *s, const VuMsg *m, GError **errp)
{
    return check_config(s, m, errp);
}

bool is_valid_config_set(const VuSession *s, const VuMsg *m, GError **errp)
{
    if (!check_config(s, m, errp)) {
        return false;
    }
    /* 0: written by the driver; 1: restored by live migration. */
    if (m->payload.config.flags > 1) {
        error_setg(errp, "%s: unknown flags 0x%x", name(m),
                   m->payload.config.flags);
        return false;
    }
    return true;
}

static bool check_inflight(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserInflight *in = &m->payload.inflight;

    if (m->hdr.size != VHOST_USER_INFLIGHT_MIN_SIZE &&
        m->hdr.size != sizeof(VhostUserInflight)) {
        error_setg(errp, "%s: payload size %u, expected %u or %zu", name(m),
                   m->hdr.size, VHOST_USER_INFLIGHT_MIN_SIZE,
                   sizeof(VhostUserInflight));
        return false;
    }
    if (in->num_queues == 0 || in->num_queues > s->be->num_queues) {
        error_setg(errp, "%s: %u queues (1 to %u allowed)", name(m),
                   in->num_queues, s->be->num_queues);
        return false;
    }
    if (!QR_IS_POWER_OF_2(in->queue_size) ||
        in->queue_size > s->be->max_queue_size) {
        error_setg(errp, "%s: queue size %u is not a power of two up to %u",
                   name(m), in->queue_size, s->be->max_queue_size);
        return false;
    }
    return true;
}

bool is_valid_inflight_get(const VuSession *s, const VuMsg *m, GError **errp)
{
    return check_inflight(s, m, errp) && check_fds(m, 0, errp);
}

bool is_valid_inflight_set(const VuSession *s, const VuMsg *m, GError **errp)
{
    const VhostUserInflight *in = &m->payload.inflight;
    uint64_t want;

    if (!check_inflight(s, m, errp) || !check_fds(m, 1, errp)) {
        return false;
    }
    want = (uint64_t)in->num_queues *
           vu_inflight_queue_region_size(in->queue_size);
    if (in->mmap_size != want ||
        !range_fits(in->mmap_offset, in->mmap_size, UINT64_MAX)) {
        error_setg(errp, "%s: region size 0x%" PRIx64 " at offset 0x%"
                   PRIx64 ", expected size 0x%" PRIx64 " for %u queues of %u",
                   name(m), in->mmap_size, in->mmap_offset, want,
                   in->num_queues, in->queue_size);
        return false;
    }
    /* Its fields are naturally aligned integers shared with the frontend
     * (QEMU sends offset 0); a misaligned one cannot be accessed as such. */
    if (in->mmap_offset % VU_INFLIGHT_ALIGN) {
        error_setg(errp, "%s: offset 0x%" PRIx64 " is not a multiple of %d",
                   name(m), in->mmap_offset, VU_INFLIGHT_ALIGN);
        return false;
    }
    return true;
}

bool is_valid_backend_req_fd(const VuSession *s, const VuMsg *m,
                             GError **errp)
{
    return check_size(m, 0, errp) && check_fds(m, 1, errp);
}
