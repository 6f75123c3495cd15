#!/usr/bin/env python3
"""Compiles a QAPI schema into C and a Markdown reference.

  qapi-gen.py [-o OUTDIR] [-p PREFIX] [--doc FILE] [--doc-only] SCHEMA

writes into OUTDIR (default '.'): PREFIXqapi-types.[ch],
PREFIXqapi-visit.[ch], PREFIXqapi-commands.[ch], PREFIXqapi-events.[ch] and
PREFIXqapi-introspect.c; with --doc, also the command reference FILE
(--doc-only: nothing else).  Files whose content is unchanged are not
rewritten.  A bad schema makes it exit with status 1 and a "FILE:LINE:
message" on stderr.  See docs/devel/qapi.md.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qapi.error import QAPIError  # noqa: E402
from qapi.schema import Schema  # noqa: E402
from qapi import gen_commands, gen_doc, gen_events, gen_introspect  # noqa
from qapi import gen_types, gen_visit  # noqa: E402


def write_path(path, text):
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description='QAPI schema compiler')
    ap.add_argument('-o', '--output-dir', default='.')
    ap.add_argument('-p', '--prefix', default='',
                    help='prefix for file names and C tables (e.g. "test-")')
    ap.add_argument('--doc', help='write the Markdown reference here')
    ap.add_argument('--doc-title', default='QMP reference')
    ap.add_argument('--doc-only', action='store_true')
    ap.add_argument('schema')
    args = ap.parse_args()
    prog = os.path.basename(sys.argv[0])

    try:
        schema = Schema(args.schema)
    except QAPIError as e:
        print('%s' % e, file=sys.stderr)
        sys.exit(1)

    if not args.doc_only:
        os.makedirs(args.output_dir, exist_ok=True)

        def write(name, text):
            write_path(os.path.join(args.output_dir, name), text)

        for gen in (gen_types, gen_visit, gen_commands, gen_events,
                    gen_introspect):
            gen.generate(schema, args.prefix, args.output_dir, write)
    if args.doc:
        gen_doc.generate(schema, args.doc, args.doc_title, write_path)
    elif args.doc_only:
        print('%s: --doc-only needs --doc FILE' % prog, file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
