/*
 * Runs a libFuzzer target without libFuzzer: feeds it the files named on
 * the command line (a directory stands for every file in it: a seed
 * corpus; or a crash to reproduce), then a fixed series of pseudo-random
 * inputs, so `meson test --suite fuzz` runs every target's harness on
 * every build.  Prints TAP.
 */
#include "qemu-remote/osdep.h"

/* Inputs generated after the files, and their largest size. */
#define REPLAY_INPUTS   3000
#define REPLAY_MAX_LEN  768
/* Fixed, so a failure reproduces; the input number is in the test name. */
#define REPLAY_SEED     0x9e4e10e6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **files;

static void replay_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
}

static void test_replay_files(void)
{
    for (char **f = files; *f; f++) {
        g_autoptr(GDir) dir = g_dir_open(*f, 0, NULL);
        const char *name;

        if (!dir) {
            replay_file(*f);
            continue;
        }
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *path = g_build_filename(*f, name, NULL);

            replay_file(path);
        }
    }
}

static void test_replay_generated_inputs(void)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(REPLAY_SEED);
    uint8_t buf[REPLAY_MAX_LEN];

    for (unsigned i = 0; i < REPLAY_INPUTS; i++) {
        size_t len = g_rand_int_range(rand, 0, REPLAY_MAX_LEN + 1);

        for (size_t j = 0; j < len; j++) {
            buf[j] = (uint8_t)g_rand_int(rand);
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc > 1) {
        files = argv + 1;
        g_test_add_func("/fuzz/replay/files", test_replay_files);
    }
    g_test_add_func("/fuzz/replay/generated-inputs",
                    test_replay_generated_inputs);
    return g_test_run();
}
