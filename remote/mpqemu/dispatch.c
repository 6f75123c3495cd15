/*
 * One handler per mpqemu request, called on the connection thread after
 * is_valid_mpqemu_request() accepted the message.  Every request that
 * expects a reply gets exactly one RET (mpqemu.md 3.8).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "mpqemu-internal.h"

static bool send_ret(MPQemuLink *link, uint64_t val, GError **errp)
{
    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: -> RET 0x%" PRIx64, link->name, val);
    return mpqemu_msg_send(link->sock, MPQEMU_CMD_RET, &val, sizeof(val),
                           NULL, 0, errp);
}

static bool handle_sync_sysmem(MPQemuLink *link, MPQemuMsg *msg,
                               GError **errp)
{
    const MPQemuSyncSysmem *s = &msg->data.sysmem;
    DMARegionDesc regions[MPQEMU_MAX_REGIONS];

    for (unsigned i = 0; i < msg->nfds; i++) {
        qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- SYNC_SYSMEM [%u] gpa=0x%"
                    PRIx64 " size=0x%" PRIx64 " offset=0x%" PRIx64,
                    link->name, i, s->gpas[i], s->sizes[i],
                    (uint64_t)s->offsets[i]);
        regions[i] = (DMARegionDesc) {
            .gpa = s->gpas[i],
            .size = s->sizes[i],
            .fd_offset = s->offsets[i],
            .fd = msg->fds[i],
        };
    }
    /* Identical regions keep their mappings: QEMU re-sends the table on
     * every memory transaction (mpqemu.md 2.2).  The mappings hold the
     * files, so the fds are closed by the caller either way. */
    if (!dma_space_set_table(link->dev->dma, regions, msg->nfds, errp)) {
        error_prepend(errp, "SYNC_SYSMEM: ");
        return false;
    }
    return true;
}

static bool handle_config(MPQemuLink *link, MPQemuMsg *msg, GError **errp)
{
    const MPQemuPciConf *c = &msg->data.conf;
    uint32_t val = 0;

    if (msg->hdr.cmd == MPQEMU_CMD_PCI_CFGWRITE) {
        qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- PCI_CFGWRITE addr=0x%x "
                    "val=0x%x len=%d", link->name, c->addr, c->val, c->len);
        pci_config_write(link->dev, c->addr, c->val, c->len);
        return send_ret(link, 0, errp);
    }
    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- PCI_CFGREAD addr=0x%x len=%d",
                link->name, c->addr, c->len);
    pci_config_read(link->dev, c->addr, c->len, &val);
    return send_ret(link, val, errp);
}

static bool handle_bar(MPQemuLink *link, MPQemuMsg *msg, GError **errp)
{
    const MPQemuBarAccess *b = &msg->data.bar;
    bool write = msg->hdr.cmd == MPQEMU_CMD_BAR_WRITE;
    uint64_t val = b->val;

    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- %s %s addr=0x%" PRIx64
                " size=%u val=0x%" PRIx64, link->name,
                mpqemu_cmd_name(msg->hdr.cmd), b->memory ? "mem" : "io",
                b->addr, b->size, b->val);
    if (!pci_bar_access_addr(link->dev, !b->memory, b->addr, b->size, write,
                             &val)) {
        /* The VMM and the device disagree about where BARs are (a BAR
         * just moved, or a 64-bit BAR the proxy mishandles): answer like
         * a master abort and keep serving. */
        qr_log_mask(LOG_GUEST_ERROR, "mpqemu: %s: %s at 0x%" PRIx64
                    " size %u decodes to no BAR", link->name,
                    mpqemu_cmd_name(msg->hdr.cmd), b->addr, b->size);
    }
    return send_ret(link, write ? 0 : val, errp);
}

static bool handle_set_irqfd(MPQemuLink *link, MPQemuMsg *msg, GError **errp)
{
    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- SET_IRQFD", link->name);
    if (!mpqemu_irq_set_fds(link, msg->fds[0], msg->fds[1], errp)) {
        return false;
    }
    msg->nfds = 0;  /* the link owns them now */
    return true;
}

static bool handle_device_reset(MPQemuLink *link, GError **errp)
{
    MPQemuHeader ret = { .cmd = MPQEMU_CMD_RET, .size = 0 };

    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: <- DEVICE_RESET", link->name);
    pci_device_reset(link->dev);
    /* QEMU's proxy expects an empty RET here. */
    qr_log_mask(LOG_MPQEMU, "mpqemu: %s: -> RET (size 0)", link->name);
    return mpqemu_msg_send_raw(link->sock, &ret, NULL, 0, NULL, 0, errp);
}

bool mpqemu_dispatch(MPQemuLink *link, MPQemuMsg *msg, GError **errp)
{
    bool ok;

    if (!is_valid_mpqemu_request(msg, link->dev->config_size, errp)) {
        qr_log_mask(LOG_VMM_ERROR, "mpqemu: %s: rejected %s (cmd %d, size %"
                    PRIu64 ", %u fds): %s", link->name,
                    mpqemu_cmd_name(msg->hdr.cmd), msg->hdr.cmd,
                    msg->hdr.size, msg->nfds, (*errp)->message);
        mpqemu_msg_close_fds(msg);
        return false;
    }
    switch (msg->hdr.cmd) {
    case MPQEMU_CMD_SYNC_SYSMEM:
        ok = handle_sync_sysmem(link, msg, errp);
        break;
    case MPQEMU_CMD_PCI_CFGWRITE:
    case MPQEMU_CMD_PCI_CFGREAD:
        ok = handle_config(link, msg, errp);
        break;
    case MPQEMU_CMD_BAR_WRITE:
    case MPQEMU_CMD_BAR_READ:
        ok = handle_bar(link, msg, errp);
        break;
    case MPQEMU_CMD_SET_IRQFD:
        ok = handle_set_irqfd(link, msg, errp);
        break;
    default: /* MPQEMU_CMD_DEVICE_RESET; the predicate allowed no other */
        ok = handle_device_reset(link, errp);
        break;
    }
    mpqemu_msg_close_fds(msg);
    return ok;
}
