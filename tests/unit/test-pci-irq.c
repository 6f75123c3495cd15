/*
 * PCI core interrupts: INTx with STATUS.INTERRUPT and INTX_DISABLE, MSI and
 * MSI-X with masking and pending bits, and transports that cannot deliver
 * message-signalled interrupts (hw/pci).
 */
#include "pci-fake.h"

#define MSIX_BAR 2
#define MSIX_BAR_ADDR 0xfe000000u
#define MSIX_PBA 0x800

static void test_raise_and_lower_reach_transport(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, NULL);

    pci_set_irq(&f->pci, true);
    g_assert_true(t.level);
    g_assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

    pci_set_irq(&f->pci, false);

    g_assert_false(t.level);
    g_assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    g_assert_cmpuint(t.raises, ==, 1);
    g_assert_cmpuint(t.lowers, ==, 1);
    fake_free(f);
}

static void test_raising_a_raised_line_notifies_once(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, NULL);

    pci_set_irq(&f->pci, true);
    pci_set_irq(&f->pci, true);

    g_assert_cmpuint(t.raises, ==, 1);
    fake_free(f);
}

static void test_intx_disable_masks_line_not_status(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, NULL);

    pci_set_irq(&f->pci, true);

    cfg_write(f, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    g_assert_false(t.level);
    g_assert_false(pci_irq_asserted(&f->pci));
    g_assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

    cfg_write(f, PCI_COMMAND, 0, 2);
    g_assert_true(t.level);
    g_assert_true(pci_irq_asserted(&f->pci));
    fake_free(f);
}

static bool declare_no_pin(PCIDevice *d, GError **errp)
{
    pci_config_set_interrupt_pin(d, 0);
    return true;
}

static void test_device_without_pin_never_asserts(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, declare_no_pin);

    pci_set_irq(&f->pci, true);

    g_assert_false(t.level);
    g_assert_cmphex(cfg_read(f, PCI_INTERRUPT_PIN, 1), ==, 0);
    fake_free(f);
}

static void test_reset_lowers_line(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, NULL);

    pci_set_irq(&f->pci, true);

    pci_device_reset(&f->pci);

    g_assert_false(t.level);
    g_assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    fake_free(f);
}

static bool declare_msi_and_msix(PCIDevice *d, GError **errp)
{
    int msi = msi_init(d, 4, errp);
    int msix;

    if (msi == -EINVAL) {
        return false;
    }
    msix = msix_init_exclusive_bar(d, 8, MSIX_BAR, errp);
    return msix != -EINVAL;
}

static void test_intx_only_transport_gets_no_msi_capabilities(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, declare_msi_and_msix);

    g_assert_cmpuint(pci_find_capability(&f->pci, PCI_CAP_ID_MSI), ==, 0);
    g_assert_cmpuint(pci_find_capability(&f->pci, PCI_CAP_ID_MSIX), ==, 0);
    g_assert_cmpuint(f->pci.bars[MSIX_BAR].size, ==, 0);
    /* Notifying anyway is dropped, not a crash. */
    msi_notify(&f->pci, 0);
    msix_notify(&f->pci, 0);
    g_assert_false(msi_enabled(&f->pci));
    g_assert_false(msix_enabled(&f->pci));
    fake_free(f);
}

static void test_msi_init_rejects_bad_vector_counts(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, NULL);

    g_assert_cmpint(msi_init(&f->pci, 3, NULL), ==, -EINVAL);
    g_assert_cmpint(msi_init(&f->pci, 64, NULL), ==, -EINVAL);
    g_assert_cmpint(msix_init_exclusive_bar(&f->pci, 0, 1, NULL), ==,
                    -EINVAL);
    g_assert_cmpint(msix_init_exclusive_bar(&f->pci, 129, 1, NULL), ==,
                    -EINVAL);
    fake_free(f);
}

/* MSI at @cap: 64-bit address, data, enable with all 4 vectors. */
static void msi_enable(FakeDev *f, uint8_t cap)
{
    cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
    cfg_write(f, cap + PCI_MSI_ADDRESS_HI, 0, 4);
    cfg_write(f, cap + PCI_MSI_DATA_64, 0x4041, 2);
    cfg_write(f, cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (2 << 4), 2);
}

