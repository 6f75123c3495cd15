#!/usr/bin/python3
"""scripts/qapi-gen.py on bad schemas (each must fail with FILE:LINE: and a
message naming the problem) and on the good ones (outputs, reference).

Usage: test-qapi-gen.py QAPI_GEN TEST_SCHEMA MAIN_SCHEMA   (prints TAP)
"""

import os
import re
import subprocess
import sys
import tempfile

QAPI_GEN, TEST_SCHEMA, MAIN_SCHEMA = sys.argv[1:4]

# (story, schema text, line the error is on, message pattern)
BAD_SCHEMAS = [
    ('unknown_key_in_command', "{ 'command': 'foo', 'bogus': true }",
     1, r"command 'foo' has unknown key 'bogus'"),
    ('if_conditional_is_rejected',
     "{ 'struct': 'A', 'data': {}, 'if': 'CONFIG_X' }",
     1, r"'if' conditionals are not supported"),
    ('alternate_is_rejected',
     "{ 'alternate': 'A', 'data': { 'a': 'int', 'b': 'str' } }",
     1, r'alternate types are not supported'),
    ('member_of_unknown_type', "\n{ 'struct': 'A', 'data': { 'x': 'Nope' } }",
     2, r"struct 'A' member 'x' uses unknown type 'Nope'"),
    ('duplicate_definition',
     "{ 'struct': 'A', 'data': {} }\n{ 'enum': 'A', 'data': [ 'x' ] }",
     2, r"'A' is already defined at .*bad.json:1"),
    ('redefined_builtin', "{ 'struct': 'int', 'data': {} }",
     1, r"type names are CamelCase"),
    ('discriminator_is_not_an_enum',
     "{ 'struct': 'B', 'data': {} }\n"
     "{ 'union': 'U', 'base': { 'kind': 'str' }, 'discriminator': 'kind',\n"
     "  'data': { 'a': 'B' } }",
     2, r"discriminator 'kind' must be a required member of an enum type"),
    ('discriminator_is_not_in_the_base',
     "{ 'enum': 'E', 'data': [ 'a' ] }\n"
     "{ 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'type',\n"
     "  'data': {} }",
     2, r"discriminator 'type' is not a member of the base"),
    ('branch_is_not_an_enum_value',
     "{ 'enum': 'E', 'data': [ 'a' ] }\n{ 'struct': 'B', 'data': {} }\n"
     "{ 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'kind',\n"
     "  'data': { 'b': 'B' } }",
     3, r"branch 'b' is not a value of E"),
    ('branch_is_not_a_struct',
     "{ 'enum': 'E', 'data': [ 'a' ] }\n"
     "{ 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'kind',\n"
     "  'data': { 'a': 'E' } }",
     2, r"branch 'a' must be a struct, 'E' is not"),
    ('branch_member_clashes_with_base',
     "{ 'enum': 'E', 'data': [ 'a' ] }\n"
     "{ 'struct': 'B', 'data': { 'kind': 'int' } }\n"
     "{ 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'kind',\n"
     "  'data': { 'a': 'B' } }",
     2, r"member 'kind' collides with member 'kind'"),
    ('base_cycle',
     "{ 'struct': 'A', 'base': 'B', 'data': {} }\n"
     "{ 'struct': 'B', 'base': 'A', 'data': {} }",
     1, r"is its own base"),
    ('member_names_clash_in_c',
     "{ 'struct': 'A', 'data': { 'a-b': 'int', 'a_b': 'int' } }",
     1, r"member 'a_b' collides with member 'a-b'"),
    ('member_clashes_with_has_flag',
     "{ 'struct': 'A', 'data': { 'has-x': 'int' } }",
     1, r"member 'has-x' would collide with a has_ flag"),
    ('type_name_ends_in_list', "{ 'struct': 'FooList', 'data': {} }",
     1, r"must not end with 'List'"),
    ('command_name_in_camel_case', "{ 'command': 'QueryFoo' }",
     1, r"command names are lower-case with dashes"),
    ('commands_clash_in_c',
     "{ 'command': 'query-a' }\n{ 'command': 'query_a' }",
     2, r"both need the C name qmp_query_a"),
    ('enum_values_clash_in_c', "{ 'enum': 'E', 'data': [ 'a-b', 'a.b' ] }",
     1, r"value 'a.b' collides with 'a-b'"),
    ('boxed_without_data', "{ 'command': 'c', 'boxed': true }",
     1, r"'boxed': true needs 'data'"),
    ('union_arguments_without_boxed',
     "{ 'enum': 'E', 'data': [ 'a' ] }\n"
     "{ 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'kind',\n"
     "  'data': {} }\n"
     "{ 'command': 'c', 'data': 'U' }",
     4, r"a union in 'data' needs 'boxed': true"),
    ('success_response_false', "{ 'command': 'c', 'success-response': false }",
     1, r"'success-response': false is not supported"),
    ('double_quoted_string', "{ \"struct\": 'A', 'data': {} }",
     1, r"strings are written with single quotes"),
    ('missing_comma', "{ 'struct': 'A'\n  'data': {} }",
     2, r"expected ',' or '}'"),
    ('unterminated_string', "{ 'struct': 'A, 'data': {} }",
     1, r"stray 'd'"),
    ('string_runs_to_end_of_line', "{ 'struct': 'A }",
     1, r"missing terminating quote"),
    ('top_level_list', "[ 'A' ]",
     1, r"expected a top-level definition"),
    ('missing_include', "{ 'include': 'nope.json' }",
     1, r"can't find included file '.*nope.json'"),
    ('undocumented_definition_with_doc_required',
     "{ 'pragma': { 'doc-required': true } }\n{ 'struct': 'A', 'data': {} }",
     2, r"struct 'A' lacks a documentation comment"),
    ('undocumented_member_with_doc_required',
     "{ 'pragma': { 'doc-required': true } }\n##\n# @A:\n#\n# Text.\n##\n"
     "{ 'struct': 'A', 'data': { 'x': 'int' } }",
     2, r"struct 'A': member 'x' lacks documentation"),
    ('documented_member_that_does_not_exist',
     "##\n# @A:\n#\n# @y: no such member\n##\n"
     "{ 'struct': 'A', 'data': { 'x': 'int' } }",
     4, r"documented member 'y' does not exist in struct 'A'"),
    ('doc_comment_for_another_definition',
     "##\n# @B:\n##\n{ 'struct': 'A', 'data': {} }",
     1, r"documentation comment is for 'B' but the definition that follows "
        r"is 'A'"),
    ('doc_comment_not_closed', "##\n# @A:\n{ 'struct': 'A', 'data': {} }",
     3, r"documentation comment line must start with '#'"),
    ('doc_comment_without_space', "##\n#@A:\n##\n",
     2, r"missing space after '#'"),
    ('unknown_pragma', "{ 'pragma': { 'frobnicate': true } }",
     1, r"unknown pragma 'frobnicate'"),
]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=''):
        self.n += 1
        if cond:
            print('ok %d - %s' % (self.n, name))
        else:
            self.failed += 1
            print('not ok %d - %s' % (self.n, name))
            for line in diag.splitlines():
                print('# ' + line)


