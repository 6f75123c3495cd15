#!/usr/bin/python3
"""Help and version output: what each prints, exit status 0, and that
asking for help starts nothing.  Prints TAP."""

import re

from clitest import ScratchDir, check, check_eq, main, run

# Every option a user can give (docs/qemu-remote.md documents each).
OPTIONS = ['-h', '-help', '-version', '-machine', '-M', '-object', '-device',
           '-blockdev', '-drive',
           '-qmp', '-chardev', '-mon', '-name', '-pidfile', '-daemonize',
           '-D', '-d', '-msg', '-display', '-nographic', '-nodefaults']


def expect_output(args):
    status, out, err = run(args)
    check_eq(status, 0, 'exit status')
    check_eq(err, '', 'stderr')
    return out


def test_version():
    out = expect_output(['-version'])
    check(out.startswith('qemu-remote version 0.'), 'stdout: %r' % out)


def test_double_dash_version():
    check_eq(expect_output(['--version']), expect_output(['-version']),
             '--version output')


def test_help_lists_every_option():
    out = expect_output(['-h'])
    listed = {line.split()[0] for line in out.splitlines()
              if line.startswith('-')}
    check_eq(sorted(set(OPTIONS) - listed), [], 'options missing from -h')


def test_help_lines_have_descriptions():
    lines = expect_output(['-help']).splitlines()
    for i, line in enumerate(lines):
        if not line.startswith('-'):
            continue
        # "USAGE   text" on one line, or a long USAGE and the text indented
        # on the next.
        same_line = re.search(r'\S {2,}\S', line)
        next_line = i + 1 < len(lines) and re.match(r' {8,}\S', lines[i + 1])
        check(same_line or next_line, 'no description for %r' % line)


def test_device_help_lists_testdev():
    out = expect_output(['-device', 'help'])
    check('name "x-remote-testdev", bus PCI' in out, 'stdout: %r' % out)


def test_device_question_mark_lists_types():
    check_eq(expect_output(['-device', '?']),
             expect_output(['-device', 'help']), '-device ? output')


def test_device_type_help_lists_properties():
    out = expect_output(['-device', 'x-remote-testdev,help'])
    check(out.startswith('x-remote-testdev options:\n'), 'stdout: %r' % out)
    check('  msi=<bool>' in out, 'no msi property in %r' % out)


def test_device_help_in_equals_form():
    check_eq(expect_output(['--device=x-remote-testdev,help']),
             expect_output(['-device', 'x-remote-testdev,help']),
             '--device=...,help output')


def test_object_help_lists_types():
    out = expect_output(['-object', 'help'])
    check(out.startswith('List of user creatable objects:\n'),
          'stdout: %r' % out)
    for t in ('iothread', 'x-remote-object'):
        check('  %s ' % t in out, '%s missing from %r' % (t, out))


def test_object_type_help():
    out = expect_output(['-object', 'iothread,help'])
    check(out.startswith('iothread: '), 'stdout: %r' % out)


def test_log_help_lists_items():
    out = expect_output(['-d', 'help'])
    check(out.startswith('Log items'), 'stdout: %r' % out)
    for item in ('guest_errors', 'vmm_errors', 'mpqemu', 'qmp'):
        check('\n%s ' % item in out, '%s missing from %r' % (item, out))


def test_machine_help_lists_x_remote():
    out = expect_output(['-machine', 'help'])
    check('\nx-remote ' in out, 'stdout: %r' % out)


def test_help_starts_nothing():
    with ScratchDir() as d:
        expect_output(['-pidfile', d('qemu.pid'),
                       '-qmp', 'unix:%s,server=on,wait=off' % d('q.sock'),
                       '-object', 'iothread,id=io0',
                       '-device', 'x-remote-testdev,id=t0',
                       '-device', 'help'])
        check_eq(d.listing(), [], 'files created')


def test_help_still_checks_syntax():
    status, out, err = run(['-device', 'help', '-foo'])
    check_eq(status, 1, 'exit status')
    check_eq(out, '', 'stdout')
    check_eq(err, 'qemu-remote: -foo: invalid option\n', 'stderr')


main([v for k, v in list(globals().items()) if k.startswith('test_')])
