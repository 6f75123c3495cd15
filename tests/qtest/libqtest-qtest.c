/*
 * libqtest: the qtest command channel, PCI config cycles, the guest RAM
 * allocator and polling.
 */
#include "qemu-remote/osdep.h"
#include "libqtest-internal.h"

#include <linux/pci_regs.h>
#include <poll.h>

#define PCI_CONFIG_ADDRESS  0xcf8
#define PCI_CONFIG_DATA     0xcfc
#define PCI_CONFIG_ENABLE   0x80000000u

/* Longest qtest reply we accept: a hex dump of this many bytes. */
#define MAX_MEMREAD_CHUNK   (1 << 20)

char *qtest_channel_read_line(QTestChannel *c, int64_t deadline_ms)
{
    for (;;) {
        char *nl = memchr(c->inbuf->str, '\n', c->inbuf->len);
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        char buf[65536];
        int64_t left;
        ssize_t n;

        if (nl) {
            size_t len = nl - c->inbuf->str;
            char *line = g_strndup(c->inbuf->str, len);

            g_string_erase(c->inbuf, 0, len + 1);
            if (len && line[len - 1] == '\r') {
                line[len - 1] = '\0';
            }
            return line;
        }
        if (c->fd < 0) {
            return NULL;
        }
        left = deadline_ms - qtest_now_ms();
        if (left <= 0) {
            return NULL;
        }
        if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) <= 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(c->inbuf, buf, n);
    }
}

bool qtest_channel_write(QTestChannel *c, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(c->fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= n;
    }
    return true;
}

/* Sends @line and returns the reply, skipping asynchronous "IRQ" lines. */
static char *qtest_exchange(QTestState *s, const char *line)
{
    g_autofree char *out = g_strconcat(line, "\n", NULL);
    int64_t deadline = qtest_now_ms() + QTEST_TIMEOUT_MS;
    char *reply;

    if (s->broken) {
        return NULL;
    }
    if (!qtest_channel_write(&s->qtest, out, strlen(out))) {
        qtest_set_broken(s, "cannot write to the qtest socket");
        return NULL;
    }
    while ((reply = qtest_channel_read_line(&s->qtest, deadline)) != NULL &&
           g_str_has_prefix(reply, "IRQ")) {
        g_free(reply);
    }
    if (!reply) {
        g_autofree char *what = g_strdup_printf(
            "no qtest reply to '%.60s' (VMM dead or hung)", line);
        qtest_set_broken(s, what);
    }
    return reply;
}

char *qtest_command(QTestState *s, const char *fmt, ...)
{
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qtest_exchange(s, line);
}

/*
 * Runs a command that must answer "OK[ VALUE]".  Returns VALUE (0 when
 * absent), or all-ones after failing the test.
 */
static uint64_t qtest_ok_command(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
static uint64_t qtest_ok_command(QTestState *s, const char *fmt, ...)
{
    g_autofree char *line = NULL;
    g_autofree char *reply = NULL;
    va_list ap;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    reply = qtest_exchange(s, line);
    if (!reply) {
        return UINT64_MAX;
    }
    if (strcmp(reply, "OK") == 0) {
        return 0;
    }
    if (g_str_has_prefix(reply, "OK ")) {
        return g_ascii_strtoull(reply + 3, NULL, 0);
    }
    g_printerr("libqtest: '%s' answered '%s'\n", line, reply);
    if (g_test_initialized()) {
        g_test_fail();
    }
    return UINT64_MAX;
}

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return qtest_ok_command(s, "readb 0x%" PRIx64, addr);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return qtest_ok_command(s, "readw 0x%" PRIx64, addr);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return qtest_ok_command(s, "readl 0x%" PRIx64, addr);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return qtest_ok_command(s, "readq 0x%" PRIx64, addr);
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t val)
{
    qtest_ok_command(s, "writeb 0x%" PRIx64 " 0x%x", addr, val);
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t val)
{
    qtest_ok_command(s, "writew 0x%" PRIx64 " 0x%x", addr, val);
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t val)
{
    qtest_ok_command(s, "writel 0x%" PRIx64 " 0x%x", addr, val);
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t val)
{
    qtest_ok_command(s, "writeq 0x%" PRIx64 " 0x%" PRIx64, addr, val);
}

uint8_t qtest_inb(QTestState *s, uint16_t port)
{
    return qtest_ok_command(s, "inb 0x%x", port);
}

uint16_t qtest_inw(QTestState *s, uint16_t port)
{
    return qtest_ok_command(s, "inw 0x%x", port);
}

uint32_t qtest_inl(QTestState *s, uint16_t port)
{
    return qtest_ok_command(s, "inl 0x%x", port);
}

void qtest_outb(QTestState *s, uint16_t port, uint8_t val)
{
    qtest_ok_command(s, "outb 0x%x 0x%x", port, val);
}

void qtest_outw(QTestState *s, uint16_t port, uint16_t val)
{
    qtest_ok_command(s, "outw 0x%x 0x%x", port, val);
}

