/*
 * PCI core: config space semantics, BARs and their sizing, capabilities,
 * command-register gating, power management and reset (hw/pci).
 */
#include "pci-fake.h"

#include <sys/mman.h>

#define MEM_BAR_SIZE 0x1000
#define IO_BAR_SIZE 0x20
#define BAR64_SIZE 0x4000

static bool declare_bars(PCIDevice *d, GError **errp)
{
    FakeDev *f = (FakeDev *)d;

    return pci_register_bar(d, 0, PCI_BASE_ADDRESS_SPACE_MEMORY,
                            MEM_BAR_SIZE, &fake_bar_ops, f, errp) &&
           pci_register_bar(d, 1, PCI_BASE_ADDRESS_SPACE_IO, IO_BAR_SIZE,
                            &fake_bar_ops, f, errp) &&
           pci_register_bar(d, 2, PCI_BASE_ADDRESS_SPACE_MEMORY |
                            PCI_BASE_ADDRESS_MEM_TYPE_64 |
                            PCI_BASE_ADDRESS_MEM_PREFETCH, BAR64_SIZE,
                            &fake_bar_ops, f, errp);
}

static bool declare_pm(PCIDevice *d, GError **errp)
{
    return declare_bars(d, errp) && pci_pm_init(d, errp);
}

static void test_identity_registers_are_read_only(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);

    cfg_write(f, PCI_VENDOR_ID, 0xffffffff, 4);
    cfg_write(f, PCI_CLASS_REVISION, 0, 4);

    g_assert_cmphex(cfg_read(f, PCI_VENDOR_ID, 2), ==, 0x1234);
    g_assert_cmphex(cfg_read(f, PCI_DEVICE_ID, 2), ==, 0x5678);
    g_assert_cmphex(cfg_read(f, PCI_CLASS_DEVICE, 2), ==, 0xff00);
    fake_free(f);
}

static void test_interrupt_pin_is_inta(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);

    cfg_write(f, PCI_INTERRUPT_PIN, 4, 1);

    g_assert_cmphex(cfg_read(f, PCI_INTERRUPT_PIN, 1), ==, 1);
    fake_free(f);
}

static void test_command_keeps_only_writable_bits(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);

    cfg_write(f, PCI_COMMAND, 0xffff, 2);

    g_assert_cmphex(cfg_read(f, PCI_COMMAND, 2), ==,
                    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                    PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                    PCI_COMMAND_INTX_DISABLE);
    fake_free(f);
}

static void test_status_error_bits_are_write_1_to_clear(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);

    /* The device reports two errors. */
    pci_set_word(f->pci.config + PCI_STATUS,
                 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR);

    cfg_write(f, PCI_STATUS, 0, 2);                          /* no effect */
    g_assert_cmphex(cfg_read(f, PCI_STATUS, 2), ==,
                    PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR);
    cfg_write(f, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT, 2);  /* clear one */

    g_assert_cmphex(cfg_read(f, PCI_STATUS, 2), ==,
                    PCI_STATUS_SIG_SYSTEM_ERROR);
    fake_free(f);
}

static void test_status_interrupt_and_cap_list_are_read_only(void)
{
    FakeDev *f = fake_new(NULL, NULL, declare_pm);

    cfg_write(f, PCI_STATUS, 0xffff, 2);

    g_assert_cmphex(cfg_read(f, PCI_STATUS, 2), ==, PCI_STATUS_CAP_LIST);
    fake_free(f);
}

static void test_config_read_past_end_fails(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);
    uint32_t v = 0;

    g_assert_false(pci_config_read(&f->pci, 0xff, 2, &v));
    g_assert_cmphex(v, ==, 0xffffffff);
    g_assert_false(pci_config_read(&f->pci, 0x100, 1, &v));
    g_assert_false(pci_config_read(&f->pci, UINT32_MAX, 4, &v));
    g_assert_true(pci_config_read(&f->pci, 0xff, 1, &v));
    fake_free(f);
}

