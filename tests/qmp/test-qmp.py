#!/usr/bin/python3
"""QMP stories against the real qemu-remote binary over a real UNIX socket.

Each story starts qemu-remote with "-qmp unix:PATH,server=on,wait=off" in a
fresh temporary directory, talks to it and stops it; nothing is left
behind.  The binary is $QEMU_REMOTE.  Prints TAP.
"""

import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

QEMU_REMOTE = os.environ.get('QEMU_REMOTE', 'qemu-remote')
# Bound on every wait; generous for a loaded 2-core machine.
TIMEOUT = 20.0
# The monitor's request bound (include/monitor/monitor.h).
MAX_REQUEST = 256 * 1024


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Client:
    """One QMP connection with line-based, deadline-bounded reads."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b''

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=TIMEOUT):
        """The next line as text, or None at end of stream."""
        deadline = time.monotonic() + timeout
        while b'\r\n' not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, 'no reply within %gs (have %r)'
                  % (timeout, self.buf[:200]))
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b''
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line.decode()

    def msg(self):
        line = self.line()
        check(line is not None, 'connection closed instead of a reply')
        return json.loads(line)

    def reply(self):
        """The next message that is not an event."""
        while True:
            m = self.msg()
            if 'event' not in m:
                return m

    def cmd(self, name, args=None, **extra):
        req = dict(execute=name, **extra)
        if args is not None:
            req['arguments'] = args
        self.send(json.dumps(req) + '\n')
        return self.reply()

    def negotiate(self):
        greeting = self.msg()
        check('QMP' in greeting, 'no greeting: %r' % greeting)
        check(self.cmd('qmp_capabilities') == {'return': {}},
              'negotiation failed')

    def assert_error(self, reply, desc, cls='GenericError'):
        check(reply.get('error') == {'class': cls, 'desc': desc},
              'wanted %s %r, got %r' % (cls, desc, reply))


class Server:
    """qemu-remote in a temporary directory, stopped in stop()."""

    def __init__(self, extra_args=(), pass_fds=(), sockets=()):
        self.dir = tempfile.mkdtemp(prefix='qr-qmp-')
        self.path = os.path.join(self.dir, 'qmp.sock')
        self.log = open(os.path.join(self.dir, 'stderr'), 'w+')
        # QEMU_REMOTE_ARGS: options for every process of the run (meson
        # sets "-sandbox on" for the confined run).
        args = [QEMU_REMOTE, '-machine', 'x-remote,auto-shutdown=off',
                '-qmp', 'unix:%s,server=on,wait=off' % self.path]
        args += shlex.split(os.environ.get('QEMU_REMOTE_ARGS', ''))
        self.proc = subprocess.Popen(args + list(extra_args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     pass_fds=pass_fds)
        self.clients = []
        deadline = time.monotonic() + TIMEOUT
        # Each endpoint's socket file appears when that endpoint listens.
        while not all(os.path.exists(p) for p in (self.path,) + sockets):
            if self.proc.poll() is not None:
                raise Fail('qemu-remote exited with %d: %s'
                           % (self.proc.returncode, self.stderr()))
            check(time.monotonic() < deadline, 'QMP socket never appeared')
            time.sleep(0.01)  # poll interval for the socket file

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def connect(self):
        c = Client(self.path)
        self.clients.append(c)
        return c

    def wait(self):
        """The exit status, waiting at most TIMEOUT."""
        try:
            return self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Fail('qemu-remote did not exit') from None

    def stop(self):
        """Stops qemu-remote and cleans up; returns what it wrote to
        stderr."""
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.stderr()
        self.log.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)
        return text


def story(fn):
    STORIES.append(fn)
    return fn


STORIES = []


@story
def test_greeting_has_qemus_shape(srv):
    greeting = srv.connect().msg()
    qmp = greeting['QMP']
    check(set(qmp) == {'version', 'capabilities'}, repr(greeting))
    check(qmp['capabilities'] == [], repr(greeting))
    check(set(qmp['version']) == {'qemu', 'package'}, repr(greeting))
    check(set(qmp['version']['qemu']) == {'major', 'minor', 'micro'},
          repr(greeting))
    check(qmp['version']['package'].startswith('qemu-remote '),
          repr(greeting))


@story
def test_command_before_negotiation_is_command_not_found(srv):
    c = srv.connect()
    c.msg()
    c.assert_error(c.cmd('query-status', id=7),
                   "Expecting capabilities negotiation with "
                   "'qmp_capabilities'", 'CommandNotFound')
    check(c.cmd('qmp_capabilities', id=8) == {'return': {}, 'id': 8},
          'negotiation failed')
    c.assert_error(c.cmd('qmp_capabilities'),
                   'Capabilities negotiation is already complete, command '
                   'ignored', 'CommandNotFound')


@story
def test_negotiation_arguments_are_checked(srv):
    c = srv.connect()
    c.msg()
    c.assert_error(c.cmd('qmp_capabilities', {'enable': 'oob'}),
                   "Invalid parameter type for 'enable', expected: array")
    c.assert_error(c.cmd('qmp_capabilities', {'enable': ['nope']}),
                   "Parameter 'enable[0]' does not accept value 'nope'")
    c.assert_error(c.cmd('qmp_capabilities', {'enable': ['oob']}),
                   "Capability 'oob' not available")
    check(c.cmd('qmp_capabilities') == {'return': {}}, 'negotiation failed')


@story
def test_queries_answer_in_qemus_shapes(srv):
    c = srv.connect()
    c.negotiate()
    check(c.cmd('query-status') == {'return': {
        'running': True, 'singlestep': False, 'status': 'running'}},
        'query-status')
    version = c.cmd('query-version')['return']
    check(version['package'].startswith('qemu-remote '), repr(version))
    check(c.cmd('query-name') == {'return': {'name': 'qr-test'}},
          'query-name')


test_queries_answer_in_qemus_shapes.args = ['-name', 'qr-test']


@story
def test_id_of_any_json_type_is_echoed(srv):
    c = srv.connect()
    c.negotiate()
    for ident in (1, 'x', None, [1, {'a': []}], {'deep': {'er': True}}):
        check(c.cmd('query-name', id=ident) == {'return': {}, 'id': ident},
              'id %r' % (ident,))
    c.assert_error(c.cmd('nope', id=[2]), 'The command nope has not been '
                   'found', 'CommandNotFound')


@story
def test_unknown_command_is_command_not_found(srv):
    c = srv.connect()
    c.negotiate()
    c.assert_error(c.cmd('no-such-command'),
                   'The command no-such-command has not been found',
                   'CommandNotFound')


@story
def test_wrong_argument_types_are_named(srv):
    c = srv.connect()
    c.negotiate()
    r = c.cmd('query-status', {'x': 1})
    c.assert_error(r, "Parameter 'x' is unexpected")
    c.send('{"execute": "query-status", "arguments": [1]}\n')
    c.assert_error(c.reply(), "QMP input member 'arguments' must be an "
                   "object")
    c.send('{"execute": 42}\n')
    c.assert_error(c.reply(), "QMP input member 'execute' must be a string")


@story
def test_missing_argument_is_named(srv):
    c = srv.connect()
    c.negotiate()
    schema = {e['name']: e for e in c.cmd('query-qmp-schema')['return']}
    for ent in schema.values():
        if ent['meta-type'] != 'command':
            continue
        arg = schema[ent['arg-type']]
        required = [m['name'] for m in arg.get('members', [])
                    if 'default' not in m]
        if required:
            # Checked before the handler runs: nothing is executed.
            c.assert_error(c.cmd(ent['name'], {}),
                           "Parameter '%s' is missing" % required[0])
            return
    raise Skip('no command has a required argument yet')


@story
def test_unexpected_request_members_are_refused(srv):
    c = srv.connect()
    c.negotiate()
    c.send('{"execute": "query-name", "id": 3, "extra": true}\n')
    check(c.reply() == {'error': {'class': 'GenericError', 'desc':
                                  "QMP input member 'extra' is unexpected"},
                        'id': 3}, 'extra member')
    c.send('{"id": 4}\n')
    check(c.reply() == {'error': {'class': 'GenericError', 'desc':
                                  "QMP input lacks member 'execute'"},
                        'id': 4}, 'no execute')


@story
def test_malformed_json_is_answered_and_the_session_goes_on(srv):
    c = srv.connect()
    c.negotiate()
    c.send('{"execute": }\n')
    r = c.reply()
    check(r['error']['desc'].startswith('JSON parse error, '), repr(r))
    c.send('}\n')
    c.assert_error(c.reply(), 'JSON parse error, expecting value')
    c.send('[1, 2]\n"text"\n')
    c.assert_error(c.reply(), 'QMP input must be a JSON object')
    c.assert_error(c.reply(), 'QMP input must be a JSON object')
    # Two requests on one line, no newline after the second.
    c.send('{"execute": "query-name", "id": 1}{"execute": "query-name", '
           '"id": 2}')
    check(c.reply()['id'] == 1 and c.reply()['id'] == 2, 'two on a line')


@story
def test_megabyte_line_is_refused_and_the_session_goes_on(srv):
    c = srv.connect()
    c.negotiate()
    c.send('{"execute": "query-name", "id": "%s"}\n' % ('x' * (1 << 20)))
    c.assert_error(c.reply(), 'JSON parse error, request longer than %d '
                   'bytes' % MAX_REQUEST)
    check(c.cmd('query-name', id='after') == {'return': {}, 'id': 'after'},
          'no answer after the long line')
    # Exactly at the bound is still a request.
    pad = 'y' * (MAX_REQUEST - len('{"execute": "query-name", "id": ""}'))
    c.send('{"execute": "query-name", "id": "%s"}' % pad)
    check(c.reply().get('id') == pad, 'request at the bound refused')


@story
def test_nesting_bomb_is_refused_and_the_session_goes_on(srv):
    c = srv.connect()
    c.negotiate()
    depth = 100000
    c.send('[' * depth + ']' * depth + '\n')
    c.assert_error(c.reply(), 'JSON nesting depth limit exceeded')
    check(c.cmd('query-name', id=1) == {'return': {}, 'id': 1},
          'no answer after the bomb')


@story
def test_client_gone_mid_command_leaves_the_server_serving(srv):
    gone = srv.connect()
    gone.negotiate()
    gone.send('{"execute": "query-sta')
    gone.close()
    # A request whose reply nobody reads.
    rude = srv.connect()
    rude.send('{"execute": "qmp_capabilities"}{"execute": '
              '"query-qmp-schema"}')
    rude.sock.shutdown(socket.SHUT_RDWR)
    rude.close()
    c = srv.connect()
    c.negotiate()
    check(c.cmd('query-name') == {'return': {}}, 'server stopped serving')
    check(srv.proc.poll() is None, 'qemu-remote exited')


@story
def test_half_closed_client_still_gets_its_replies(srv):
    c = srv.connect()
    c.send('{"execute": "qmp_capabilities"}\n{"execute": "query-name"}\n')
    c.sock.shutdown(socket.SHUT_WR)
    check('QMP' in c.msg(), 'no greeting')
    check(c.msg() == {'return': {}}, 'no negotiation reply')
    check(c.msg() == {'return': {}}, 'no query reply')
    check(c.line() is None, 'connection not closed after the replies')


@story
def test_two_clients_both_get_the_shutdown_event_on_quit(srv):
    a = srv.connect()
    b = srv.connect()
    a.negotiate()
    b.negotiate()
    quiet = srv.connect()   # never negotiates: gets no event
    check('QMP' in quiet.msg(), 'no greeting')
    a.send('{"execute": "quit"}\n')
    check(a.msg() == {'return': {}}, 'quit reply')
    for c in (a, b):
        ev = c.msg()
        check(ev['event'] == 'SHUTDOWN', repr(ev))
        check(ev['data'] == {'guest': False, 'reason': 'host-qmp-quit'},
              repr(ev))
        check(set(ev['timestamp']) == {'seconds', 'microseconds'}, repr(ev))
        check(c.line() is None, 'connection not closed after SHUTDOWN')
    check(quiet.line() is None, 'un-negotiated client got a message')
    check(srv.wait() == 0, 'exit status %r' % srv.proc.returncode)
    check(not os.path.exists(srv.path), 'QMP socket file left behind')


@story
def test_sigterm_sends_shutdown_host_signal(srv):
    c = srv.connect()
    c.negotiate()
    srv.proc.send_signal(signal.SIGTERM)
    ev = c.msg()
    check(ev.get('event') == 'SHUTDOWN' and
          ev['data'] == {'guest': False, 'reason': 'host-signal'}, repr(ev))
    check(srv.wait() == 0, 'exit status %r' % srv.proc.returncode)
    check(not os.path.exists(srv.path), 'QMP socket file left behind')


@story
def test_query_qmp_schema_describes_every_command(srv):
    c = srv.connect()
    c.negotiate()
    commands = [x['name'] for x in c.cmd('query-commands')['return']]
    schema = {e['name']: e for e in c.cmd('query-qmp-schema')['return']}
    for name in ('qmp_capabilities', 'query-version', 'query-commands',
                 'quit', 'query-qmp-schema', 'query-status', 'query-name',
                 'x-query-remote-devices', 'device-list-properties'):
        check(name in commands, '%s not in query-commands' % name)
    for name in commands:
        ent = schema.get(name)
        check(ent and ent['meta-type'] == 'command', 'no schema for ' + name)
        check(ent['arg-type'] in schema and ent['ret-type'] in schema,
              'dangling type reference in ' + name)
    check(schema['SHUTDOWN']['meta-type'] == 'event', 'no SHUTDOWN event')
    shutdown_data = schema[schema['SHUTDOWN']['arg-type']]
    check([m['name'] for m in shutdown_data['members']] ==
          ['guest', 'reason'], repr(shutdown_data))


@story
def test_x_query_remote_devices_lists_the_devices(srv):
    c = srv.connect()
    c.negotiate()
    devs = c.cmd('x-query-remote-devices')['return']
    check(len(devs) == 1, repr(devs))
    dev = devs[0]
    check(dev['id'] == 'dev0' and dev['type'] == 'x-remote-testdev' and
          dev['realized'] is True, repr(dev))
    check(dev.get('transport') == 'mpqemu' and
          isinstance(dev['state'], str) and dev['state'] != 'unbound',
          repr(dev))


test_x_query_remote_devices_lists_the_devices.args = [
    '-device', 'x-remote-testdev,id=dev0',
    '-object', 'x-remote-object,id=robj0,devid=dev0,fd=%(vmm_fd)d']
test_x_query_remote_devices_lists_the_devices.needs_vmm_fd = True


@story
def test_device_list_properties_of_a_device_type(srv):
    c = srv.connect()
    c.negotiate()
    props = c.cmd('device-list-properties',
                  {'typename': 'x-remote-testdev'})['return']
    msi = [p for p in props if p['name'] == 'msi']
    check(len(msi) == 1 and msi[0]['type'] == 'bool' and
          msi[0]['default-value'] == 'on' and msi[0]['description'],
          repr(props))
    c.assert_error(c.cmd('device-list-properties', {'typename': 'nope'}),
                   "Device 'nope' not found", 'DeviceNotFound')


@story
def test_mon_chardev_form_serves_qmp(srv):
    c = Client(srv.mon_path)
    srv.clients.append(c)
    c.negotiate()
    check(c.cmd('query-status')['return']['status'] == 'running',
          'query-status on the -mon socket')


test_mon_chardev_form_serves_qmp.args = [
    '-chardev', 'socket,id=mon0,path=%(dir)s/mon.sock,server=on,wait=off',
    '-mon', 'chardev=mon0,mode=control']
test_mon_chardev_form_serves_qmp.sockets = ['mon.sock']


def export_args(srv, mapping, **extra):
    """block-export-add arguments: node d0 with 4 queues and MAPPING as
    its iothread-vq-mapping."""
    args = {'type': 'vhost-user-blk', 'id': 'e0', 'node-name': 'd0',
            'writable': True, 'num-queues': 4,
            'addr': {'type': 'unix',
                     'path': os.path.join(srv.dir, 'e0.sock')},
            'iothread-vq-mapping': mapping}
    args.update(extra)
    return args


@story
def test_block_export_add_with_bad_iothread_vq_mapping_is_refused(srv):
    c = srv.connect()
    c.negotiate()
    for mapping, extra, desc in [
            ([{'iothread': 'io0'}, {'iothread': 'io9'}], {},
             'iothread-vq-mapping: iothread "io9" not found'),
            ([{'iothread': 'io0'}], {'iothread': 'io1'},
             'iothread and iothread-vq-mapping cannot be used together'),
            ([{'iothread': 'io0', 'vqs': [0, 1]},
              {'iothread': 'io1', 'vqs': [2, 4]}], {},
             'iothread-vq-mapping: queue 4 is out of range '
             '(num-queues is 4)'),
            ([{'iothread': 'io0', 'vqs': [0, 1, 2]},
              {'iothread': 'io1', 'vqs': [2, 3]}], {},
             'iothread-vq-mapping: queue 2 is listed twice'),
            ([{'iothread': 'io0', 'vqs': [0, 1]},
              {'iothread': 'io1', 'vqs': [3]}], {},
             'iothread-vq-mapping: queue 2 is not assigned to an iothread'),
            ([{'iothread': 'io0', 'vqs': [0, 1, 2, 3]},
              {'iothread': 'io1'}], {},
             'iothread-vq-mapping: give vqs for every iothread or for none'),
            ([{'iothread': 'io0'}, {'iothread': 'io0'}], {},
             'iothread-vq-mapping: iothread "io0" is listed twice')]:
        c.assert_error(c.cmd('block-export-add',
                             export_args(srv, mapping, **extra)), desc)
    # Nothing half-made: no export, no socket.
    check(c.cmd('query-block-exports')['return'] == [],
          'an export was left behind')
    check(not os.path.exists(os.path.join(srv.dir, 'e0.sock')),
          'a socket was left behind')


@story
def test_block_export_add_with_iothread_vq_mapping_serves(srv):
    c = srv.connect()
    c.negotiate()
    mapping = [{'iothread': 'io1', 'vqs': [0, 3]},
               {'iothread': 'io0', 'vqs': [2, 1]}]

    check(c.cmd('block-export-add', export_args(srv, mapping)) ==
          {'return': {}}, 'block-export-add')
    check(c.cmd('query-block-exports')['return'] ==
          [{'id': 'e0', 'type': 'vhost-user-blk', 'node-name': 'd0',
            'shutting-down': False}], 'query-block-exports')
    check(c.cmd('block-export-del', {'id': 'e0'}) == {'return': {}},
          'block-export-del')


for fn in (test_block_export_add_with_bad_iothread_vq_mapping_is_refused,
           test_block_export_add_with_iothread_vq_mapping_serves):
    fn.args = ['-object', 'iothread,id=io0', '-object', 'iothread,id=io1',
               '-blockdev', 'driver=file,node-name=d0,'
               'filename=%(dir)s/disk.img']
    fn.image = True


class Skip(Exception):
    pass


def run(fn):
    args = getattr(fn, 'args', [])
    fds = []
    keep = None
    subst = {}
    if getattr(fn, 'needs_vmm_fd', False):
        # The device's mpqemu link: we hold the VMM end and stay silent.
        keep, theirs = socket.socketpair()
        fds.append(theirs.fileno())
        subst['vmm_fd'] = theirs.fileno()
    pre = tempfile.mkdtemp(prefix='qr-qmp-mon-')
    subst['dir'] = pre
    if getattr(fn, 'image', False):
        # A 1 MiB disk image for -blockdev, in the directory removed below.
        with open(os.path.join(pre, 'disk.img'), 'wb') as f:
            f.truncate(1 << 20)
    srv = None
    stderr = ''
    try:
        sockets = tuple(os.path.join(pre, name)
                        for name in getattr(fn, 'sockets', []))
        srv = Server([a % subst for a in args], pass_fds=fds, sockets=sockets)
        srv.mon_path = os.path.join(pre, 'mon.sock')
        if fds:
            theirs.close()
        fn(srv)
    finally:
        if srv:
            stderr = srv.stop()
        if keep:
            keep.close()
        for name in os.listdir(pre):
            os.unlink(os.path.join(pre, name))
        os.rmdir(pre)
    # A sanitizer build reports memory errors and leaks on stderr.
    for marker in ('Sanitizer', 'runtime error:'):
        check(marker not in stderr, 'qemu-remote reported: %s' % stderr)


def main():
    if not os.access(QEMU_REMOTE, os.X_OK):
        print('1..0 # SKIP qemu-remote binary not found (QEMU_REMOTE=%s)'
              % QEMU_REMOTE)
        return 0
    print('1..%d' % len(STORIES))
    failed = 0
    for n, fn in enumerate(STORIES, 1):
        try:
            run(fn)
            print('ok %d - %s' % (n, fn.__name__))
        except Skip as e:
            print('ok %d - %s # SKIP %s' % (n, fn.__name__, e))
        except Exception as e:  # noqa: B902 - any failure fails the story
            failed += 1
            print('not ok %d - %s' % (n, fn.__name__))
            for line in ('%s: %s' % (type(e).__name__, e)).splitlines():
                print('# ' + line)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