static void test_msi_notify_delivers_enabled_vector(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);
    uint8_t cap = pci_find_capability(&f->pci, PCI_CAP_ID_MSI);

    g_assert_cmphex(cfg_read(f, cap + PCI_MSI_FLAGS, 2), ==,
                    PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1));
    msi_notify(&f->pci, 1);                     /* not enabled yet: dropped */
    g_assert_cmpuint(t.msi[1], ==, 0);

    msi_enable(f, cap);
    msi_notify(&f->pci, 1);
    msi_notify(&f->pci, 7);                     /* beyond the 4 enabled */

    g_assert_true(msi_enabled(&f->pci));
    g_assert_cmpuint(t.msi[1], ==, 1);
    g_assert_cmpuint(t.msi[7], ==, 0);
    g_assert_cmphex(cfg_read(f, cap + PCI_MSI_DATA_64, 2), ==, 0x4041);
    fake_free(f);
}

static void test_msi_masked_vector_pends_until_unmasked(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);
    uint8_t cap = pci_find_capability(&f->pci, PCI_CAP_ID_MSI);

    msi_enable(f, cap);
    cfg_write(f, cap + PCI_MSI_MASK_64, 1u << 2, 4);

    msi_notify(&f->pci, 2);
    g_assert_cmpuint(t.msi[2], ==, 0);
    g_assert_cmphex(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), ==, 1u << 2);
    cfg_write(f, cap + PCI_MSI_PENDING_64, 0, 4);      /* read-only */
    g_assert_cmphex(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), ==, 1u << 2);

    cfg_write(f, cap + PCI_MSI_MASK_64, 0, 4);

    g_assert_cmpuint(t.msi[2], ==, 1);
    g_assert_cmphex(cfg_read(f, cap + PCI_MSI_PENDING_64, 4), ==, 0);
    fake_free(f);
}

static uint64_t msix_read(FakeDev *f, uint64_t off, unsigned size)
{
    uint64_t v = 0;

    g_assert_true(pci_bar_access_addr(&f->pci, false, MSIX_BAR_ADDR + off,
                                      size, false, &v));
    return v;
}

static void msix_write(FakeDev *f, uint64_t off, uint64_t v, unsigned size)
{
    g_assert_true(pci_bar_access_addr(&f->pci, false, MSIX_BAR_ADDR + off,
                                      size, true, &v));
}

/* Maps the MSI-X BAR and programs vector @v (still masked). */
static uint8_t msix_setup(FakeDev *f)
{
    uint8_t cap = pci_find_capability(&f->pci, PCI_CAP_ID_MSIX);

    cfg_write(f, PCI_BASE_ADDRESS_0 + 4 * MSIX_BAR, MSIX_BAR_ADDR, 4);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cfg_write(f, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
    return cap;
}

static void test_msix_capability_layout(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);
    uint8_t cap = pci_find_capability(&f->pci, PCI_CAP_ID_MSIX);

    g_assert_cmphex(cfg_read(f, cap + PCI_MSIX_FLAGS, 2), ==, 8 - 1);
    g_assert_cmphex(cfg_read(f, cap + PCI_MSIX_TABLE, 4), ==, MSIX_BAR);
    g_assert_cmphex(cfg_read(f, cap + PCI_MSIX_PBA, 4), ==,
                    MSIX_PBA | MSIX_BAR);
    g_assert_cmpuint(f->pci.bars[MSIX_BAR].size, ==, 0x1000);
    fake_free(f);
}

static void test_msix_vectors_start_masked_and_pend(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);

    msix_setup(f);
    g_assert_cmphex(msix_read(f, 3 * PCI_MSIX_ENTRY_SIZE +
                              PCI_MSIX_ENTRY_VECTOR_CTRL, 4), ==,
                    PCI_MSIX_ENTRY_CTRL_MASKBIT);

    msix_notify(&f->pci, 3);
    g_assert_cmpuint(t.msix[3], ==, 0);
    g_assert_cmphex(msix_read(f, MSIX_PBA, 8), ==, 1u << 3);

    msix_write(f, 3 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);

    g_assert_cmpuint(t.msix[3], ==, 1);
    g_assert_cmphex(msix_read(f, MSIX_PBA, 8), ==, 0);
    msix_notify(&f->pci, 3);
    g_assert_cmpuint(t.msix[3], ==, 2);
    fake_free(f);
}