static void test_config_access_with_invalid_length_fails(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);
    uint32_t v;

    g_assert_false(pci_config_read(&f->pci, 0, 0, &v));
    g_assert_false(pci_config_read(&f->pci, 0, 3, &v));
    g_assert_false(pci_config_read(&f->pci, 0, 8, &v));
    g_assert_false(pci_config_write(&f->pci, PCI_COMMAND, 0x7, 3));

    g_assert_cmphex(cfg_read(f, PCI_COMMAND, 2), ==, 0);
    fake_free(f);
}

static bool declare_express(PCIDevice *d, GError **errp)
{
    pci_set_express_config(d);
    return true;
}

static void test_express_config_reaches_4k(void)
{
    FakeDev *f = fake_new(NULL, NULL, declare_express);
    uint32_t v;

    g_assert_true(pci_config_read(&f->pci, 0xffc, 4, &v));
    g_assert_cmphex(v, ==, 0);
    g_assert_false(pci_config_read(&f->pci, 0xffd, 4, &v));
    fake_free(f);
}

/* Writes all-ones to a BAR register and returns what reads back. */
static uint32_t size_bar(FakeDev *f, int bar)
{
    uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t orig = cfg_read(f, reg, 4);
    uint32_t mask;

    cfg_write(f, reg, 0xffffffff, 4);
    mask = cfg_read(f, reg, 4);
    cfg_write(f, reg, orig, 4);
    return mask;
}

static void test_bar_sizing_32bit_memory(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);

    g_assert_cmphex(size_bar(f, 0), ==, (uint32_t)~(MEM_BAR_SIZE - 1));
    g_assert_cmphex(cfg_read(f, PCI_BASE_ADDRESS_0, 4), ==, 0);
    fake_free(f);
}

static void test_bar_sizing_io(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);

    g_assert_cmphex(size_bar(f, 1), ==,
                    (uint32_t)~(IO_BAR_SIZE - 1) | PCI_BASE_ADDRESS_SPACE_IO);
    fake_free(f);
}

static void test_bar_sizing_64bit_prefetchable(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);

    g_assert_cmphex(size_bar(f, 2), ==,
                    (uint32_t)~(BAR64_SIZE - 1) |
                    PCI_BASE_ADDRESS_MEM_TYPE_64 |
                    PCI_BASE_ADDRESS_MEM_PREFETCH);
    g_assert_cmphex(size_bar(f, 3), ==, 0xffffffff);
    fake_free(f);
}

static void test_bar64_downgraded_on_transport_without_bar64(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);

    /* A 32-bit non-prefetchable BAR; BAR3 is free (reads 0). */
    g_assert_cmphex(size_bar(f, 2), ==, (uint32_t)~(BAR64_SIZE - 1));
    g_assert_cmphex(size_bar(f, 3), ==, 0);
    fake_free(f);
}

static void test_unimplemented_bar_rom_and_cardbus_read_zero(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);

    g_assert_cmphex(size_bar(f, 4), ==, 0);
    g_assert_cmphex(size_bar(f, 5), ==, 0);
    cfg_write(f, PCI_CARDBUS_CIS, 0xffffffff, 4);
    cfg_write(f, PCI_ROM_ADDRESS, 0xfffff800, 4);

    g_assert_cmphex(cfg_read(f, PCI_CARDBUS_CIS, 4), ==, 0);
    g_assert_cmphex(cfg_read(f, PCI_ROM_ADDRESS, 4), ==, 0);
    fake_free(f);
}

