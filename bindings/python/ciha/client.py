"""ciha.Client: region, endpoint, credentials, retries and logging for AWS calls."""
import json

from . import ciha_native as _n
from ._util import Record, callback, loads, dumps, ms
from ._util import log_level as _log_level


class Identity(Record):
    """Who the credentials are: account, arn, user_id, provider, region, endpoint."""


def _credentials_provider(credentials):
    """(provider, keep-alive callback) for a credentials= argument."""
    if credentials is None:
        return None, None
    if callable(credentials):
        def ask(_kind, _a, _b):
            keys = credentials()
            if isinstance(keys, dict):
                fields = keys
            else:
                fields = dict(zip(("access_key_id", "secret_access_key", "session_token", "expiration"), keys))
            return json.dumps({k: v for k, v in fields.items() if v is not None})
        cb = callback(ask)
        return _n.ciha_callback_credentials_provider(cb), cb
    keys = tuple(credentials) + (None,) * (3 - len(tuple(credentials)))
    return _n.ciha_credentials_provider_new_static(keys[0], keys[1], keys[2]), None


class Client:
    """A client for AWS calls. Not thread-safe: use one per thread.

    ciha.Client(region=None, profile=None, endpoint_url=None,
                credentials=None | (access_key_id, secret_access_key[, session_token]) | callable,
                max_attempts=0, timeout=None, connect_timeout=None, retry_mode=None,
                user_agent_suffix=None, ca_bundle=None, config_file=None, credentials_file=None,
                log=None, log_level="info")

    `log` is called as log(level_name, subsystem, message); messages never hold secrets.
    A credentials callable returns (akid, secret[, token[, expiration]]) or a dict of those names.
    Use as a context manager or call close().
    """

    def __init__(self, *, region=None, profile=None, endpoint_url=None, credentials=None, max_attempts=0,
                 timeout=None, connect_timeout=None, retry_mode=None, user_agent_suffix=None, ca_bundle=None,
                 config_file=None, credentials_file=None, log=None, log_level="info"):
        provider, self._credentials_cb = _credentials_provider(credentials)
        self._log_cb = callback(log)
        self._handle = _n.ciha_glue_client_new(
            region, profile, endpoint_url, provider, int(max_attempts), ms(timeout), ms(connect_timeout),
            retry_mode, user_agent_suffix, ca_bundle, config_file, credentials_file, self._log_cb,
            _log_level(log_level))
        self._endpoint_url = endpoint_url
        from .snapshots import Snapshots
        from .stacks import Stacks
        from .alarms import Alarms
        self.snapshots = Snapshots(self)
        self.stacks = Stacks(self)
        self.alarms = Alarms(self)

    # -- lifecycle ----------------------------------------------------------

    def close(self):
        """Free the native client (then the callbacks it used). Safe to call twice."""
        if getattr(self, "_handle", None) is not None:
            self._handle = None  # drops the only reference: ciha_client_free runs now
        self._log_cb = None
        self._credentials_cb = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()

    @property
    def native(self):
        if self._handle is None:
            raise ValueError("the client is closed")
        return self._handle

    # -- facts --------------------------------------------------------------

    @property
    def region(self):
        return _n.ciha_client_region(self.native)

    def endpoint(self, service):
        """The endpoint URL used for `service` ("ec2", "sts", ...)."""
        return _n.ciha_client_endpoint(self.native, service)

    @property
    def last_request_id(self):
        return _n.ciha_client_last_request_id(self.native)

    @property
    def last_attempts(self):
        return _n.ciha_client_last_attempts(self.native)

    # -- calls --------------------------------------------------------------

    def call(self, service, action, **params):
        """Call any action by name; params use the wire names (VolumeId=..., Filters=[...]). Returns a dict."""
        return loads(_n.ciha_glue_call("call", self.native, service, action, dumps(params)))

    def call_all(self, service, action, **params):
        """Every page of an action merged into one dict (lists concatenated, tokens removed)."""
        return loads(_n.ciha_glue_call("all", self.native, service, action, dumps(params)))

    def paginate(self, service, action, **params):
        """A generator of result pages (NextToken / Marker / NextMarker followed lazily)."""
        pager = _n.ciha_glue_pager_new(self.native, service, action, dumps(params))
        while True:
            page = _n.ciha_glue_pager_next(pager)
            if page is None:
                return
            yield json.loads(page)

    @staticmethod
    def encode(service, action, **params):
        """The request body a call would send (nothing is sent)."""
        return loads(_n.ciha_glue_call("encode", None, service, action, dumps(params)))

    def whoami(self):
        """STS GetCallerIdentity plus where the keys came from, as an Identity."""
        ident = _n.ciha_client_whoami(self.native)
        return Identity({
            "account": _n.ciha_identity_account(ident),
            "arn": _n.ciha_identity_arn(ident),
            "user_id": _n.ciha_identity_user_id(ident),
            "provider": _n.ciha_identity_provider(ident),
            "region": _n.ciha_identity_region(ident),
            "endpoint": _n.ciha_identity_endpoint(ident),
        })

    def __repr__(self):
        state = "closed" if self._handle is None else self.region
        return "<ciha.Client %s>" % state

