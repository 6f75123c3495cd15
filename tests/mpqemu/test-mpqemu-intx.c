/*
 * INTx over mpqemu, seen from the VMM side: qemu-remote hosts a testdev,
 * the test holds the irqfd and resample eventfds the way KVM would (write
 * = assert; the test signals resample as KVM does on the guest's EOI).
 *
 * Every check follows a synchronous request (a config read): the remote
 * handles a resample notification before the request that was sent after
 * it, and writes the irqfd before it replies to the BAR write that raised
 * the line, so counts are exact without waiting.
 */
#include "mpqemu-test.h"

#include <fcntl.h>

typedef struct Fixture {
    MPQemuTest t;
    MPQemuProxy *p;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer data)
{
    const char *devices[] = { "x-remote-testdev,id=t0", NULL };
    GError *err = NULL;

    if (!mpqemu_test_start(&fx->t, devices, NULL)) {
        return;
    }
    fx->p = mpqemu_test_proxy(&fx->t, 0);
    mpqemu_proxy_ram_new(fx->p, 0, TEST_RAM_SIZE, &err);
    g_assert_no_error(err);
    if (!data) {        /* tests that install the eventfds later pass 1 */
        mpqemu_proxy_set_irqfd(fx->p, &err);
        g_assert_no_error(err);
    }
    testdev_enable(fx->p);
}

static void fixture_teardown(Fixture *fx, gconstpointer data)
{
    mpqemu_test_stop(&fx->t);
}

/* A round trip: everything sent before it has been handled. */
static void sync_remote(Fixture *fx)
{
    config_read(fx->p, PCI_VENDOR_ID, 2);
}

static void resample(Fixture *fx)
{
    GError *err = NULL;

    mpqemu_proxy_resample(fx->p, &err);
    g_assert_no_error(err);
    sync_remote(fx);
}

static void raise_irq(Fixture *fx)
{
    testdev_mmio_write(fx->p, TESTDEV_REG_IRQ_RAISE, TESTDEV_IRQ_SOFT);
}

static void ack_irq(Fixture *fx)
{
    testdev_mmio_write(fx->p, TESTDEV_REG_IRQ_ACK, TESTDEV_IRQ_SOFT);
}

