"""GET /props carries the fields llama-server writes (tools/server's /props, and its own
test_basic.py::test_server_props): slots and context per slot, the endpoint switches, the
UI flags and the modalities."""
from __future__ import annotations

from server_helpers import STORIES, get, start


def test_props_fields_follow_the_flags():
    s = start(STORIES, "-np", "2", "-c", "512", "--metrics", "--no-slots", "--no-ui", "-s", "42")
    try:
        p = get(s, "/props").json()
        assert ".gguf" in p["model_path"]
        assert p["total_slots"] == 2
        assert p["default_generation_settings"]["n_ctx"] == 256
        assert p["default_generation_settings"]["params"]["seed"] == 42
        assert p["endpoint_metrics"] is True and p["endpoint_slots"] is False and p["endpoint_props"] is False
        assert p["ui"] is False and p["webui"] is False and p["ui_settings"] == {}
        assert p["modalities"] == {"vision": False, "video": False, "audio": False}
        assert p["is_sleeping"] is False and p["cors_proxy_enabled"] is False
    finally:
        s.stop()
    s = start(STORIES)
    try:
        p = get(s, "/props").json()
        assert p["endpoint_metrics"] is False and p["endpoint_slots"] is True and p["ui"] is True
    finally:
        s.stop()
