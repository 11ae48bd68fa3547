"""Spellings of the requests the Docker proxy acts on, and of near misses, with what dockerd
20.10 does with each (established against the real dockerd: tests/containers/test_proxy_gate.py
sends every one both ways; tests/daemon/test_docker_gate.py checks the gate's reading of each).

``routed``: dockerd routes the request to the route named by the table (a create creates, an
inspect inspects); otherwise it answers 301 (an unclean path), 404 (no route, or a method not
spelled as registered) or, for :data:`UNREADABLE`, 400 before routing anything.

Placeholders: ``{id}`` a container's full ID, ``{short}`` a prefix of it, ``{name}`` its name,
``{image}`` an image reference.
"""

from __future__ import annotations

from typing import NamedTuple


class Spelling(NamedTuple):
    method: str
    target: str
    routed: bool

    def fill(self, **values: str) -> tuple[str, str]:
        return self.method, self.target.format(**values)


CREATE = [
    Spelling("POST", "/containers/create", True),
    Spelling("POST", "/v1.41/containers/create", True),
    Spelling("POST", "/v1.41.0/containers/create", True),
    Spelling("POST", "/v1.41./containers/create", True),
    Spelling("POST", "/v1.41.0.0/containers/create", True),
    Spelling("POST", "/v1.40/containers/create", True),
    Spelling("POST", "/containers/%63reate", True),
    Spelling("POST", "/%63ontainers/create", True),
    Spelling("POST", "/containers%2Fcreate", True),
    Spelling("POST", "/v1%2E41/containers/create", True),
    Spelling("POST", "http://docker/containers/create", True),
    Spelling("POST", "http://docker/v1.41/containers/create", True),
    Spelling("POST", "HTTP://user:pw@docker:2375/containers/create", True),
    Spelling("POST", "http://[::1]:80/containers/create", True),
    Spelling("POST", "unix:///containers/create", True),
    Spelling("POST", "foo+bar.baz-1:/containers/create", True),
    Spelling("POST", "/containers/create?", True),
    Spelling("POST", "/containers/create??x", True),
    Spelling("POST", "/containers/create/", False),
    Spelling("POST", "//containers/create", False),
    Spelling("POST", "/v1.41//containers/create", False),
    Spelling("POST", "/containers/./create", False),
    Spelling("POST", "/containers/x/../create", False),
    Spelling("POST", "/containers/x%2F..%2Fcreate", False),
    Spelling("POST", "/V1.41/containers/create", False),
    Spelling("POST", "/v/containers/create", False),
    Spelling("POST", "/containers/create#x", False),
    Spelling("POST", "/containers/create%3Fname=x", False),
    Spelling("POST", "/containers/%0Acreate", False),
    Spelling("POST", "http:containers/create", False),
    Spelling("POST", "//docker/containers/create", False),
    Spelling("POST", "*", False),
    Spelling("post", "/containers/create", False),
    Spelling("PUT", "/containers/create", False),
]

EXEC = [
    Spelling("POST", "/containers/{id}/exec", True),
    Spelling("POST", "/containers/{name}/exec", True),
    Spelling("POST", "/v1.41.0/containers/{short}/exec", True),
    Spelling("POST", "/v1.41./containers/{id}/exec", True),
    Spelling("POST", "/containers/{id}/%65xec", True),
    Spelling("POST", "/containers/{id}%2Fexec", True),
    Spelling("POST", "/%63ontainers/{name}/exec", True),
    Spelling("POST", "http://docker/containers/{id}/exec", True),
    Spelling("POST", "/containers/{id}/exec/", False),
    Spelling("POST", "/containers/{id}//exec", False),
    Spelling("POST", "/containers/{id}/EXEC", False),
    Spelling("Post", "/containers/{id}/exec", False),
]

INSPECT = [
    Spelling("GET", "/containers/{id}/json", True),
    Spelling("GET", "/containers/{name}/json", True),
    Spelling("GET", "/containers/{short}/json", True),
    Spelling("GET", "/containers/{id}/%6Ason", True),
    Spelling("GET", "/containers/{id}%2Fjson", True),
    Spelling("GET", "/%63ontainers/{id}/json?size=1", True),
    Spelling("GET", "/v1.41/containers/{id}/json", True),
    Spelling("GET", "/v1.41.0/containers/{id}/json", True),
    Spelling("GET", "/v1.41./containers/{id}/json", True),
    Spelling("GET", "/v1.41.0.0/containers/{id}/json", True),
    Spelling("GET", "http://docker/containers/{id}/json", True),
    Spelling("GET", "http://docker/v1.41/containers/{name}/json", True),
    Spelling("GET", "/containers/{id}/json/", False),
    Spelling("GET", "/containers/{id}/json#x", False),
    Spelling("HEAD", "/containers/{id}/json", False),
    Spelling("get", "/containers/{id}/json", False),
]

IMAGE_INSPECT = [
    Spelling("GET", "/images/{image}/json", True),
    Spelling("GET", "/images/{image}/%6Ason", True),
    Spelling("GET", "/images/{image}%2Fjson", True),
    Spelling("GET", "/%69mages/{image}/json", True),
    Spelling("GET", "/v1.41.0/images/{image}/json", True),
    Spelling("GET", "/v1.41./images/{image}/json", True),
    Spelling("GET", "http://docker/images/{image}/json", True),
    Spelling("GET", "/images/{image}/json/", False),
]

COMMIT = [
    Spelling("POST", "/commit?container={id}", True),
    Spelling("POST", "/v1.41.0/commit?container={name}", True),
    Spelling("POST", "/%63ommit?container=%2F{name}", True),
    Spelling("POST", "http://docker/commit?container={short}", True),
    Spelling("POST", "/commit?pause=0&container={name}&container=nonexistent", True),
    Spelling("POST", "/v1.41./commit?container=/{name}&repo=never", True),
]

#: Targets dockerd refuses (400) before routing, and so does the proxy.
UNREADABLE = [
    "/containers/cr%zzeate",
    "/containers/create%",
    "containers/create",
    ":/containers/create",
    "http://doc%41ker/containers/create",
    "http://[::1/containers/create",
    "http://docker:80a/containers/create",
    "http://us{er@docker/containers/create",
    "http://do{cker/containers/create",
]