static void test_msix_function_mask_holds_all_vectors(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);
    uint8_t cap = msix_setup(f);

    msix_write(f, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);         /* vector 0 */
    cfg_write(f, cap + PCI_MSIX_FLAGS,
              PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);

    msix_notify(&f->pci, 0);
    g_assert_cmpuint(t.msix[0], ==, 0);

    cfg_write(f, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);

    g_assert_cmpuint(t.msix[0], ==, 1);
    fake_free(f);
}

static void test_msix_table_keeps_written_entries(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);

    msix_setup(f);

    msix_write(f, 7 * PCI_MSIX_ENTRY_SIZE, 0x00000000fee01000ULL, 8);
    msix_write(f, 7 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_DATA, 0x55, 4);
    /* Past the 8-entry table: ignored, reads 0. */
    msix_write(f, 8 * PCI_MSIX_ENTRY_SIZE, 0xffffffff, 4);

    g_assert_cmphex(msix_read(f, 7 * PCI_MSIX_ENTRY_SIZE, 4), ==,
                    0xfee01000);
    g_assert_cmphex(msix_read(f, 7 * PCI_MSIX_ENTRY_SIZE +
                              PCI_MSIX_ENTRY_DATA, 1), ==, 0x55);
    g_assert_cmphex(msix_read(f, 8 * PCI_MSIX_ENTRY_SIZE, 4), ==, 0);
    fake_free(f);
}

static void test_reset_masks_msix_and_clears_pending(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_full_transport, &t, declare_msi_and_msix);

    msix_setup(f);
    msix_write(f, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
    msix_notify(&f->pci, 5);                  /* masked: pending */

    pci_device_reset(&f->pci);

    g_assert_false(msix_enabled(&f->pci));
    msix_setup(f);
    g_assert_cmphex(msix_read(f, MSIX_PBA, 8), ==, 0);
    g_assert_cmphex(msix_read(f, PCI_MSIX_ENTRY_VECTOR_CTRL, 4), ==,
                    PCI_MSIX_ENTRY_CTRL_MASKBIT);
    g_assert_cmpuint(t.msix[5], ==, 0);
    fake_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/intx/raise-and-lower-reach-transport",
                    test_raise_and_lower_reach_transport);
    g_test_add_func("/pci/intx/raising-a-raised-line-notifies-once",
                    test_raising_a_raised_line_notifies_once);
    g_test_add_func("/pci/intx/intx-disable-masks-line-not-status",
                    test_intx_disable_masks_line_not_status);
    g_test_add_func("/pci/intx/device-without-pin-never-asserts",
                    test_device_without_pin_never_asserts);
    g_test_add_func("/pci/intx/reset-lowers-line", test_reset_lowers_line);
    g_test_add_func("/pci/msi/intx-only-transport-gets-no-msi-capabilities",
                    test_intx_only_transport_gets_no_msi_capabilities);
    g_test_add_func("/pci/msi/init-rejects-bad-vector-counts",
                    test_msi_init_rejects_bad_vector_counts);
    g_test_add_func("/pci/msi/notify-delivers-enabled-vector",
                    test_msi_notify_delivers_enabled_vector);
    g_test_add_func("/pci/msi/masked-vector-pends-until-unmasked",
                    test_msi_masked_vector_pends_until_unmasked);
    g_test_add_func("/pci/msix/capability-layout",
                    test_msix_capability_layout);
    g_test_add_func("/pci/msix/vectors-start-masked-and-pend",
                    test_msix_vectors_start_masked_and_pend);
    g_test_add_func("/pci/msix/function-mask-holds-all-vectors",
                    test_msix_function_mask_holds_all_vectors);
    g_test_add_func("/pci/msix/table-keeps-written-entries",
                    test_msix_table_keeps_written_entries);
    g_test_add_func("/pci/msix/reset-masks-and-clears-pending",
                    test_reset_masks_msix_and_clears_pending);
    return g_test_run();
}
