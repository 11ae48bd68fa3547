"""The Docker proxy's one gate: what a request *is*, decided once, the way dockerd decides it.

dockerd (moby 20.10: Go's ``net/http``, then gorilla/mux 1.8) reads a request target in three
steps, and :func:`route_of` takes the same three:

1. **Go's ``url.ParseRequestURI``.**  Origin form (``/path?query``) or absolute form with any
   scheme (``http://docker/path``, ``foo:/path``; a ``CONNECT`` target without a slash is an
   authority).  The path is percent-decoded (``%63reate`` is ``create``, ``%2F`` a slash, the
   query is left alone); a control character, an invalid escape or a relative target is
   answered 400.  A scheme with a rootless path (``http:x``) has no path at all.
2. **gorilla/mux's clean path.**  A decoded path that is empty or holds ``//``, ``/./`` or
   ``/../`` is answered 301 to its clean form and never routed.
3. **The routes.**  Each route is registered as ``/v{version:[0-9.]+}`` + path and as the bare
   path; methods are compared exactly (``post`` is not ``POST``); ``{name:.*}`` is greedy, may
   hold ``/``, never a newline (Go's ``.``), and routes that could claim the same path first do
   not exist for these five (checked against moby's route table).

Only five routes concern the proxy (:class:`RouteKind`); every other request goes on as it
came.  A target this gate cannot read is refused with 400, never forwarded blind.

Matching is linear: the patterns are anchored literals around one greedy group.
"""

from __future__ import annotations

import enum
import re

from docker_pass.core.value import FrozenValue
from docker_pass.daemon.docker.relay import Refusal


class RouteKind(enum.Enum):
    """What dockerd would do with a request, as far as the proxy cares."""

    CONTAINER_CREATE = "container create"
    EXEC_CREATE = "exec create"
    CONTAINER_INSPECT = "container inspect"
    IMAGE_INSPECT = "image inspect"
    COMMIT = "commit"
    #: Anything else, including what dockerd answers 301 (unclean) or 404 (no route).
    OTHER = "other"


class Route(FrozenValue):
    """A request target as dockerd routes it.

    ``version``: the API version in the path (``"1.41.0"`` for ``/v1.41.0/…``), ``""`` when the
    path has none; ``name``: the route's ``{name}`` (decoded; ``""`` when it has none);
    ``path``: the decoded path; ``query``: the raw query (Go decodes it per parameter).
    """

    __slots__ = ("kind", "name", "path", "query", "version")
    kind: RouteKind
    version: str
    name: str
    path: str
    query: str

    def __init__(self, kind: RouteKind, version: str, name: str, path: str, query: str) -> None:
        self._set("kind", kind)
        self._set("version", version)
        self._set("name", name)
        self._set("path", path)
        self._set("query", query)

    @property
    def prefix(self) -> str:
        """The version prefix to put before another path for the same engine (``/v1.41``)."""
        return f"/v{self.version}" if self.version else ""

    def __repr__(self) -> str:
        return f"Route({self.kind.value!r}, version={self.version!r})"