void qtest_outl(QTestState *s, uint16_t port, uint32_t val)
{
    qtest_ok_command(s, "outl 0x%x 0x%x", port, val);
}

static void memread_chunk(QTestState *s, uint64_t addr, uint8_t *buf,
                          size_t len)
{
    g_autofree char *line = g_strdup_printf("read 0x%" PRIx64 " 0x%zx",
                                            addr, len);
    g_autofree char *reply = qtest_exchange(s, line);
    const char *hex;

    memset(buf, 0xff, len);
    if (!reply) {
        return;
    }
    if (!g_str_has_prefix(reply, "OK 0x") || strlen(reply) != 5 + 2 * len) {
        g_printerr("libqtest: '%s' answered '%.60s'\n", line, reply);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return;
    }
    hex = reply + 5;
    for (size_t i = 0; i < len; i++) {
        buf[i] = g_ascii_xdigit_value(hex[2 * i]) << 4 |
                 g_ascii_xdigit_value(hex[2 * i + 1]);
    }
}

void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        size_t n = MIN(len, MAX_MEMREAD_CHUNK);

        memread_chunk(s, addr, p, n);
        addr += n;
        p += n;
        len -= n;
    }
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = buf;

    while (len) {
        size_t n = MIN(len, MAX_MEMREAD_CHUNK);
        GString *line = g_string_sized_new(32 + 2 * n);

        g_string_printf(line, "write 0x%" PRIx64 " 0x%zx 0x", addr, n);
        for (size_t i = 0; i < n; i++) {
            g_string_append_c(line, digits[p[i] >> 4]);
            g_string_append_c(line, digits[p[i] & 0xf]);
        }
        qtest_ok_command(s, "%s", line->str);
        g_string_free(line, TRUE);
        addr += n;
        p += n;
        len -= n;
    }
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern, size_t len)
{
    if (len) {
        qtest_ok_command(s, "memset 0x%" PRIx64 " 0x%zx 0x%x", addr, len,
                         pattern);
    }
}

/* --- PCI configuration mechanism #1 --------------------------------------- */

static void config_select(QTestState *s, uint8_t devfn, uint8_t offset)
{
    qtest_outl(s, PCI_CONFIG_ADDRESS,
               PCI_CONFIG_ENABLE | (uint32_t)devfn << 8 | (offset & 0xfc));
}

uint32_t qtest_pci_config_read(QTestState *s, uint8_t devfn, uint8_t offset,
                               unsigned len)
{
    uint16_t port = PCI_CONFIG_DATA + (offset & 3);

    config_select(s, devfn, offset);
    switch (len) {
    case 1:
        return qtest_inb(s, port);
    case 2:
        return qtest_inw(s, port);
    default:
        return qtest_inl(s, port);
    }
}

void qtest_pci_config_write(QTestState *s, uint8_t devfn, uint8_t offset,
                            uint32_t val, unsigned len)
{
    uint16_t port = PCI_CONFIG_DATA + (offset & 3);

    config_select(s, devfn, offset);
    switch (len) {
    case 1:
        qtest_outb(s, port, val);
        break;
    case 2:
        qtest_outw(s, port, val);
        break;
    default:
        qtest_outl(s, port, val);
        break;
    }
}

int qtest_pci_find(QTestState *s, uint16_t vendor, uint16_t device,
                   int from_devfn)
{
    for (int devfn = MAX(from_devfn, 0); devfn < 256; devfn++) {
        uint32_t id = qtest_pci_config_read(s, devfn, PCI_VENDOR_ID, 4);

        if (!qtest_ok(s)) {
            return -1;
        }
        if ((id & 0xffff) == vendor &&
            (device == 0xffff || (id >> 16) == device)) {
            return devfn;
        }
    }
    return -1;
}

/* --- guest RAM allocator ---------------------------------------------------- */

uint64_t qtest_guest_alloc(QTestState *s, uint64_t size, uint64_t align)
{
    uint64_t addr;

    if (!align) {
        align = 16;
    }
    g_assert(QR_IS_POWER_OF_2(align));
    addr = QR_ALIGN_UP(s->alloc_next, align);
    if (!range_fits(addr, size, s->ram_size)) {
        g_printerr("libqtest: guest RAM exhausted (0x%" PRIx64 " bytes)\n",
                   size);
        if (g_test_initialized()) {
            g_test_fail();
        }
        return 0;
    }
    s->alloc_next = addr + size;
    return addr;
}

void qtest_guest_alloc_reset(QTestState *s)
{
    s->alloc_next = 1 << 20;
}

/* --- waiting -------------------------------------------------------------- */

bool qtest_wait_for(QTestState *s, unsigned timeout_ms, QTestCondition cond,
                    void *opaque)
{
    int64_t deadline = qtest_now_ms() + timeout_ms;

    for (;;) {
        if (s->broken) {
            return false;
        }
        if (cond(s, opaque)) {
            return true;
        }
        if (qtest_now_ms() >= deadline) {
            return false;
        }
        /* Leave the CPU to the remote's worker threads between polls. */
        g_usleep(100);
    }
}
