"""Objects to store: complete, as the API's create path fills them in."""

from __future__ import annotations

import uuid
from typing import Any

from vpnaas.api.body import prepare_create
from vpnaas.context import RequestContext
from vpnaas.db.repo import Repo
from vpnaas.spec import Resource, catalog

PROJECT = "project-a"
OTHER = "project-b"


def res(member: str) -> Resource:
    return catalog()[member]


def new(member: str, project: str = PROJECT, **given: Any) -> dict[str, Any]:
    """A complete object of ``member`` as the API would store it: ``given``
    checked and every default filled in by the create path's own code."""
    resource = res(member)
    values = prepare_create(resource, RequestContext(project_id=project), {member: given}).values
    server_set = {f.name: f.default for f in resource.stored if not f.create and f.name != "id"}
    return {"id": str(uuid.uuid4()), **server_set, **values}


def insert(repo: Repo, member: str, project: str = PROJECT, **given: Any) -> dict[str, Any]:
    obj = new(member, project, **given)
    repo.insert(res(member), obj)
    return obj