static bool status_interrupt(Fixture *fx)
{
    return config_read(fx->p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
}

static void test_raise_signals_irqfd(Fixture *fx, gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    raise_irq(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
}

static void test_raise_of_raised_line_signals_once(Fixture *fx,
                                                   gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    raise_irq(fx);
    testdev_mmio_write(fx->p, TESTDEV_REG_IRQ_RAISE, TESTDEV_IRQ_DMA);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
}

static void test_resample_with_line_held_reraises(Fixture *fx,
                                                  gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    raise_irq(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);

    resample(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
    /* The remote consumed the notification. */
    g_assert_false(mpqemu_proxy_resample_pending(fx->p));
}

static void test_resample_after_lower_does_not_reraise(Fixture *fx,
                                                       gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    raise_irq(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
    ack_irq(fx);

    resample(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 0);
    g_assert_false(mpqemu_proxy_resample_pending(fx->p));
}

static void test_lowering_sends_nothing(Fixture *fx, gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    raise_irq(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);

    ack_irq(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 0);
}

static void test_intx_disable_masks_line(Fixture *fx, gconstpointer data)
{
    uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER;

    if (!fx->p) {
        return;
    }
    config_write(fx->p, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE, 2);

    raise_irq(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 0);
    g_assert_true(status_interrupt(fx));
    resample(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 0);

    /* Unmasking a held line asserts it. */
    config_write(fx->p, PCI_COMMAND, cmd, 2);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
}

static void test_device_reset_lowers_line(Fixture *fx, gconstpointer data)
{
    GError *err = NULL;

    if (!fx->p) {
        return;
    }
    raise_irq(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);

    mpqemu_proxy_device_reset(fx->p, &err);
    g_assert_no_error(err);

    resample(fx);
    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 0);
    g_assert_false(status_interrupt(fx));
}

static void test_status_interrupt_follows_line(Fixture *fx,
                                               gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    g_assert_false(status_interrupt(fx));

    raise_irq(fx);
    g_assert_true(status_interrupt(fx));
    ack_irq(fx);

    g_assert_false(status_interrupt(fx));
}

static void test_dma_completion_signals_irqfd(Fixture *fx,
                                              gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    testdev_mmio_write(fx->p, TESTDEV_REG_DMA_LEN, 16);

    testdev_mmio_write(fx->p, TESTDEV_REG_DMA_CMD,
                       TESTDEV_DMA_CMD_START | TESTDEV_DMA_CMD_IRQ);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
    g_assert_cmphex(testdev_mmio_read(fx->p, TESTDEV_REG_IRQ_STATUS), ==,
                    TESTDEV_IRQ_DMA);
}

static void test_line_raised_before_set_irqfd_is_delivered(
    Fixture *fx, gconstpointer data)
{
    GError *err = NULL;

    if (!fx->p) {
        return;
    }
    raise_irq(fx);

    mpqemu_proxy_set_irqfd(fx->p, &err);
    g_assert_no_error(err);
    sync_remote(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
}

static void test_set_irqfd_replaces_the_pair(Fixture *fx, gconstpointer data)
{
    GError *err = NULL;
    int old_irq;

    if (!fx->p) {
        return;
    }
    /* Keep the first irqfd open to see that it is no longer used. */
    old_irq = dup(mpqemu_proxy_irq_fd(fx->p));

    mpqemu_proxy_set_irqfd(fx->p, &err);
    g_assert_no_error(err);
    raise_irq(fx);

    g_assert_cmpuint(mpqemu_proxy_irq_take(fx->p), ==, 1);
    g_assert_cmpint(read(old_irq, &(uint64_t){0}, 8), <, 0);
    g_assert_cmpint(errno, ==, EAGAIN);
    close(old_irq);
}

static void test_set_irqfd_leaves_fd_flags_alone(Fixture *fx,
                                                 gconstpointer data)
{
    if (!fx->p) {
        return;
    }
    sync_remote(fx);

    /* QEMU's remote clears O_NONBLOCK on the shared file description. */
    g_assert_true(fcntl(mpqemu_proxy_irq_fd(fx->p), F_GETFL) & O_NONBLOCK);
    g_assert_true(fcntl(mpqemu_proxy_resample_fd(fx->p), F_GETFL) &
                  O_NONBLOCK);
}

static void add(const char *name,
                void (*fn)(Fixture *, gconstpointer), gconstpointer data)
{
    g_test_add(name, Fixture, data, fixture_setup, fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/mpqemu/intx/raise-signals-irqfd", test_raise_signals_irqfd, NULL);
    add("/mpqemu/intx/raise-of-raised-line-signals-once",
        test_raise_of_raised_line_signals_once, NULL);
    add("/mpqemu/intx/resample-with-line-held-reraises",
        test_resample_with_line_held_reraises, NULL);
    add("/mpqemu/intx/resample-after-lower-does-not-reraise",
        test_resample_after_lower_does_not_reraise, NULL);
    add("/mpqemu/intx/lowering-sends-nothing", test_lowering_sends_nothing,
        NULL);
    add("/mpqemu/intx/intx-disable-masks-line", test_intx_disable_masks_line,
        NULL);
    add("/mpqemu/intx/device-reset-lowers-line",
        test_device_reset_lowers_line, NULL);
    add("/mpqemu/intx/status-interrupt-follows-line",
        test_status_interrupt_follows_line, NULL);
    add("/mpqemu/intx/dma-completion-signals-irqfd",
        test_dma_completion_signals_irqfd, NULL);
    add("/mpqemu/intx/line-raised-before-set-irqfd-is-delivered",
        test_line_raised_before_set_irqfd_is_delivered, GINT_TO_POINTER(1));
    add("/mpqemu/intx/set-irqfd-replaces-the-pair",
        test_set_irqfd_replaces_the_pair, NULL);
    add("/mpqemu/intx/set-irqfd-leaves-fd-flags-alone",
        test_set_irqfd_leaves_fd_flags_alone, NULL);
    return g_test_run();
}
