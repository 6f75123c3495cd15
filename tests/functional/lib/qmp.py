"""A small synchronous QMP client (stdlib only).

    c = qmp.Client(path, timeout=10)     # connects, reads the greeting
    c.greeting                           # {'QMP': {...}}
    c.command('qmp_capabilities')        # returns the 'return' value
    c.execute({'execute': 'query-status'})   # the raw reply (events skipped)
    c.events                             # events received meanwhile
    c.drain()                            # read to EOF (after quit)
    c.close()

Raises qmp.Error for an error reply, OSError/TimeoutError on I/O failure.
"""

import json
import socket


class Error(Exception):
    """The server answered with {"error": ...}."""

    def __init__(self, reply):
        err = reply.get('error', {})
        super().__init__('%s: %s' % (err.get('class'), err.get('desc')))
        self.reply = reply


class Client:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile('rb')
        self.events = []
        self.greeting = self._read()

    def _read(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError('QMP server closed the connection')
        return json.loads(line)

    def execute(self, message):
        """Send MESSAGE (a dict) and return the next non-event reply."""
        self.sock.sendall(json.dumps(message).encode() + b'\n')
        while True:
            reply = self._read()
            if 'event' in reply:
                self.events.append(reply)
                continue
            return reply

    def command(self, name, **arguments):
        """Run NAME with ARGUMENTS; its 'return' value, or raise Error."""
        msg = {'execute': name}
        if arguments:
            msg['arguments'] = arguments
        reply = self.execute(msg)
        if 'error' in reply:
            raise Error(reply)
        return reply.get('return')

    def drain(self):
        """Read until the server closes the connection (e.g. after quit),
        collecting events; returns them.  Bounded by the socket timeout."""
        while True:
            try:
                msg = self._read()
            except (ConnectionError, OSError):
                return self.events
            if 'event' in msg:
                self.events.append(msg)

    def close(self):
        self.file.close()
        self.sock.close()
