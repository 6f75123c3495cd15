/*
 * QMP command dispatch: checking a request's shape, finding the command in
 * a generated table (PREFIXqapi-commands.h) and building the reply.
 * The monitor (monitor/) adds capability negotiation on top.
 */
#ifndef QAPI_QMP_DISPATCH_H
#define QAPI_QMP_DISPATCH_H

#include "qapi/util.h"

/*
 * A command's marshaller: converts @args (never NULL; {} when the request
 * had no "arguments") strictly, calls the handler and stores the reply's
 * "return" value in *@ret.  Returns false with @errp set on failure.
 */
typedef bool QmpMarshalFn(JsonObject *args, JsonNode **ret, GError **errp);

typedef struct QmpCommand {
    const char *name;
    QmpMarshalFn *fn;
} QmpCommand;

/* The entry for @name in @table (terminated by name == NULL), or NULL. */
const QmpCommand *qmp_find_command(const QmpCommand *table, const char *name);

/*
 * Checks a request's shape as QEMU does: an object with a string "execute",
 * an optional object "arguments" and an optional "id" of any type, nothing
 * else.  On success *@name and *@args (a new reference; an empty object
 * when absent) are set.  *@id is set (new reference) whenever @request is
 * an object with an "id", even when the check fails, so the error reply can
 * echo it.  Fails with QEMU's texts: "QMP input must be a JSON object",
 * "QMP input lacks member 'execute'", "QMP input member 'execute' must be a
 * string", "QMP input member 'arguments' must be an object", "QMP input
 * member 'X' is unexpected".
 */
bool qmp_check_request(JsonNode *request, const char **name,
                       JsonObject **args, JsonNode **id, GError **errp);

/*
 * Runs command @name from @table with @args.  An unknown command fails with
 * class CommandNotFound: "The command NAME has not been found".  A handler
 * that fails without saying why gets a generic error.
 */
bool qmp_run_command(const QmpCommand *table, const char *name,
                     JsonObject *args, JsonNode **ret, GError **errp);

/*
 * The reply object: {"return": @ret} on success (takes @ret), or
 * {"error": {"class": C, "desc": @err->message}} where C is the QMP error
 * class of @err (qr_error_class_name() of its code for QR_ERROR errors,
 * "GenericError" otherwise); plus "id": @id (copied) when @id is not NULL.
 */
JsonObject *qmp_build_reply(JsonNode *ret, const GError *err, JsonNode *id);

/*
 * All of the above with no negotiation state: the reply to @request
 * (never NULL).  For tests and for callers with their own table.
 */
JsonObject *qmp_dispatch(const QmpCommand *table, JsonNode *request);

#endif
