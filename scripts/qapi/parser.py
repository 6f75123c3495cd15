"""Reading QAPI schema files: expressions and their doc comments.

The syntax is QEMU's: a file is a sequence of JSON-like objects written with
single-quoted strings, true and false; '#' starts a comment; a block of
comment lines opened and closed by a line that is exactly '##' is a
documentation comment and belongs to the definition that follows it (or, if
its first line is not "@name:", stands on its own, e.g. a "= Heading").
"""

import os
import re

from .error import QAPIError, SourceInfo


class Doc:
    """A parsed documentation comment."""

    def __init__(self, info):
        self.info = info
        self.symbol = None      # "@name:" on the first line, or None
        self.body = []          # lines of the free text before any section
        self.args = {}          # member/value name -> description lines
        self.arg_info = {}      # member/value name -> SourceInfo
        self.features = {}      # feature name -> description lines
        self.sections = []      # (tag, lines): Returns, Since, Example, ...

    def text(self, lines):
        """Joins description lines into one paragraph-preserving string."""
        return '\n'.join(lines).strip()


# Section tags we recognise in doc comments, as QEMU writes them.
SECTION_TAGS = ('Returns', 'Since', 'Example', 'Examples', 'Note', 'Notes',
                'Errors', 'Features')
SECTION_RE = re.compile(r'^(%s):\s*(.*)$' % '|'.join(SECTION_TAGS))
ARG_RE = re.compile(r'^@([A-Za-z0-9_.+-]+):(\s+(.*))?$')


