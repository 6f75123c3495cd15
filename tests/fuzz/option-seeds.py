#!/usr/bin/python3
"""Turns command lines captured by capture.py (CAPTURE_MODE=argv) into
fuzz-option inputs: each option argument, prefixed with the byte that
selects the parser fuzz-option.c runs on it (0 key=value, 1 key=value with
help, 2 JSON, 3 -device properties, 4 scalars, 5 -sandbox).

    option-seeds.py OUTDIR ARGV-FILE...
"""
import hashlib
import json
import os
import sys

SELECTORS = {'device': [3, 1], 'object': [1], 'sandbox': [5]}


def seeds(argv):
    for i, a in enumerate(argv[:-1]):
        name = a.lstrip('-')
        arg = argv[i + 1]
        if not a.startswith('-') or arg.startswith('-'):
            continue
        if arg.startswith('{'):
            yield 2, arg
            continue
        for sel in SELECTORS.get(name, [0]):
            yield sel, arg
        for item in arg.split(','):
            if '=' in item:
                yield 4, item.split('=', 1)[1]


def main(outdir, paths):
    os.makedirs(outdir, exist_ok=True)
    for path in paths:
        with open(path) as f:
            argv = json.load(f)
        for sel, text in seeds(argv):
            data = bytes([sel]) + text.encode()
            name = hashlib.sha1(data).hexdigest()[:16]
            with open(os.path.join(outdir, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
