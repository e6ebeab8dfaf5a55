"""Upload the generated dashboards to a running Grafana through its HTTP API (grafana-client).

For Grafanas not provisioned from files: the dashboards go into one folder (created when missing) and
replace older versions with the same uid (`overwrite: true`), so pushing again is always safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaException

from edge_gateway.noc.model import JSON
from edge_gateway.noc.provisioning import FOLDER as DEFAULT_FOLDER

TIMEOUT_S = 10.0


class PushError(RuntimeError):
    """Grafana refused or could not be reached; the message says which step failed."""


# grafana-client wraps HTTP errors and timeouts; a refused connection comes through as its HTTP
# library's ConnectionError, an OSError.
_FAILURES = (GrafanaException, OSError)


@dataclass(frozen=True)
class Pushed:
    """One dashboard as Grafana stored it."""

    uid: str
    version: int
    url: str


def connect(url: str, token: str) -> Any:
    """A GrafanaApi for `url` authenticating with a service-account token."""
    return GrafanaApi.from_url(url, credential=token, timeout=TIMEOUT_S)


def folder_uid(api: Any, title: str) -> str:
    """The uid of the folder called `title`, created when there is none."""
    try:
        for folder in api.folder.get_all_folders():
            if folder.get("title") == title:
                return str(folder["uid"])
        created = api.folder.create_folder(title)
    except _FAILURES as exc:
        raise PushError(f"folder {title!r}: {exc}") from exc
    return str(created["uid"])


def payload(dashboard: JSON, folder: str) -> JSON:
    """The body of POST /api/dashboards/db: matched by uid (id None), older versions overwritten."""
    return {
        "dashboard": {**dashboard, "id": None},
        "folderUid": folder,
        "overwrite": True,
        "message": "edge dashboards push",
    }


def push(api: Any, dashboards: list[JSON], folder_title: str = DEFAULT_FOLDER) -> list[Pushed]:
    """Upload `dashboards` into the folder `folder_title`; what Grafana stored, in order."""
    folder = folder_uid(api, folder_title)
    pushed = []
    for dashboard in dashboards:
        try:
            answer = api.dashboard.update_dashboard(payload(dashboard, folder))
        except _FAILURES as exc:
            raise PushError(f"dashboard {dashboard.get('uid')!r}: {exc}") from exc
        pushed.append(Pushed(str(answer["uid"]), int(answer["version"]), str(answer.get("url", ""))))
    return pushed