static bool declare_bad_bars(PCIDevice *d, GError **errp)
{
    FakeDev *f = (FakeDev *)d;
    GError *err = NULL;

    /* Not a power of two, too small, a bad index, a 64-bit BAR in the
     * last slot, then a BAR that collides with BAR0's upper half. */
    g_assert_false(pci_register_bar(d, 0, 0, 0x3000, &fake_bar_ops, f, NULL));
    g_assert_false(pci_register_bar(d, 0, 0, 8, &fake_bar_ops, f, NULL));
    g_assert_false(pci_register_bar(d, 6, 0, 0x1000, &fake_bar_ops, f, NULL));
    g_assert_false(pci_register_bar(d, 5, PCI_BASE_ADDRESS_MEM_TYPE_64,
                                    0x1000, &fake_bar_ops, f, NULL));
    g_assert_true(pci_register_bar(d, 0, PCI_BASE_ADDRESS_MEM_TYPE_64,
                                   0x1000, &fake_bar_ops, f, NULL));
    g_assert_false(pci_register_bar(d, 1, 0, 0x1000, &fake_bar_ops, f, &err));
    g_assert_nonnull(err);
    g_error_free(err);
    return true;
}

static void test_register_bar_rejects_bad_declarations(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bad_bars);

    fake_free(f);
}

/* Places BAR0 at @mem, BAR1 at @io and enables decoding per @command. */
static void program_bars(FakeDev *f, uint32_t mem, uint32_t io,
                         uint16_t command)
{
    cfg_write(f, PCI_BASE_ADDRESS_0, mem, 4);
    cfg_write(f, PCI_BASE_ADDRESS_1, io, 4);
    cfg_write(f, PCI_COMMAND, command, 2);
}

static void test_bar_access_decodes_absolute_address(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v = 0;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);

    g_assert_true(pci_bar_access_addr(&f->pci, false, 0xfebf0010, 4, false,
                                      &v));
    g_assert_cmphex(v, ==, 0x10);       /* marker cut to 4 bytes */
    g_assert_cmpuint(f->last_offset, ==, 0x10);
    g_assert_true(pci_bar_access_addr(&f->pci, true, 0xc004, 2, true,
                                      &(uint64_t){0x12345}));
    g_assert_cmpuint(f->last_offset, ==, 4);
    g_assert_cmphex(f->last_value, ==, 0x2345);
    g_assert_cmphex(pci_bar_address(&f->pci, 0), ==, 0xfebf0000);
    fake_free(f);
}

static void test_bar_access_outside_or_straddling_bar_fails(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v = 0;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);

    g_assert_false(pci_bar_access_addr(&f->pci, false,
                                       0xfebf0000 + MEM_BAR_SIZE, 1, false,
                                       &v));
    g_assert_cmphex(v, ==, PCI_ALL_ONES);
    g_assert_false(pci_bar_access_addr(&f->pci, false,
                                       0xfebf0000 + MEM_BAR_SIZE - 4, 8,
                                       false, &v));
    /* The I/O port number in memory space decodes to nothing. */
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xc000, 1, false,
                                       &v));
    fake_free(f);
}

static void test_bar_access_with_invalid_size_or_alignment_fails(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_MEMORY);

    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 3, false,
                                       &v));
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 16, false,
                                       &v));
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfebf0002, 4, false,
                                       &v));
    g_assert_true(pci_bar_access_addr(&f->pci, false, 0xfebf0008, 8, false,
                                      &v));
    fake_free(f);
}

static void test_bar_access_needs_command_enable(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_IO);
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 4, false,
                                       &v));
    g_assert_true(pci_bar_access_addr(&f->pci, true, 0xc000, 4, false, &v));

    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

    g_assert_true(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 4, false,
                                      &v));
    g_assert_false(pci_bar_access_addr(&f->pci, true, 0xc000, 4, false, &v));
    fake_free(f);
}

static void test_unassigned_bar_does_not_decode(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v;

    /* Address 0, then the all-ones pattern a sizing probe leaves. */
    program_bars(f, 0, 0, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0, 4, false, &v));
    g_assert_cmphex(pci_bar_address(&f->pci, 0), ==, PCI_ALL_ONES);
    cfg_write(f, PCI_BASE_ADDRESS_0, 0xffffffff, 4);

    g_assert_cmphex(pci_bar_address(&f->pci, 0), ==, PCI_ALL_ONES);
    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfffff000, 4, false,
                                       &v));
    fake_free(f);
}