class Parser:
    """Tokenizes and parses one schema file."""

    def __init__(self, fname, text=None):
        self.fname = fname
        if text is None:
            try:
                with open(fname, encoding='utf-8') as f:
                    text = f.read()
            except OSError as e:
                raise QAPIError(None, "can't read schema file '%s': %s"
                                % (fname, e.strerror)) from None
            except UnicodeDecodeError:
                raise QAPIError(None, "schema file '%s' is not valid UTF-8"
                                % fname) from None
        self.src = text
        self.pos = 0
        self.line = 1
        self.tok = None
        self.val = None
        self.tok_info = None
        self.pending_doc = None
        # (kind, payload, info, doc): kind is 'expr' or 'doc'
        self.items = []

    def info(self):
        return SourceInfo(self.fname, self.line)

    def error(self, msg):
        raise QAPIError(self.info(), msg)

    # --- tokens -----------------------------------------------------------

    def next_token(self):
        """Reads the next token into self.tok/self.val; collects doc blocks
        found on the way into self.items or self.pending_doc."""
        while True:
            if self.pos >= len(self.src):
                self.tok = None
                self.tok_info = self.info()
                return
            ch = self.src[self.pos]
            if ch == '\n':
                self.line += 1
                self.pos += 1
            elif ch in ' \t\r':
                self.pos += 1
            elif ch == '#':
                if self.at_line_start() and self.rest_of_line() == '##':
                    self.read_doc_block()
                else:
                    self.skip_line()
            else:
                break
        self.tok_info = self.info()
        ch = self.src[self.pos]
        if ch in '{}[]:,':
            self.tok = ch
            self.pos += 1
        elif ch == "'":
            self.tok = 'str'
            self.val = self.read_string()
        elif self.src.startswith('true', self.pos):
            self.tok, self.val = 'bool', True
            self.pos += 4
        elif self.src.startswith('false', self.pos):
            self.tok, self.val = 'bool', False
            self.pos += 5
        elif ch == '"':
            self.error("strings are written with single quotes ('...')")
        else:
            self.error("stray '%s'" % ch)

    def at_line_start(self):
        start = self.src.rfind('\n', 0, self.pos) + 1
        return self.src[start:self.pos].strip() == ''

    def rest_of_line(self):
        end = self.src.find('\n', self.pos)
        if end < 0:
            end = len(self.src)
        return self.src[self.pos:end].rstrip()

    def skip_line(self):
        end = self.src.find('\n', self.pos)
        self.pos = len(self.src) if end < 0 else end

    def read_string(self):
        self.pos += 1
        out = []
        while True:
            if self.pos >= len(self.src) or self.src[self.pos] == '\n':
                self.error('missing terminating quote')
            ch = self.src[self.pos]
            self.pos += 1
            if ch == "'":
                return ''.join(out)
            if ch == '\\':
                esc = self.src[self.pos:self.pos + 1]
                if esc not in ("'", '\\'):
                    self.error("unknown escape '\\%s' (only \\' and \\\\)"
                               % esc)
                out.append(esc)
                self.pos += 1
            elif not ' ' <= ch <= '~':
                self.error('non-printable or non-ASCII character in string')
            else:
                out.append(ch)

    # --- doc comments -----------------------------------------------------

    def read_doc_block(self):
        info = self.info()
        self.skip_line()
        lines = []
        while True:
            if self.pos >= len(self.src):
                raise QAPIError(info, "documentation comment not closed "
                                "with '##'")
            self.pos += 1       # the '\n'
            self.line += 1
            raw = self.rest_of_line()
            stripped = raw.strip()
            if stripped == '##':
                self.skip_line()
                break
            if not stripped.startswith('#'):
                self.error("documentation comment line must start with '#'")
            text = stripped[1:]
            if text and text[0] != ' ':
                self.error("missing space after '#' in documentation "
                           "comment")
            lines.append((self.line, text[1:]))
            self.skip_line()
        doc = self.parse_doc(info, lines)
        if doc.symbol is None:
            self.items.append(('doc', doc, info, None))
        else:
            if self.pending_doc is not None:
                raise QAPIError(self.pending_doc.info,
                                "documentation for '%s' is not followed by "
                                "its definition" % self.pending_doc.symbol)
            self.pending_doc = doc

    def parse_doc(self, info, lines):
        doc = Doc(info)
        if lines and lines[0][1].startswith('@'):
            first = lines[0][1]
            m = re.match(r'^@([A-Za-z0-9_.+-]+):\s*$', first)
            if not m:
                raise QAPIError(SourceInfo(self.fname, lines[0][0]),
                                "first line of a definition's documentation "
                                "must be '@NAME:' alone")
            doc.symbol = m.group(1)
            lines = lines[1:]
        cur = doc.body
        in_features = False
        verbatim = False
        # An "@member:" description ends at a blank line; free text after
        # it starts an untagged section rather than extending the member.
        arg_open = False
        arg_ended = False
        for lineno, text in lines:
            m = SECTION_RE.match(text)
            am = ARG_RE.match(text)
            if m:
                tag = m.group(1)
                verbatim = tag in ('Example', 'Examples')
                in_features = tag == 'Features'
                arg_open = arg_ended = False
                if in_features:
                    cur = []
                    continue
                cur = [m.group(2)] if m.group(2) else []
                doc.sections.append((tag, cur))
            elif am and not verbatim and doc.symbol is not None:
                name = am.group(1)
                table = doc.features if in_features else doc.args
                if name in table:
                    raise QAPIError(SourceInfo(self.fname, lineno),
                                    "'%s' is documented twice" % name)
                cur = [am.group(3)] if am.group(3) else []
                table[name] = cur
                doc.arg_info[name] = SourceInfo(self.fname, lineno)
                arg_open, arg_ended = True, False
            elif verbatim:
                cur.append(text)
            elif not text.strip():
                if arg_open:
                    arg_ended = True
                else:
                    cur.append('')
            else:
                if arg_ended:
                    cur = []
                    doc.sections.append(('', cur))
                    arg_open = arg_ended = in_features = False
                cur.append(text.strip())
        return doc

    # --- expressions ------------------------------------------------------

    def parse(self):
        """Returns [(kind, payload, info, doc)] for the whole file."""
        self.next_token()
        while self.tok is not None:
            if self.tok != '{':
                self.error('expected a top-level definition {...}')
            info = self.tok_info
            doc, self.pending_doc = self.pending_doc, None
            expr = self.parse_value()
            if doc is not None and ('include' in expr or 'pragma' in expr):
                raise QAPIError(doc.info, "'include' and 'pragma' can't be "
                                "documented")
            self.items.append(('expr', expr, info, doc))
        if self.pending_doc is not None:
            raise QAPIError(self.pending_doc.info,
                            "documentation for '%s' is not followed by its "
                            "definition" % self.pending_doc.symbol)
        return self.items

    def parse_value(self):
        tok = self.tok
        if tok == '{':
            return self.parse_object()
        if tok == '[':
            return self.parse_array()
        if tok in ('str', 'bool'):
            val = self.val
            self.next_token()
            return val
        self.error('expected a value')

    def parse_object(self):
        obj = {}
        self.next_token()
        if self.tok == '}':
            self.next_token()
            return obj
        while True:
            if self.tok != 'str':
                self.error('expected a string key')
            key = self.val
            if key in obj:
                self.error("duplicate key '%s'" % key)
            self.next_token()
            if self.tok != ':':
                self.error("expected ':' after key '%s'" % key)
            self.next_token()
            obj[key] = self.parse_value()
            if self.tok == '}':
                self.next_token()
                return obj
            if self.tok != ',':
                self.error("expected ',' or '}'")
            self.next_token()

    def parse_array(self):
        arr = []
        self.next_token()
        if self.tok == ']':
            self.next_token()
            return arr
        while True:
            arr.append(self.parse_value())
            if self.tok == ']':
                self.next_token()
                return arr
            if self.tok != ',':
                self.error("expected ',' or ']'")
            self.next_token()


def load(fname):
    """Reads @fname and everything it includes (each file once, paths
    relative to the including file).  Returns [(kind, payload, info, doc)]
    where kind is 'expr' or 'doc'; 'include' expressions are resolved away
    and 'pragma' expressions are kept."""
    seen = set()
    out = []

    def visit(path, from_info):
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        if not os.path.exists(path):
            raise QAPIError(from_info, "can't find included file '%s'" % path)
        for item in Parser(path).parse():
            kind, expr, info, _ = item
            if kind == 'expr' and 'include' in expr:
                if len(expr) != 1 or not isinstance(expr['include'], str):
                    raise QAPIError(info, "include must be {'include': "
                                    "'FILE'}")
                visit(os.path.join(os.path.dirname(path), expr['include']),
                      info)
            else:
                out.append(item)

    visit(fname, None)
    return out
