#!/usr/bin/python3
"""scripts/qemu-remote-launch: starts qemu-remote and a VMM joined by mpqemu
sockets.  Prints TAP.

The VMM is first a fake one (this script, acting as x-pci-proxy-dev on the
fd it is given), then Debian's QEMU running the command line from
docs/testdev.md verbatim.
"""

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
LAUNCHER = os.path.join(SRC, "scripts", "qemu-remote-launch")
QEMU = shutil.which("qemu-system-x86_64")
# Bound on every process the tests start.
TIMEOUT_S = 60

# A VMM that reads the vendor id through the socket named fd=N and prints it.
FAKE_VMM = r'''
import socket, struct, sys
fd = int(sys.argv[1].split("=")[1])
s = socket.socket(fileno=fd)
s.sendall(struct.pack("=iIQIIi", 3, 0, 12, 0, 0, 2))   # PCI_CFGREAD 0x0 len 2
hdr = b""
while len(hdr) < 24:
    chunk = s.recv(24 - len(hdr))
    if not chunk:
        sys.exit("remote closed")
    hdr += chunk
cmd, _, size, val = struct.unpack("=iIQQ", hdr)
print("vendor=0x%04x cmd=%d size=%d" % (val, cmd, size))
'''

results = []


def report(name, ok, detail=""):
    results.append((name, ok, detail))


def skip(name, why):
    results.append((name, None, why))


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=TIMEOUT_S, **kw)


def test_fake_vmm_reads_vendor_through_launched_pair(tmp):
    script = os.path.join(tmp, "fake_vmm.py")
    with open(script, "w") as f:
        f.write(FAKE_VMM)
    r = run([LAUNCHER, "--remote", "-device x-remote-testdev,id=t0",
             "--vmm", "%s %s fd=@t0" % (sys.executable, script)])
    report("fake_vmm_reads_vendor_through_launched_pair",
           r.returncode == 0 and "vendor=0x1b36 cmd=1 size=8" in r.stdout,
           r.stdout + r.stderr)


def test_print_shows_both_command_lines():
    r = run([LAUNCHER, "--print", "--qemu-remote", "/x/qemu-remote",
             "--remote", "-device x-remote-testdev,id=a -d mpqemu",
             "--vmm", "vmm -device x-pci-proxy-dev,id=a,fd=@a"])
    remote = re.search(r"^remote: /x/qemu-remote -machine x-remote -device "
                       r"x-remote-testdev,id=a -d mpqemu -object "
                       r"x-remote-object,id=mpqemu-a,devid=a,fd=(\d+)$",
                       r.stdout, re.M)
    vmm = re.search(r"^vmm: +vmm -device x-pci-proxy-dev,id=a,fd=(\d+)$",
                    r.stdout, re.M)
    report("print_shows_both_command_lines",
           r.returncode == 0 and remote is not None and vmm is not None and
           remote.group(1) != vmm.group(1), r.stdout + r.stderr)


def test_vmm_without_fd_reference_is_an_error():
    r = run([LAUNCHER, "--remote", "-device x-remote-testdev,id=a",
             "--vmm", "true"])
    report("vmm_without_fd_reference_is_an_error",
           r.returncode != 0 and "fd=@ID" in r.stderr, r.stderr)


def test_failing_remote_stops_the_vmm():
    # The remote rejects its command line; the VMM (sleep) must not be left
    # running, and the remote's status is passed on.
    r = run([LAUNCHER, "--remote", "-device no-such-device,id=a",
             "--vmm", "sh -c 'exec sleep 600' fd=@a"])
    report("failing_remote_stops_the_vmm",
           r.returncode == 1 and "stopping the VMM" in r.stderr, r.stderr)


def docs_command_line():
    """The first code block of docs/testdev.md, as an argv."""
    with open(os.path.join(SRC, "docs", "testdev.md")) as f:
        text = f.read()
    block = re.search(r"```\n(qemu-remote-launch.*?)```", text, re.S).group(1)
    argv = shlex.split(block.replace("\\\n", " "))
    return [LAUNCHER] + argv[1:]


def test_docs_command_line_with_real_qemu():
    name = "docs_command_line_with_real_qemu"
    if not QEMU:
        skip(name, "qemu-system-x86_64 not installed")
        return
    r = run(docs_command_line(), input="info pci\nquit\n")
    report(name, r.returncode == 0 and
           "BAR0: 32 bit memory at" in r.stdout and
           "[0x00000ffe]" in r.stdout and "[0x000e]" in r.stdout,
           r.stdout + r.stderr)


def main():
    if not os.environ.get("QEMU_REMOTE"):
        print("1..0 # SKIP QEMU_REMOTE is not set (run through meson test)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        test_fake_vmm_reads_vendor_through_launched_pair(tmp)
    test_print_shows_both_command_lines()
    test_vmm_without_fd_reference_is_an_error()
    test_failing_remote_stops_the_vmm()
    test_docs_command_line_with_real_qemu()

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        if ok is None:
            print("ok %d %s # SKIP %s" % (i, name, detail))
        elif ok:
            print("ok %d %s" % (i, name))
        else:
            failed += 1
            print("not ok %d %s" % (i, name))
            for line in detail.splitlines():
                print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