static void test_bar64_decodes_above_4g(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v;

    cfg_write(f, PCI_BASE_ADDRESS_2, 0x80000000, 4);
    cfg_write(f, PCI_BASE_ADDRESS_3, 0x1, 4);
    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

    g_assert_cmphex(pci_bar_address(&f->pci, 2), ==, 0x180000000ULL);
    g_assert_true(pci_bar_access_addr(&f->pci, false, 0x180000100ULL, 4,
                                      false, &v));
    g_assert_cmpuint(f->last_offset, ==, 0x100);
    fake_free(f);
}

static void test_bar_access_by_index(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_bars);
    uint64_t v;

    g_assert_true(pci_bar_access(&f->pci, 1, IO_BAR_SIZE - 1, 1, false, &v));
    g_assert_cmpuint(f->last_offset, ==, IO_BAR_SIZE - 1);
    g_assert_false(pci_bar_access(&f->pci, 1, IO_BAR_SIZE, 1, false, &v));
    g_assert_false(pci_bar_access(&f->pci, 3, 0, 4, false, &v));  /* upper */
    g_assert_false(pci_bar_access(&f->pci, 4, 0, 4, false, &v));  /* none */
    g_assert_false(pci_bar_access(&f->pci, -1, 0, 4, false, &v));
    g_assert_false(pci_bar_access(&f->pci, 0, UINT64_MAX - 1, 4, false, &v));
    fake_free(f);
}

static bool declare_caps(PCIDevice *d, GError **errp)
{
    return pci_pm_init(d, errp) &&
           pci_add_capability(d, PCI_CAP_ID_VNDR, 0, 16, errp) &&
           msi_init(d, 4, errp) == 0 &&
           pci_add_capability(d, PCI_CAP_ID_VNDR, 0xc0, 8, errp);
}

static void test_capability_list_in_declaration_order(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_caps);
    uint8_t expect[] = { PCI_CAP_ID_PM, PCI_CAP_ID_VNDR, PCI_CAP_ID_MSI,
                         PCI_CAP_ID_VNDR };
    uint8_t off = cfg_read(f, PCI_CAPABILITY_LIST, 1);

    g_assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    for (size_t i = 0; i < G_N_ELEMENTS(expect); i++) {
        g_assert_cmpuint(off, >=, PCI_STD_HEADER_SIZEOF);
        g_assert_cmpuint(off % 4, ==, 0);
        g_assert_cmphex(cfg_read(f, off, 1), ==, expect[i]);
        off = cfg_read(f, off + PCI_CAP_LIST_NEXT, 1);
    }
    g_assert_cmpuint(off, ==, 0);
    g_assert_cmphex(pci_find_capability(&f->pci, PCI_CAP_ID_MSI), ==,
                    f->pci.msi_cap);
    g_assert_cmphex(pci_find_capability(&f->pci, PCI_CAP_ID_MSIX), ==, 0);
    fake_free(f);
}

static void test_no_capabilities_no_cap_list_bit(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);

    g_assert_false(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    g_assert_cmphex(cfg_read(f, PCI_CAPABILITY_LIST, 1), ==, 0);
    fake_free(f);
}

static bool declare_bad_caps(PCIDevice *d, GError **errp)
{
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0x40, 16, NULL),
                     ==, 0x40);
    /* Overlapping, inside the header, unaligned, past the end, too big. */
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0x4c, 8, NULL),
                     ==, 0);
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0x3c, 4, NULL),
                     ==, 0);
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0x62, 4, NULL),
                     ==, 0);
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0xfc, 8, NULL),
                     ==, 0);
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0, 250, NULL),
                     ==, 0);
    /* Auto-placement skips what is taken. */
    g_assert_cmpuint(pci_add_capability(d, PCI_CAP_ID_VNDR, 0, 8, NULL), ==,
                     0x50);
    return true;
}

