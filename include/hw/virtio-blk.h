/*
 * virtio-blk: the block device model, independent of its transport.
 * virtio-blk-pci (hw/block/virtio-blk-pci.c) serves it as a PCI function;
 * a vhost-user export can serve the same device without PCI.
 *
 * Requests (virtio 1.2, 5.2.6): IN, OUT, FLUSH, GET_ID, DISCARD and
 * WRITE_ZEROES, each checked before it reaches the block layer (sector
 * range within capacity, lengths multiples of the logical block size,
 * segment counts and flags); a request that cannot even carry a status
 * (no 16-byte header or no status byte) breaks the device.  Statuses: OK,
 * IOERR (host error, out of range, misaligned, read-only), UNSUPP (unknown
 * type, feature not negotiated, unknown segment flags).  The used length
 * is what the device wrote: data read (or the GET_ID string) plus the
 * status byte.
 *
 * Threads: requests are popped and completed in the device's iothread;
 * config reads/writes come from the transport's thread.
 */
#ifndef HW_VIRTIO_BLK_H
#define HW_VIRTIO_BLK_H

#include "qemu-remote/osdep.h"
#include "hw/qdev.h"
#include "hw/virtio.h"
#include "block/block.h"

/* Most queues a virtio-blk device serves (vhost-user's limit as well). */
#define VIRTIO_BLK_MAX_QUEUES 64

/* QEMU's BDRV_REQUEST_MAX_SECTORS: the largest request it issues, and the
 * default and maximum of max-discard-sectors/max-write-zeroes-sectors. */
#define VIRTIO_BLK_MAX_REQUEST_SECTORS 4194303u

/* The properties, with QEMU's names (include in a DeviceType's table). */
typedef struct VirtIOBlockConf {
    BlockBackend *blk;          /* drive */
    IOThread *iothread;         /* iothread; NULL: a private one */
    uint16_t num_queues;        /* num-queues */
    uint16_t queue_size;        /* queue-size */
    uint64_t logical_block_size;    /* 0: 512 or the O_DIRECT alignment */
    uint64_t physical_block_size;   /* 0: the logical block size */
    uint64_t min_io_size;
    uint64_t opt_io_size;
    uint32_t cyls, heads, secs;     /* 0: guessed from the size */
    char *serial;
    bool discard;
    bool write_zeroes;
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
    bool config_wce;
    OnOffAuto write_cache;
    bool seg_max_adjust;
    bool share_rw;
    /* Serve the drive read-only even when it is writable (a vhost-user
     * export with writable=off); not a -device property. */
    bool read_only;
    /* The iothread of each queue (NULL: the device's), for a vhost-user
     * export's iothread-vq-mapping; not a -device property. */
    IOThread *vq_iothread[VIRTIO_BLK_MAX_QUEUES];
    bool indirect_desc;
    bool event_idx;
} VirtIOBlockConf;

typedef struct VirtIOBlockReq VirtIOBlockReq;

/*
 * What the requests of the queues one iothread processes share.  Used in
 * that iothread only.
 */
typedef struct VirtIOBlockCtx {
    struct VirtIOBlock *s;
    IOThread *iothread;
    BlockIOContext *ioc;
    VirtIOBlockReq *free_reqs;
    unsigned inflight;
} VirtIOBlockCtx;

typedef struct VirtIOBlock {
    VirtIODevice vdev;
    VirtIOBlockConf conf;
    Device *owner;              /* holds the drive's image locks */

    /* Fixed at realize. */
    uint32_t blk_size;          /* logical block size */
    uint32_t phys_size;
    uint64_t capacity;          /* in 512-byte sectors */
    bool read_only;
    bool default_wce;
    IOThread *private_iothread;
    uint32_t config_len;

    int writeback;              /* write cache on (atomic: config writes) */
    bool wce_inferred;          /* writeback came from FLUSH, not config */

    /* One context per iothread processing queues (queue 0's first). */
    VirtIOBlockCtx ctx[VIRTIO_BLK_MAX_QUEUES];
    unsigned nctx;
    uint8_t vq_ctx[VIRTIO_BLK_MAX_QUEUES];  /* queue -> its context */
} VirtIOBlock;

/*
 * Validates @s->conf (already filled in by property parsing), attaches to
 * the drive (taking the image locks as @owner), picks or creates the
 * iothread (named "<@name>-iothread" when private) and initialises the
 * virtio device named @name.  The caller then binds a transport.
 */
bool virtio_blk_realize(VirtIOBlock *s, Device *owner, const char *name,
                        GError **errp);

/* Resets and drains the device, releases the drive, stops a private
 * iothread.  Safe after a failed realize. */
void virtio_blk_unrealize(VirtIOBlock *s);

/* The "virtio-blk-pci" device type (hw/block/virtio-blk-pci.c). */
extern const DeviceType virtio_blk_pci_type;

/* What the device needs under -sandbox with any transport
 * (hw/block/virtio-blk-seccomp.c). */
extern const SandboxPolicy virtio_blk_sandbox_policy;

