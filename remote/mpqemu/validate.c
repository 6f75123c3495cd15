/*
 * is_valid_*(): every field of a request from the VMM is checked here,
 * before dispatch (see include/remote/mpqemu.h and mpqemu.md 3.8).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/mpqemu.h"

/* QEMU maps guest RAM in target pages; mmap needs page-aligned offsets. */
#define MPQEMU_PAGE_SIZE 4096

static bool check_shape(const MPQemuMsg *msg, uint64_t size, unsigned nfds,
                        GError **errp)
{
    const char *name = mpqemu_cmd_name(msg->hdr.cmd);

    if (msg->hdr.size != size) {
        error_setg(errp, "%s: payload size %" PRIu64 ", expected %" PRIu64,
                   name, msg->hdr.size, size);
        return false;
    }
    if (msg->nfds != nfds) {
        error_setg(errp, "%s: %u fds, expected %u", name, msg->nfds, nfds);
        return false;
    }
    return true;
}

bool is_valid_sync_sysmem(const MPQemuMsg *msg, GError **errp)
{
    const MPQemuSyncSysmem *s = &msg->data.sysmem;

    if (msg->hdr.size != sizeof(*s)) {
        error_setg(errp, "SYNC_SYSMEM: payload size %" PRIu64 ", expected "
                   "%zu", msg->hdr.size, sizeof(*s));
        return false;
    }
    if (msg->nfds < 1 || msg->nfds > MPQEMU_MAX_REGIONS) {
        error_setg(errp, "SYNC_SYSMEM: %u fds, expected 1 to %d", msg->nfds,
                   MPQEMU_MAX_REGIONS);
        return false;
    }
    for (unsigned i = 0; i < MPQEMU_MAX_REGIONS; i++) {
        uint64_t gpa = s->gpas[i], size = s->sizes[i];
        int64_t off = s->offsets[i];

        if (i >= msg->nfds) {
            /* QEMU leaves the slots without an fd zero. */
            if (gpa || size || off) {
                error_setg(errp, "SYNC_SYSMEM: region %u has no fd but is "
                           "not empty", i);
                return false;
            }
            continue;
        }
        if (size == 0) {
            error_setg(errp, "SYNC_SYSMEM: region %u is empty", i);
            return false;
        }
        if (off < 0) {
            error_setg(errp, "SYNC_SYSMEM: region %u has a negative offset",
                       i);
            return false;
        }
        if (gpa % MPQEMU_PAGE_SIZE || size % MPQEMU_PAGE_SIZE ||
            (uint64_t)off % MPQEMU_PAGE_SIZE) {
            error_setg(errp, "SYNC_SYSMEM: region %u (gpa 0x%" PRIx64
                       " size 0x%" PRIx64 " offset 0x%" PRIx64 ") is not "
                       "page-aligned", i, gpa, size, (uint64_t)off);
            return false;
        }
        if (gpa + size < gpa || (uint64_t)off + size < (uint64_t)off) {
            error_setg(errp, "SYNC_SYSMEM: region %u wraps around", i);
            return false;
        }
    }
    return true;
}

bool is_valid_pci_config(const MPQemuMsg *msg, uint32_t config_size,
                         GError **errp)
{
    const MPQemuPciConf *c = &msg->data.conf;
    const char *name = mpqemu_cmd_name(msg->hdr.cmd);

    if (!check_shape(msg, sizeof(*c), 0, errp)) {
        return false;
    }
    if (c->len != 1 && c->len != 2 && c->len != 4) {
        error_setg(errp, "%s: length %d is not 1, 2 or 4", name, c->len);
        return false;
    }
    if (!range_fits(c->addr, c->len, config_size)) {
        error_setg(errp, "%s: offset 0x%x length %d is outside the config "
                   "space (0x%x bytes)", name, c->addr, c->len, config_size);
        return false;
    }
    return true;
}

bool is_valid_bar_access(const MPQemuMsg *msg, GError **errp)
{
    const MPQemuBarAccess *b = &msg->data.bar;
    const char *name = mpqemu_cmd_name(msg->hdr.cmd);

    if (!check_shape(msg, sizeof(*b), 0, errp)) {
        return false;
    }
    if (b->size != 1 && b->size != 2 && b->size != 4 && b->size != 8) {
        error_setg(errp, "%s: size %u is not 1, 2, 4 or 8", name, b->size);
        return false;
    }
    if (b->memory > 1) {
        error_setg(errp, "%s: memory flag %u is not 0 or 1", name, b->memory);
        return false;
    }
    if (b->addr + b->size < b->addr) {
        error_setg(errp, "%s: address 0x%" PRIx64 " size %u wraps around",
                   name, b->addr, b->size);
        return false;
    }
    return true;
}

bool is_valid_set_irqfd(const MPQemuMsg *msg, GError **errp)
{
    return check_shape(msg, 0, 2, errp);
}

bool is_valid_device_reset(const MPQemuMsg *msg, GError **errp)
{
    return check_shape(msg, 0, 0, errp);
}

bool is_valid_mpqemu_request(const MPQemuMsg *msg, uint32_t config_size,
                             GError **errp)
{
    switch (msg->hdr.cmd) {
    case MPQEMU_CMD_SYNC_SYSMEM:
        return is_valid_sync_sysmem(msg, errp);
    case MPQEMU_CMD_PCI_CFGWRITE:
    case MPQEMU_CMD_PCI_CFGREAD:
        return is_valid_pci_config(msg, config_size, errp);
    case MPQEMU_CMD_BAR_WRITE:
    case MPQEMU_CMD_BAR_READ:
        return is_valid_bar_access(msg, errp);
    case MPQEMU_CMD_SET_IRQFD:
        return is_valid_set_irqfd(msg, errp);
    case MPQEMU_CMD_DEVICE_RESET:
        return is_valid_device_reset(msg, errp);
    case MPQEMU_CMD_RET:
        error_setg(errp, "RET is a reply, not a request");
        return false;
    default:
        error_setg(errp, "unknown command %d", msg->hdr.cmd);
        return false;
    }
}