static void test_capability_placement_rejects_overlaps(void)
{
    FakeDev *f = fake_new(NULL, NULL, declare_bad_caps);

    fake_free(f);
}

static void test_capabilities_are_read_only_by_default(void)
{
    FakeDev *f = fake_new(&fake_full_transport, &(FakeTransport){0},
                          declare_caps);
    uint8_t vndr = pci_find_capability(&f->pci, PCI_CAP_ID_VNDR);

    cfg_write(f, vndr, 0xffffffff, 4);

    g_assert_cmphex(cfg_read(f, vndr, 1), ==, PCI_CAP_ID_VNDR);
    fake_free(f);
}

static void test_d3hot_stops_bar_decoding(void)
{
    FakeDev *f = fake_new(&fake_intx_transport, &(FakeTransport){0},
                          declare_pm);
    uint8_t pm = pci_find_capability(&f->pci, PCI_CAP_ID_PM);
    uint64_t v;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_MEMORY);
    cfg_write(f, pm + PCI_PM_CTRL, 3, 2);                  /* D3hot */

    g_assert_false(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 4, false,
                                       &v));
    cfg_write(f, pm + PCI_PM_CTRL, 0, 2);                  /* D0 */
    g_assert_true(pci_bar_access_addr(&f->pci, false, 0xfebf0000, 4, false,
                                      &v));
    fake_free(f);
}

static void test_unsupported_power_state_ignored(void)
{
    FakeDev *f = fake_new(NULL, NULL, declare_pm);
    uint8_t pm = pci_find_capability(&f->pci, PCI_CAP_ID_PM);

    cfg_write(f, pm + PCI_PM_CTRL, 1, 2);                  /* D1 */

    g_assert_cmphex(cfg_read(f, pm + PCI_PM_CTRL, 2), ==,
                    PCI_PM_CTRL_NO_SOFT_RESET);
    fake_free(f);
}

static void test_bus_master_gates_dma(void)
{
    FakeDev *f = fake_new(NULL, NULL, NULL);
    int fd = memfd_create("pci-dma", MFD_CLOEXEC);
    DMARegionDesc r = { .gpa = 0, .size = 4096, .fd = fd };
    uint8_t b = 1;

    g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
    g_assert_true(dma_space_set_table(pci_get_dma(&f->pci), &r, 1, NULL));
    g_assert_false(dma_write(pci_get_dma(&f->pci), 0, &b, 1, NULL));

    cfg_write(f, PCI_COMMAND, PCI_COMMAND_MASTER, 2);

    g_assert_true(pci_bus_master_enabled(&f->pci));
    g_assert_true(dma_write(pci_get_dma(&f->pci), 0, &b, 1, NULL));
    cfg_write(f, PCI_COMMAND, 0, 2);
    g_assert_false(dma_write(pci_get_dma(&f->pci), 0, &b, 1, NULL));
    fake_free(f);
    close(fd);
}