/* Help texts and defaults shared by every transport's property table. */
#define VIRTIO_BLK_PROPS(base)                                              \
    { .name = "drive", .info = &prop_info_drive,                            \
      .offset = (base) + offsetof(VirtIOBlockConf, blk),                    \
      .help = "Node name or ID of a block device to use as a backend" },    \
    { .name = "iothread", .info = &prop_info_iothread,                      \
      .offset = (base) + offsetof(VirtIOBlockConf, iothread),               \
      .help = "iothread for the data path (default: a private one)" },      \
    { .name = "num-queues", .info = &prop_info_uint16,                      \
      .offset = (base) + offsetof(VirtIOBlockConf, num_queues),             \
      .defval = "1", .min = 1, .max = VIRTIO_BLK_MAX_QUEUES,                \
      .help = "number of request queues (QEMU 7.2: one per vCPU)" },        \
    { .name = "queue-size", .info = &prop_info_uint16,                      \
      .offset = (base) + offsetof(VirtIOBlockConf, queue_size),             \
      .defval = "256", .min = 4, .max = VIRTQUEUE_MAX_SIZE,                 \
      .help = "entries per queue, a power of 2" },                          \
    { .name = "logical_block_size", .info = &prop_info_size,                \
      .offset = (base) + offsetof(VirtIOBlockConf, logical_block_size),     \
      .defval = "0",                                                        \
      .help = "A power of two between 512 B and 2 MiB" },                   \
    { .name = "physical_block_size", .info = &prop_info_size,               \
      .offset = (base) + offsetof(VirtIOBlockConf, physical_block_size),    \
      .defval = "0",                                                        \
      .help = "A power of two between 512 B and 2 MiB" },                   \
    { .name = "min_io_size", .info = &prop_info_size,                       \
      .offset = (base) + offsetof(VirtIOBlockConf, min_io_size),            \
      .defval = "0", .help = "minimum I/O size (bytes)" },                  \
    { .name = "opt_io_size", .info = &prop_info_size,                       \
      .offset = (base) + offsetof(VirtIOBlockConf, opt_io_size),            \
      .defval = "0", .help = "optimal I/O size (bytes)" },                  \
    { .name = "cyls", .info = &prop_info_uint32,                            \
      .offset = (base) + offsetof(VirtIOBlockConf, cyls), .defval = "0",    \
      .max = 65535, .help = "geometry: cylinders (0: guessed)" },           \
    { .name = "heads", .info = &prop_info_uint32,                           \
      .offset = (base) + offsetof(VirtIOBlockConf, heads), .defval = "0",   \
      .max = 255, .help = "geometry: heads (0: guessed)" },                 \
    { .name = "secs", .info = &prop_info_uint32,                            \
      .offset = (base) + offsetof(VirtIOBlockConf, secs), .defval = "0",    \
      .max = 255, .help = "geometry: sectors per track (0: guessed)" },     \
    { .name = "serial", .info = &prop_info_string,                          \
      .offset = (base) + offsetof(VirtIOBlockConf, serial),                 \
      .help = "disk serial number (GET_ID; first 20 bytes)" },              \
    { .name = "discard", .info = &prop_info_bool,                           \
      .offset = (base) + offsetof(VirtIOBlockConf, discard),                \
      .defval = "on", .help = "on/off" },                                   \
    { .name = "write-zeroes", .info = &prop_info_bool,                      \
      .offset = (base) + offsetof(VirtIOBlockConf, write_zeroes),           \
      .defval = "on", .help = "on/off" },                                   \
    { .name = "max-discard-sectors", .info = &prop_info_uint32,             \
      .offset = (base) + offsetof(VirtIOBlockConf, max_discard_sectors),    \
      .defval = "4194303", .min = 1, .max = VIRTIO_BLK_MAX_REQUEST_SECTORS, \
      .help = "largest discard, in 512-byte sectors" },                     \
    { .name = "max-write-zeroes-sectors", .info = &prop_info_uint32,        \
      .offset = (base) + offsetof(VirtIOBlockConf,                          \
                                  max_write_zeroes_sectors),                \
      .defval = "4194303", .min = 1, .max = VIRTIO_BLK_MAX_REQUEST_SECTORS, \
      .help = "largest write-zeroes, in 512-byte sectors" },                \
    { .name = "config-wce", .info = &prop_info_bool,                        \
      .offset = (base) + offsetof(VirtIOBlockConf, config_wce),             \
      .defval = "on",                                                       \
      .help = "on/off: the guest may switch the write cache" },             \
    { .name = "write-cache", .info = &prop_info_on_off_auto,                \
      .offset = (base) + offsetof(VirtIOBlockConf, write_cache),            \
      .defval = "auto", .help = "on/off/auto (auto: the drive's cache "     \
      "mode)" },                                                            \
    { .name = "seg-max-adjust", .info = &prop_info_bool,                    \
      .offset = (base) + offsetof(VirtIOBlockConf, seg_max_adjust),         \
      .defval = "on", .help = "seg_max = queue-size - 2 (else 126)" },      \
    { .name = "share-rw", .info = &prop_info_bool,                          \
      .offset = (base) + offsetof(VirtIOBlockConf, share_rw),               \
      .defval = "off", .help = "let other users write the image" },         \
    { .name = "indirect_desc", .info = &prop_info_bool,                     \
      .offset = (base) + offsetof(VirtIOBlockConf, indirect_desc),          \
      .defval = "on", .help = "on/off" },                                   \
    { .name = "event_idx", .info = &prop_info_bool,                         \
      .offset = (base) + offsetof(VirtIOBlockConf, event_idx),              \
      .defval = "on", .help = "on/off" }

#endif
