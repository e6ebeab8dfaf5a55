"""`edge dashboards push`: the requests grafana-client sends, seen through a recording session.

No Grafana can be installed here, so the session under GrafanaApi (its transport) is replaced by one
that records each request and answers like Grafana's HTTP API does.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.noc import cli, push
from edge_gateway.noc.build import PACKAGE_DIR, all_dashboards
from edge_gateway_dev.servers import free_port


@dataclass
class Answer:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def json(self) -> Any:
        return self.body

    @property
    def text(self) -> str:
        return json.dumps(self.body)


@dataclass
class Recorder:
    """Grafana's folder and dashboard endpoints, as far as push uses them."""

    folders: list[dict[str, Any]] = field(default_factory=list)
    fail_dashboards: bool = False
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    auth: list[Any] = field(default_factory=list)

    def request(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Answer:
        path = url.split("/api", 1)[1]
        self.requests.append((method.upper(), path, json))
        self.auth.append(kwargs.get("auth"))
        if (method, path) == ("get", "/folders"):
            return Answer(200, self.folders)
        if (method, path) == ("post", "/folders"):
            return Answer(200, {"uid": "new-folder", "title": json["title"]})
        if (method, path) == ("post", "/dashboards/db"):
            if self.fail_dashboards:
                return Answer(412, {"message": "version-mismatch"})
            uid = json["dashboard"]["uid"]
            return Answer(200, {"uid": uid, "version": 3, "url": f"/d/{uid}", "status": "success"})
        return Answer(404, {"message": "not found"})


REAL_CONNECT = push.connect


def api_with(recorder: Recorder) -> Any:
    api = REAL_CONNECT("http://127.0.0.1:3000", "secret-token")
    api.client.s = recorder
    return api


DASHBOARDS = [d.to_json() for d in all_dashboards()]


def test_a_missing_folder_is_created_and_every_dashboard_overwrites_by_uid() -> None:
    recorder = Recorder()
    pushed = push.push(api_with(recorder), DASHBOARDS, "NOC")
    assert [p.uid for p in pushed] == [d["uid"] for d in DASHBOARDS]
    assert recorder.requests[:2] == [("GET", "/folders", None), ("POST", "/folders", {"title": "NOC"})]
    uploads = recorder.requests[2:]
    assert [(m, p) for m, p, _ in uploads] == [("POST", "/dashboards/db")] * len(DASHBOARDS)
    for (_, _, body), dashboard in zip(uploads, DASHBOARDS, strict=True):
        assert body["overwrite"] is True
        assert body["folderUid"] == "new-folder"
        assert body["dashboard"] == {**dashboard, "id": None}
    assert {a.token for a in recorder.auth} == {"secret-token"}


def test_an_existing_folder_is_reused() -> None:
    recorder = Recorder(folders=[{"uid": "other", "title": "Other"}, {"uid": "f-noc", "title": "NOC"}])
    push.push(api_with(recorder), DASHBOARDS[:1], "NOC")
    assert [(m, p) for m, p, _ in recorder.requests] == [("GET", "/folders"), ("POST", "/dashboards/db")]
    assert recorder.requests[1][2]["folderUid"] == "f-noc"


def test_a_refusal_names_the_dashboard() -> None:
    recorder = Recorder(folders=[{"uid": "f", "title": "NOC"}], fail_dashboards=True)
    with pytest.raises(push.PushError, match="edge-noc"):
        push.push(api_with(recorder), DASHBOARDS, "NOC")


def test_an_unreachable_grafana_is_a_push_error() -> None:
    """A real connection attempt to a loopback port nobody listens on."""
    api = push.connect(f"http://127.0.0.1:{free_port()}", "token")
    with pytest.raises(push.PushError, match="folder"):
        push.push(api, DASHBOARDS)


def test_the_command_pushes_with_a_token_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder()
    seen: list[tuple[str, str]] = []

    def connect(url: str, token: str) -> Any:
        seen.append((url, token))
        return api_with(recorder)

    monkeypatch.setattr(push, "connect", connect)
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    assert _run(["push", "--url", "http://127.0.0.1:3000", "--token-file", str(token_file)]) == 0
    assert seen == [("http://127.0.0.1:3000", "file-token")]
    assert recorder.requests[1][2] == {"title": "Edge gateway"}
    assert "edge-noc version 3 /d/edge-noc" in capsys.readouterr().out
    assert _run(["push", "--url", "http://127.0.0.1:3000", "--token-file", str(tmp_path / "none")]) == 1


def test_build_writes_the_same_files_as_committed(tmp_path: Path) -> None:
    assert _run(["build", "--out", str(tmp_path)]) == 0
    for name in ("json/edge-noc.json", "provisioning/datasources/edge-influxdb.yaml"):
        committed = (PACKAGE_DIR / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == committed


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="edge")
    cli.add_dashboards_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dashboards", *argv])
    return int(args.func(args))
