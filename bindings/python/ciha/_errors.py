"""The exception hierarchy, generated from the library's code names (ciha_code_name)."""
import builtins

from . import ciha_native as _n

__all__ = ["Error"]


class Error(Exception):
    """A libciha failure.

    Attributes: code ("CIHA_ENOTFOUND"), message, aws_code ("InvalidVolume.NotFound"),
    request_id, http_status (0 when there was no response), service ("ec2"),
    retryable (bool) and result (a partial result such as a Report, or None).
    """

    code = "CIHA_ERROR"

    def __init__(self, message="", *, code=None, aws_code=None, request_id=None, http_status=0,
                 service=None, retryable=False, result=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.aws_code = aws_code
        self.request_id = request_id
        self.http_status = http_status
        self.service = service
        self.retryable = bool(retryable)
        self.result = result

    def __str__(self):
        return self.message


# Python names and the built-in each one also is; a code the library adds later
# still gets a class (CIHA_EFOO -> FooError) without a release of this package.
_PYTHON_NAMES = {
    "CIHA_ENOMEM": ("OutOfMemoryError", MemoryError),
    "CIHA_EINVAL": ("InvalidArgument", ValueError),
    "CIHA_ENOTFOUND": ("NotFoundError", LookupError),
    "CIHA_EEXISTS": ("AlreadyExistsError", None),
    "CIHA_EAUTH": ("AuthError", PermissionError),
    "CIHA_ETHROTTLED": ("ThrottledError", None),
    "CIHA_ETIMEOUT": ("TimeoutError", builtins.TimeoutError),
    "CIHA_ENETWORK": ("NetworkError", ConnectionError),
    "CIHA_ESTATE": ("StateError", None),
    "CIHA_EAWS": ("AwsError", None),
    "CIHA_EUSER": ("UserAbort", None),
    "CIHA_EUNSUPPORTED": ("UnsupportedError", NotImplementedError),
    "CIHA_EAGAIN": ("NotReadyError", None),
}

_NOT_ERRORS = {"CIHA_OK", "CIHA_ITEROVER"}


def _class_name(code_name):
    if code_name in _PYTHON_NAMES:
        return _PYTHON_NAMES[code_name][0]
    return code_name.replace("CIHA_E", "", 1).capitalize() + "Error"


def _codes():
    code = -1
    while _n.ciha_code_name(code) is not None:
        yield code, _n.ciha_code_name(code)
        code -= 1


BY_CODE = {}
for _code, _name in _codes():
    if _name in _NOT_ERRORS:
        continue
    if _name == "CIHA_ERROR":
        BY_CODE[_code] = Error
        continue
    _builtin = _PYTHON_NAMES.get(_name, (None, None))[1]
    _bases = (Error, _builtin) if _builtin else (Error,)
    _cls = type(_class_name(_name), _bases, {"code": _name, "__doc__": _n.ciha_strerror(_code),
                                             "__module__": "ciha"})
    BY_CODE[_code] = _cls
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)

BY_NAME = {cls.code: cls for cls in BY_CODE.values()}


def from_native(code, name, message, aws_code, request_id, service, http_status, retryable, partial):
    """Called by the native module to build the exception for a failed call."""
    cls = BY_CODE.get(code, Error)
    return cls(message, code=name, aws_code=aws_code, request_id=request_id, http_status=http_status,
               service=service, retryable=retryable, result=partial)


def error(code_name, message, **fields):
    """An exception of the class for `code_name` raised by the Python layer itself."""
    return BY_NAME.get(code_name, Error)(message, code=code_name, **fields)


_n.ciha_set_error_factory(from_native)
