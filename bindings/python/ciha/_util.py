"""Small helpers shared by the ciha modules."""
import json

from . import ciha_native as _n

LOG_LEVELS = {"none": 0, "error": 1, "warn": 2, "warning": 2, "info": 3, "debug": 4, "trace": 5}


def loads(text):
    return None if text is None else json.loads(text)


def dumps(value):
    return None if value is None else json.dumps(value)


def callback(fn):
    """A native callback object around `fn(a, b, c)`, or None."""
    return None if fn is None else _n.ciha_callback_new(fn)


def event_callback(fn, wrap):
    """A native callback for JSON events: fn(wrap(dict)); a true return value stops the wait."""
    if fn is None:
        return None

    def trampoline(kind, text, _unused):
        return bool(fn(wrap(json.loads(text))))
    return callback(trampoline)


def interrupt_callback():
    """A callback that does nothing but lets Ctrl-C stop a wait at its next poll."""
    return callback(lambda *args: False)


def ms(seconds):
    """Seconds (None: the library default) as the milliseconds the C API takes."""
    return 0 if seconds is None else int(seconds * 1000)


def log_level(level):
    if isinstance(level, int):
        return level
    try:
        return LOG_LEVELS[str(level).lower()]
    except KeyError:
        raise ValueError("unknown log level %r (one of %s)" % (level, ", ".join(LOG_LEVELS))) from None


class Record:
    """A read-only object whose attributes are the keys of a dict; as_dict() gives the dict back."""

    def __init__(self, fields):
        self._fields = dict(fields)

    def __getattr__(self, name):
        try:
            return self.__dict__["_fields"][name]
        except KeyError:
            raise AttributeError("%s has no attribute %r" % (type(self).__name__, name)) from None

    def __getitem__(self, key):
        return self._fields[key]

    def __eq__(self, other):
        return isinstance(other, Record) and other._fields == self._fields

    def as_dict(self):
        return dict(self._fields)

    def to_json(self):
        return json.dumps(self._fields)

    def __repr__(self):
        inner = ", ".join("%s=%r" % kv for kv in self._fields.items())
        return "%s(%s)" % (type(self).__name__, inner)
