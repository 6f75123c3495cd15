#!/usr/bin/python3
"""`make run`: a guest uses a disk served by qemu-remote, in about a minute.

    scripts/demo.py BUILD_DIR [--setup KIND] [--verbose] [--qmp]

Creates the demo disk (state/disk.img in the source tree, or
$QR_STATE_DIR/disk.img), builds the test guest (cached, see
tests/functional/guest/mkguest.py), starts qemu-remote serving the disk as
virtio-blk-pci through x-pci-proxy-dev to Debian's QEMU, and shows the guest
finding the disk (lspci, capacity) and reading and writing it (a message
kept across runs, short fio runs).  --setup x-remote / in-process runs the
same guest against QEMU's own remote or QEMU's in-process device instead.

While qemu-remote cannot serve virtio-blk-pci, the default shows a QMP
conversation with qemu-remote instead (clearly labelled); --qmp shows it
on request.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'functional', 'lib'))
import devices  # noqa: E402
import guest  # noqa: E402
import machine  # noqa: E402
import qmp  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 64 * MiB
# Where the guest leaves a message for the next run (and the host reads it).
MESSAGE_OFFSET = 1 * MiB
BOOT_TIMEOUT = 180
# How long qemu-remote gets to create its QMP socket.
QMP_TIMEOUT = 10

LABELS = {
    'qemu-remote': 'qemu-remote (our device process) behind x-pci-proxy-dev',
    'x-remote': "QEMU's own remote (-machine x-remote) behind x-pci-proxy-dev",
    'in-process': "QEMU's in-process virtio-blk-pci",
}

GUEST_SCRIPT = r'''
echo "PCI: $(lspci -nn -d 1af4: | head -n1)"
sectors=$(cat /sys/block/vda/size)
echo "disk: /dev/vda, $sectors sectors = $((sectors / 2048)) MiB, polled queue: $(cat /sys/block/vda/queue/io_poll)"
old=$(dd if=/dev/vda bs=512 skip={msg_sector} count=1 2>/dev/null | tr -d '\000' | head -n1)
echo "read:  message left by the previous run: ${{old:-(none, first run)}}"
msg="hello from guest boot $(cat /proc/sys/kernel/random/uuid | cut -c1-8)"
echo "$msg" | dd of=/dev/vda bs=512 seek={msg_sector} conv=sync,fsync 2>/dev/null
echo "write: '$msg' -> sector {msg_sector}"
echo "read back: $(dd if=/dev/vda bs=512 skip={msg_sector} count=1 iflag=direct 2>/dev/null | tr -d '\000' | head -n1)"
fio_run() {{
    fio --name=demo --filename=/dev/vda --ioengine=io_uring --hipri --direct=1 \
        --bs=4k --iodepth=1 --offset=16M --size=32M --time_based --runtime=4 \
        --output-format=terse --terse-version=3 "$@" 2>&1
}}
r=$(fio_run --rw=randread | awk -F';' '/^3;/ {{print $8}}')
echo "fio: 4k random read,  QD1, io_uring polled, 4 s: ${{r:-failed}} IOPS"
w=$(fio_run --rw=randwrite | awk -F';' '/^3;/ {{print $49}}')
echo "fio: 4k random write, QD1, io_uring polled, 4 s: ${{w:-failed}} IOPS"
'''.format(msg_sector=MESSAGE_OFFSET // 512)


def say(text=''):
    print(text, flush=True)


def ensure_disk(state):
    path = os.path.join(state, 'disk.img')
    if os.path.exists(path):
        say('disk:  %s (kept from an earlier run)' % path)
    else:
        os.makedirs(state, exist_ok=True)
        with open(path, 'wb') as f:
            f.truncate(DISK_SIZE)
        say('disk:  %s (new, %d MiB raw)' % (path, DISK_SIZE // MiB))
    return path


def host_message(path):
    with open(path, 'rb') as f:
        f.seek(MESSAGE_OFFSET)
        data = f.read(512)
    return data.split(b'\n')[0].rstrip(b'\0').decode(errors='replace')


def guest_demo(kind, state, verbose):
    say('== qemu-remote demo: a Linux guest uses a disk served by %s'
        % LABELS[kind])
    disk_path = ensure_disk(state)
    say('guest: building or reusing the test guest (Debian kernel + busybox '
        'initramfs) ...')
    image = guest.build()
    say('guest: %s' % image.dir)
    disk = devices.blk(kind, disk_path, polled=True)
    say('boot:  TCG, polled mode (no interrupt reaches a TCG guest through '
        'the proxy; the guest polls)')

    inside = [False]

    def show(line):
        if verbose:
            say('  console | ' + line)
            return
        if line.startswith(machine.BEGIN_MARKER):
            inside[0] = True
        elif machine.END_RE.search(line):
            inside[0] = False
        elif inside[0]:
            say('  guest | ' + line)

    start = time.monotonic()
    res = machine.Machine(image, script=GUEST_SCRIPT, devices=[disk],
                          polled=True, timeout=BOOT_TIMEOUT,
                          console=show).run()
    names = {'qemu': 'VMM (qemu-system-x86_64)',
             'remote': 'device process (%s)' % kind}
    for p in res.processes.values():
        say('exit:  %s: %s%s' % (names.get(p.name, p.name), p.rc,
                                 ' (stopped by the demo)' if p.killed else ''))
    say('host:  message at %d MiB of %s: %s'
        % (MESSAGE_OFFSET // MiB, disk_path, host_message(disk_path)))
    say('done in %.0f s (guest status %s)' % (time.monotonic() - start,
                                              res.status))
    try:
        res.check()
    except AssertionError as e:
        say(str(e))
        return 1
    return 0


def qmp_demo(binary, reason):
    """A QMP conversation with qemu-remote; REASON (if not None) says why
    it stands in for the guest demo."""
    if reason:
        say('== qemu-remote demo (QMP FALLBACK)')
        say('qemu-remote cannot serve a disk to a guest yet: %s.' % reason)
        say('Instead, this shows a QMP conversation with qemu-remote.  Run '
            "'scripts/demo.sh BUILD --setup x-remote' for the guest demo "
            "against QEMU's own remote.")
    else:
        say('== qemu-remote demo: a QMP conversation')
    if not os.access(binary, os.X_OK):
        say('%s is missing: build it first (make).' % binary)
        return 1
    workdir = tempfile.mkdtemp(prefix='qr-demo-')
    sock = os.path.join(workdir, 'qmp.sock')
    argv = [binary, '-sandbox', 'on', '-qmp',
            'unix:%s,server=on,wait=off' % sock]
    say('start: ' + ' '.join(argv))
    proc = None
    status = 1
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + QMP_TIMEOUT
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                say('qemu-remote did not open its QMP socket (exit status %s):'
                    % proc.returncode)
                say('  ' + (err.strip() or '(no output)'))
                return 1
            time.sleep(0.05)
        c = qmp.Client(sock)
        say('  <- %s' % json.dumps(c.greeting))
        for cmd in ('qmp_capabilities', 'query-version', 'query-status',
                    'query-commands'):
            say('  -> {"execute": "%s"}' % cmd)
            reply = c.execute({'execute': cmd})
            if cmd == 'query-commands' and 'return' in reply:
                names = sorted(x.get('name', '?') for x in reply['return'])
                say('  <- {"return": [%d commands: %s]}'
                    % (len(names), ', '.join(names)))
            else:
                say('  <- %s' % json.dumps(reply))
        say('  -> {"execute": "quit"}')
        say('  <- %s' % json.dumps(c.execute({'execute': 'quit'})))
        for event in c.drain():
            say('  <- %s' % json.dumps(event))
        c.close()
        status = proc.wait(QMP_TIMEOUT)
        say('exit:  qemu-remote: %s' % status)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        say('QMP conversation failed: %s' % e)
        status = 1
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if status == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('build', help='build directory holding remote/qemu-remote')
    ap.add_argument('--setup', choices=sorted(LABELS),
                    help='who serves the disk (default: qemu-remote)')
    ap.add_argument('--verbose', action='store_true',
                    help='show the whole guest console')
    ap.add_argument('--qmp', action='store_true',
                    help='show a QMP conversation with qemu-remote instead')
    args = ap.parse_args()

    binary = os.path.abspath(os.path.join(args.build, 'remote', 'qemu-remote'))
    os.environ['QEMU_REMOTE'] = binary
    state = os.environ.get('QR_STATE_DIR') or os.path.join(TOP, 'state')
    try:
        if args.qmp:
            return qmp_demo(binary, None)
        if args.setup:
            return guest_demo(args.setup, state, args.verbose)
        reason = devices.qemu_remote_lacks('virtio-blk-pci')
        if reason:
            return qmp_demo(binary, reason)
        return guest_demo('qemu-remote', state, args.verbose)
    except guest.Unavailable as e:
        say('demo: cannot build the guest: %s' % e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
