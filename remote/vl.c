#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"

int main(int argc, char **argv)
{
    error_report("not implemented yet");
    return 1;
}
