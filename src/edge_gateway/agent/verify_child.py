"""Signed messages from the NOC (remote configs and probe requests) verified in a short-lived child
process, so the running agent never imports cryptography: with `[remote_config]` on, it was 8.6 MB of
the agent's RSS (issue 15: at most 40 MB).

`python -m edge_gateway.agent.verify_child KEY_FILE` reads one message on stdin (the JSON envelope
`{"body": <base64>, "sig": <base64>}`, at most MAX_MESSAGE_BYTES) and writes one JSON object:
`{"body": {...}}`, the signed body once its Ed25519 signature verifies with the installed public key,
or `{"reason": ..., "problems": [...]}`. As before in the agent itself, nothing unverified is parsed
beyond the envelope (remote_config.py `decode_signed`). A child costs ~0.2 s; configs and probes are
rare, and both already wait on slower things (the config's own check, the probe's poll).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MAX_MESSAGE_BYTES = 16 * 2**20  # the bound of [remote_config] max_bytes; callers refuse bigger ones first
CHILD_TIMEOUT_S = 60.0


def verify_in_child(
    payload: bytes, key_file: Path, timeout_s: float = CHILD_TIMEOUT_S
) -> tuple[dict[str, Any] | None, str, list[str]]:
    """(the verified body, "", []) or (None, the refusal's reason, its problems)."""
    command = [sys.executable, "-m", "edge_gateway.agent.verify_child", str(key_file)]
    try:
        done = subprocess.run(command, input=payload, capture_output=True, timeout=timeout_s, check=False)
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError) as exc:
        return None, "signature", [f"the signature check did not finish: {type(exc).__name__}"]
    if isinstance(answer, dict) and isinstance(answer.get("body"), dict):
        return answer["body"], "", []
    if isinstance(answer, dict) and isinstance(answer.get("reason"), str):
        return None, answer["reason"], [str(problem) for problem in answer.get("problems", [])]
    tail = done.stderr.decode(errors="replace").strip().splitlines()[-2:]
    return None, "signature", [f"the signature check failed (exit {done.returncode}): {' | '.join(tail)}"]


def main(argv: list[str]) -> int:
    from edge_gateway.agent.remote_config import decode_signed, load_public_key
    from edge_gateway.core.config import ConfigError

    if len(argv) != 1:
        print("usage: python -m edge_gateway.agent.verify_child KEY_FILE < message", file=sys.stderr)
        return 64
    payload = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
    if len(payload) > MAX_MESSAGE_BYTES:
        answer: dict[str, Any] = {"reason": "oversized", "problems": [f"over {MAX_MESSAGE_BYTES} bytes"]}
    else:
        try:
            body, refused = decode_signed(payload, load_public_key(Path(argv[0])))
        except ConfigError as exc:
            answer = {"reason": "signature", "problems": exc.problems}
        else:
            answer = {"body": body}
            if refused is not None:
                answer = {"reason": refused.reason, "problems": refused.problems}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