def run_gen(*args):
    return subprocess.run([sys.executable, QAPI_GEN] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_bad_schema(tap, tmp, story, text, line, pattern):
    path = os.path.join(tmp, 'bad.json')
    with open(path, 'w') as f:
        f.write(text + '\n')
    res = run_gen('-o', os.path.join(tmp, 'out'), path)
    want = r'^%s:%d: (.*)?%s' % (re.escape(path), line, pattern)
    tap.ok(res.returncode == 1 and re.search(want, res.stderr.strip()),
           'test_%s' % story,
           'exit %d, stderr %r, wanted %r' % (res.returncode, res.stderr,
                                              want))


def test_error_in_included_file_names_that_file(tap, tmp):
    main = os.path.join(tmp, 'main.json')
    sub = os.path.join(tmp, 'sub.json')
    with open(main, 'w') as f:
        f.write("{ 'include': 'sub.json' }\n")
    with open(sub, 'w') as f:
        f.write("\n\n{ 'struct': 'A', 'data': { 'x': 'Nope' } }\n")
    res = run_gen('-o', os.path.join(tmp, 'out'), main)
    tap.ok(res.returncode == 1 and
           res.stderr.startswith('%s:3: ' % sub),
           'test_error_in_included_file_names_that_file', res.stderr)


def test_good_schemas_generate_every_file(tap, tmp):
    for prefix, schema in (('', MAIN_SCHEMA), ('test-', TEST_SCHEMA)):
        out = os.path.join(tmp, 'good' + prefix)
        doc = os.path.join(tmp, prefix + 'ref.md')
        res = run_gen('-o', out, '-p', prefix, '--doc', doc, schema)
        names = sorted(os.listdir(out)) if os.path.isdir(out) else []
        want = sorted(prefix + n for n in (
            'qapi-types.h', 'qapi-types.c', 'qapi-visit.h', 'qapi-visit.c',
            'qapi-commands.h', 'qapi-commands.c', 'qapi-events.h',
            'qapi-events.c', 'qapi-introspect.c'))
        tap.ok(res.returncode == 0 and names == want and
               os.path.exists(doc),
               'test_good_schema_%s_generates_every_file' %
               (prefix.strip('-') or 'main'), res.stderr + repr(names))


def test_unchanged_outputs_are_not_rewritten(tap, tmp):
    out = os.path.join(tmp, 'again')
    run_gen('-o', out, MAIN_SCHEMA)
    path = os.path.join(out, 'qapi-types.h')
    os.utime(path, (1, 1))
    res = run_gen('-o', out, MAIN_SCHEMA)
    tap.ok(res.returncode == 0 and os.stat(path).st_mtime == 1,
           'test_unchanged_outputs_are_not_rewritten')


def test_reference_documents_every_command(tap, tmp):
    doc = os.path.join(tmp, 'main-ref.md')
    res = run_gen('--doc-only', '--doc', doc, MAIN_SCHEMA)
    text = open(doc).read() if res.returncode == 0 else ''
    wanted = ['### qmp_capabilities', '### query-version',
              '### query-commands', '### quit', '### query-qmp-schema',
              '### query-status', '### query-name',
              '### x-query-remote-devices', '### SHUTDOWN',
              '| `reason` | [`ShutdownReason`](#shutdownreason) |']
    missing = [w for w in wanted if w not in text]
    tap.ok(not missing, 'test_reference_documents_every_command',
           'missing: %r' % missing)


def main():
    tap = Tap()
    with tempfile.TemporaryDirectory() as tmp:
        for story, text, line, pattern in BAD_SCHEMAS:
            test_bad_schema(tap, tmp, story, text, line, pattern)
        test_error_in_included_file_names_that_file(tap, tmp)
        test_good_schemas_generate_every_file(tap, tmp)
        test_unchanged_outputs_are_not_rewritten(tap, tmp)
        test_reference_documents_every_command(tap, tmp)
    print('1..%d' % tap.n)
    sys.exit(1 if tap.failed else 0)


if __name__ == '__main__':
    main()