_VERSION = r"(?:/v(?P<version>[0-9.]+))?"
#: The routes the proxy acts on: method, pattern of the decoded path, kind.
_ROUTES = (
    (b"POST", re.compile(_VERSION + r"/containers/create"), RouteKind.CONTAINER_CREATE),
    (b"POST", re.compile(_VERSION + r"/containers/(?P<name>.*)/exec"), RouteKind.EXEC_CREATE),
    (b"GET", re.compile(_VERSION + r"/containers/(?P<name>.*)/json"), RouteKind.CONTAINER_INSPECT),
    (b"GET", re.compile(_VERSION + r"/images/(?P<name>.*)/json"), RouteKind.IMAGE_INSPECT),
    (b"POST", re.compile(_VERSION + r"/commit"), RouteKind.COMMIT),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PORT = re.compile(r"(?::[0-9]*)?")
_USERINFO = re.compile(r"[A-Za-z0-9\-._:~!$&'()*+,;=%@]*")
#: Characters a host may hold unescaped (Go's ``shouldEscape`` in host mode); bytes from 0x80.
_HOST = re.compile(r"[A-Za-z0-9\-_.~!$&'()*+,;=:\[\]<>\"\x80-\xff]*")
_HEX_DIGITS = "0123456789abcdefABCDEF"


def route_of(method: bytes, target: bytes) -> Route:
    """The route dockerd would take for ``method`` and ``target``; :class:`Refusal` (400) for
    a target dockerd would not read either."""
    text = target.decode("latin-1")  # one character per byte, as Go's strings hold them
    if method == b"CONNECT" and not text.startswith("/"):
        text = "http://" + text  # Go reads a CONNECT target as an authority
    path, query = _parse_request_uri(text)
    if _is_clean(path):
        for wanted, pattern, kind in _ROUTES:
            if method == wanted and (found := pattern.fullmatch(path)) is not None:
                groups = found.groupdict()
                return Route(kind, groups["version"] or "", groups.get("name") or "", path, query)
    return Route(RouteKind.OTHER, "", "", path, query)


def query_values(query: str) -> dict[str, list[str]]:
    """A raw query's parameters as Go's ``url.ParseQuery`` reads them; :class:`Refusal` (400)
    where it fails (dockerd fails the request then)."""
    values: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if ";" in pair:
            raise _refusal("invalid semicolon separator in query")
        if not pair:
            continue
        key, _, value = pair.partition("=")
        values.setdefault(_unescape(key, plus=True), []).append(_unescape(value, plus=True))
    return values


def _parse_request_uri(text: str) -> tuple[str, str]:
    """Go's ``url.ParseRequestURI``: the decoded path and the raw query."""
    if _CONTROL.search(text):
        raise _refusal("invalid control character in URL")
    if not text:
        raise _refusal("empty url")
    if text == "*":
        return "*", ""
    scheme, rest = _scheme(text)
    if rest.endswith("?") and rest.count("?") == 1:
        rest, query = rest[:-1], ""
    else:
        rest, _, query = rest.partition("?")
    if not rest.startswith("/"):
        if scheme:
            return "", query  # an opaque URL: no path (dockerd answers 301)
        raise _refusal("invalid URI for request")
    if scheme and rest.startswith("//"):
        authority, slash, after = rest[2:].partition("/")
        _check_authority(authority)
        rest = slash + after
    return _unescape(rest, plus=False), query


def _scheme(text: str) -> tuple[str, str]:
    """Go's ``getScheme``: a leading ``scheme:`` and the rest (no scheme: all of it)."""
    for index, char in enumerate(text):
        if "a" <= char <= "z" or "A" <= char <= "Z":
            continue
        if "0" <= char <= "9" or char in "+-.":
            if index == 0:
                return "", text
            continue
        if char == ":":
            if index == 0:
                raise _refusal("missing protocol scheme")
            return text[:index], text[index + 1 :]
        return "", text
    return "", text


def _check_authority(authority: str) -> None:
    """Go's ``parseAuthority``, for what it refuses (the host does not route anything)."""
    userinfo, at, host = authority.rpartition("@")
    if at and not _USERINFO.fullmatch(userinfo):
        raise _refusal("net/url: invalid userinfo")
    if at:
        _unescape(userinfo, plus=False)
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0:
            raise _refusal("missing ']' in host")
        port = host[close + 1 :]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    if not _PORT.fullmatch(port):
        raise _refusal("invalid port after host")
    for escape in re.finditer("%", host):
        digits = host[escape.start() + 1 : escape.start() + 3]
        if len(digits) < 2 or any(digit not in _HEX_DIGITS for digit in digits):
            raise _refusal("invalid URL escape")
        if int(digits[0], 16) < 8 and digits != "25":
            raise _refusal("invalid URL escape in host")  # a host escapes non-ASCII bytes only
    if not _HOST.fullmatch(_ESCAPE.sub("", host)):
        raise _refusal("invalid character in host name")


def _unescape(text: str, *, plus: bool) -> str:
    """Go's ``unescape`` of a path (``plus``: a query component, where ``+`` is a space); the
    bytes it decodes to, one character each."""
    if _BAD_ESCAPE.search(text):
        raise _refusal("invalid URL escape")
    if plus:
        text = text.replace("+", " ")
    return _ESCAPE.sub(lambda found: chr(int(found[1], 16)), text)


def _is_clean(path: str) -> bool:
    """Whether gorilla/mux's ``cleanPath`` leaves ``path`` as it is (else it answers 301)."""
    if not path.startswith("/"):
        return False
    segments = path.split("/")[1:]
    if segments[-1] == "":
        segments.pop()  # a trailing slash is kept by cleanPath
    return all(segment not in ("", ".", "..") for segment in segments)


def _refusal(reason: str) -> Refusal:
    return Refusal(400, f"docker-pass: cannot read the request target: {reason}")
