/*
 * vhost-user: the memory table (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG)
 * and the dirty log (SET_LOG_BASE).  Both live in the device's DMASpace,
 * which maps and bounds-checks them; this file turns messages into
 * DMASpace calls and keeps rings from running across a change.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "remote/vhost-user/internal.h"

#include <sys/stat.h>

static DMARegionDesc region_desc(const VhostUserMemoryRegion *r, int fd)
{
    return (DMARegionDesc) {
        .gpa = r->guest_phys_addr,
        .size = r->memory_size,
        .uaddr = r->userspace_addr,
        .fd_offset = r->mmap_offset,
        .fd = fd,
    };
}

/*
 * True when @regions describe exactly the installed table (QEMU re-sends
 * an unchanged SET_MEM_TABLE at every start, even with rings running).
 */
static bool same_as_installed(VuSession *s, const DMARegionDesc *regions,
                              unsigned n)
{
    g_autoptr(DMATable) t = dma_space_acquire(s->be->dma);

    if (dma_space_num_regions(s->be->dma) != n) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa;
        uint8_t *by_uaddr = dma_table_translate_uaddr(t, regions[i].uaddr,
                                                      regions[i].size, &gpa);
        uint8_t *by_gpa = dma_table_translate(t, regions[i].gpa,
                                              regions[i].size);

        if (!by_uaddr || by_uaddr != by_gpa || gpa != regions[i].gpa) {
            return false;
        }
    }
    return true;
}

bool vu_set_mem_table(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    const VhostUserMemory *mem = &m->payload.memory;
    DMARegionDesc regions[VHOST_USER_MEM_TABLE_MAX];
    uint64_t paused;
    bool ok;

    for (uint32_t i = 0; i < mem->nregions; i++) {
        regions[i] = region_desc(&mem->regions[i], m->fds[i]);
    }
    /*
     * An unchanged table keeps the rings running.  Equal addresses are
     * not enough to prove the same memory is behind them, so the DMASpace
     * still compares the backing files: it keeps the old mappings only for
     * regions backed by the same file at the same offset.
     */
    if (same_as_installed(s, regions, mem->nregions)) {
        return dma_space_set_table(s->be->dma, regions, mem->nregions, errp);
    }
    paused = vu_vrings_pause(s);
    ok = dma_space_set_table(s->be->dma, regions, mem->nregions, errp);
    if (!ok) {
        error_prepend(errp, "SET_MEM_TABLE: ");
        return false;
    }
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: memory table of %u regions",
                s->name, mem->nregions);
    return vu_vrings_resume(s, paused, errp);
}

bool vu_get_max_mem_slots(VuSession *s, VuMsg *m, VuReply *reply,
                          GError **errp)
{
    reply->payload.u64 = DMA_MAX_REGIONS;
    reply->size = sizeof(uint64_t);
    return true;
}

/* Adding memory cannot invalidate what running rings use. */
bool vu_add_mem_reg(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    DMARegionDesc d = region_desc(&m->payload.memreg.region, m->fds[0]);

    if (!dma_space_add_region(s->be->dma, &d, errp)) {
        error_prepend(errp, "ADD_MEM_REG: ");
        return false;
    }
    return true;
}

bool vu_rem_mem_reg(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    const VhostUserMemoryRegion *r = &m->payload.memreg.region;
    uint64_t paused = vu_vrings_pause(s);

    if (!dma_space_remove_region(s->be->dma, r->guest_phys_addr,
                                 r->memory_size, r->userspace_addr, errp)) {
        error_prepend(errp, "REM_MEM_REG: ");
        return false;
    }
    return vu_vrings_resume(s, paused, errp);
}

void vu_mem_reset(VuSession *s)
{
    dma_space_set_table(s->be->dma, NULL, 0, NULL);
}

void vu_log_close(VuSession *s)
{
    if (s->log_installed) {
        dma_space_set_log(s->be->dma, -1, 0, 0, NULL);
        s->log_installed = false;
    }
    if (s->log_fd >= 0) {
        close(s->log_fd);
        s->log_fd = -1;
    }
}

bool vu_log_update(VuSession *s, GError **errp)
{
    bool want = s->log_fd >= 0 && vu_has_feature(s, VHOST_F_LOG_ALL);

    if (want == s->log_installed) {
        return true;
    }
    if (!dma_space_set_log(s->be->dma, want ? s->log_fd : -1,
                           s->log_offset, s->log_size, errp)) {
        error_prepend(errp, "dirty log: ");
        return false;
    }
    s->log_installed = want;
    qr_log_mask(LOG_VHOST_USER, "vhost-user %s: dirty log %s", s->name,
                want ? "on" : "off");
    return true;
}

/*
 * The log arrives before LOG_ALL is negotiated; it is installed with the
 * feature.  A new log while logging replaces the old one at once (QEMU
 * grows the log when guest memory grows).  Reply: u64 0.
 */
bool vu_set_log_base(VuSession *s, VuMsg *m, VuReply *reply, GError **errp)
{
    bool was_installed = s->log_installed;
    uint64_t paused = 0;

    if (was_installed) {
        paused = vu_vrings_pause(s);
    }
    vu_log_close(s);
    s->log_fd = m->fds[0];
    m->fds[0] = -1;
    s->log_size = m->payload.log.mmap_size;
    s->log_offset = m->payload.log.mmap_offset;
    if (!vu_log_update(s, errp) || !vu_vrings_resume(s, paused, errp)) {
        return false;
    }
    reply->payload.u64 = 0;
    reply->size = sizeof(uint64_t);
    return true;
}
