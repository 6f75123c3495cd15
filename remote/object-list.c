/*
 * Every "-object" type qemu-remote knows.  Registering a type is one line.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/object.h"
#include "remote/mpqemu.h"

const ObjectType *const object_types[] = {
    &iothread_object_type,
    &remote_object_type,
    NULL
};

const ObjectType *object_type_find(const char *name)
{
    for (const ObjectType *const *t = object_types; *t; t++) {
        if (g_str_equal((*t)->name, name)) {
            return *t;
        }
    }
    return NULL;
}

void object_print_types(FILE *out)
{
    fprintf(out, "List of user creatable objects:\n");
    for (const ObjectType *const *t = object_types; *t; t++) {
        fprintf(out, "  %-20s %s\n", (*t)->name, (*t)->desc);
    }
}