static void test_reset_restores_power_on_config(void)
{
    FakeTransport t = { 0 };
    FakeDev *f = fake_new(&fake_intx_transport, &t, declare_pm);
    uint8_t pm = pci_find_capability(&f->pci, PCI_CAP_ID_PM);
    g_autofree uint8_t *before = g_memdup2(f->pci.config,
                                           PCI_CONFIG_SPACE_SIZE);
    unsigned resets = f->resets;

    program_bars(f, 0xfebf0000, 0xc000, PCI_COMMAND_MEMORY |
                 PCI_COMMAND_MASTER);
    cfg_write(f, PCI_INTERRUPT_LINE, 10, 1);
    cfg_write(f, PCI_CACHE_LINE_SIZE, 0x10, 1);
    cfg_write(f, pm + PCI_PM_CTRL, 3, 2);
    pci_set_irq(&f->pci, true);
    g_assert_true(t.level);

    pci_device_reset(&f->pci);

    g_assert_cmpmem(f->pci.config, PCI_CONFIG_SPACE_SIZE, before,
                    PCI_CONFIG_SPACE_SIZE);
    g_assert_false(t.level);
    g_assert_false(pci_irq_asserted(&f->pci));
    g_assert_false(pci_bus_master_enabled(&f->pci));
    g_assert_cmpuint(f->resets, ==, resets + 1);
    /* The device's own reset ran first, before config space was reset. */
    g_assert_cmphex(f->command_in_reset, ==,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    fake_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/config/identity-registers-are-read-only",
                    test_identity_registers_are_read_only);
    g_test_add_func("/pci/config/interrupt-pin-is-inta",
                    test_interrupt_pin_is_inta);
    g_test_add_func("/pci/config/command-keeps-only-writable-bits",
                    test_command_keeps_only_writable_bits);
    g_test_add_func("/pci/config/status-error-bits-are-write-1-to-clear",
                    test_status_error_bits_are_write_1_to_clear);
    g_test_add_func("/pci/config/status-interrupt-and-cap-list-read-only",
                    test_status_interrupt_and_cap_list_are_read_only);
    g_test_add_func("/pci/config/read-past-end-fails",
                    test_config_read_past_end_fails);
    g_test_add_func("/pci/config/access-with-invalid-length-fails",
                    test_config_access_with_invalid_length_fails);
    g_test_add_func("/pci/config/express-config-reaches-4k",
                    test_express_config_reaches_4k);
    g_test_add_func("/pci/bar/sizing-32bit-memory",
                    test_bar_sizing_32bit_memory);
    g_test_add_func("/pci/bar/sizing-io", test_bar_sizing_io);
    g_test_add_func("/pci/bar/sizing-64bit-prefetchable",
                    test_bar_sizing_64bit_prefetchable);
    g_test_add_func("/pci/bar/64bit-downgraded-without-bar64-transport",
                    test_bar64_downgraded_on_transport_without_bar64);
    g_test_add_func("/pci/bar/unimplemented-rom-and-cardbus-read-zero",
                    test_unimplemented_bar_rom_and_cardbus_read_zero);
    g_test_add_func("/pci/bar/register-rejects-bad-declarations",
                    test_register_bar_rejects_bad_declarations);
    g_test_add_func("/pci/bar/access-decodes-absolute-address",
                    test_bar_access_decodes_absolute_address);
    g_test_add_func("/pci/bar/access-outside-or-straddling-fails",
                    test_bar_access_outside_or_straddling_bar_fails);
    g_test_add_func("/pci/bar/access-invalid-size-or-alignment-fails",
                    test_bar_access_with_invalid_size_or_alignment_fails);
    g_test_add_func("/pci/bar/access-needs-command-enable",
                    test_bar_access_needs_command_enable);
    g_test_add_func("/pci/bar/unassigned-does-not-decode",
                    test_unassigned_bar_does_not_decode);
    g_test_add_func("/pci/bar/64bit-decodes-above-4g",
                    test_bar64_decodes_above_4g);
    g_test_add_func("/pci/bar/access-by-index", test_bar_access_by_index);
    g_test_add_func("/pci/cap/list-in-declaration-order",
                    test_capability_list_in_declaration_order);
    g_test_add_func("/pci/cap/none-no-cap-list-bit",
                    test_no_capabilities_no_cap_list_bit);
    g_test_add_func("/pci/cap/placement-rejects-overlaps",
                    test_capability_placement_rejects_overlaps);
    g_test_add_func("/pci/cap/read-only-by-default",
                    test_capabilities_are_read_only_by_default);
    g_test_add_func("/pci/pm/d3hot-stops-bar-decoding",
                    test_d3hot_stops_bar_decoding);
    g_test_add_func("/pci/pm/unsupported-power-state-ignored",
                    test_unsupported_power_state_ignored);
    g_test_add_func("/pci/command/bus-master-gates-dma",
                    test_bus_master_gates_dma);
    g_test_add_func("/pci/reset/restores-power-on-config",
                    test_reset_restores_power_on_config);
    return g_test_run();
}
