"""The real `@nozbe/watermelondb` client against a live server (e2e/sync.e2e.mjs).

One node process runs the whole story; it stops at two points and waits for this driver to
change the server: a server-side edit between its pull and its push (→ 409, pull, retry), and a
turf reassignment (→ the old turf's doors arrive as `deleted`). Needs `node` and
`npm ci --prefix e2e`; skipped otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from canvass.models import ContactAttempt, Person, PersonCorrection, VolunteerSignup
from tests.sync.watermelon.conftest import DEVICE, assign

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "e2e" / "sync.e2e.mjs"
NODE_MODULES = ROOT / "e2e" / "node_modules" / "@nozbe" / "watermelondb"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node 20 runs the e2e client)"),
    pytest.mark.skipif(
        not NODE_MODULES.exists(),
        reason="e2e/node_modules is missing: run `npm ci --prefix e2e`",
    ),
]


class NodeScript:
    """The node process, with a deadline so a hung script fails the test instead of CI."""

    def __init__(self, *args: str, timeout: float = 90) -> None:
        self.proc = subprocess.Popen(
            [NODE, str(SCRIPT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.timer = threading.Timer(timeout, self.proc.kill)
        self.timer.start()
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def next_event(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise AssertionError(
                f"node exited ({self.proc.returncode}) before the next event:\n"
                + "".join(self.stderr)[-4000:]
            )
        return json.loads(line)

    def ack(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("ok\n")
        self.proc.stdin.flush()

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.timer.cancel()


def test_it_syncs_a_real_watermelondb_client_end_to_end(
    live_server, world, campaign, canvasser, other_canvasser
):
    token, _ = Token.objects.get_or_create(user=canvasser)
    script = NodeScript(live_server.url, token.key, str(campaign.pk), DEVICE)
    try:
        first = script.next_event()
        assert first["event"] == "first_pull", first
        assert sorted(first["households"]) == sorted(str(h.pk) for h in world.doors_a)
        assert sorted(first["people"]) == sorted(str(p.pk) for p in world.people_a)

        pushed = script.next_event()
        assert pushed["event"] == "pushed", pushed
        # The offline knocks are stored once, with the device's ids.
        stored = ContactAttempt.objects.filter(campaign=campaign).order_by("device_time")
        assert [str(c.pk) for c in stored] == pushed["contacts"]
        assert all(c.device_id == DEVICE and c.canvasser_id == canvasser.pk for c in stored)
        newcomer = Person.objects.get(last_name="Doorstep")
        assert newcomer.source == "door" and newcomer.language == "pt"
        assert stored[1].person_id == newcomer.pk
        assert str(VolunteerSignup.objects.get(campaign=campaign).pk) == pushed["signup"]

        assert script.next_event()["event"] == "repulled"

        need = script.next_event()
        assert need == {"event": "need", "action": "server_edit", "person": need["person"]}
        edited = Person.objects.get(pk=int(need["person"]))
        edited.first_name = "Edited-On-Server"
        edited.save()
        script.ack()

        resolved = script.next_event()
        assert resolved["event"] == "conflict_resolved", resolved
        edited.refresh_from_db()
        assert (edited.first_name, edited.language) == ("Edited-On-Server", "es")
        assert PersonCorrection.objects.filter(person=edited, kind="language").count() == 1

        need = script.next_event()
        assert need == {"event": "need", "action": "reassign"}
        world.assignment.ended_at = timezone.now()
        world.assignment.save()
        assign(world.turf_a, other_canvasser, ago=timedelta(0))
        assign(world.turf_b, canvasser, ago=timedelta(0))
        script.ack()

        reassigned = script.next_event()
        assert reassigned["event"] == "reassigned", reassigned
        assert sorted(reassigned["households"]) == sorted(str(h.pk) for h in world.doors_b)
        assert reassigned["people"] == len(world.people_b)

        assert script.next_event() == {"event": "done"}
    finally:
        code = script.close()
    assert code == 0, "".join(script.stderr)[-4000:]
    # Nothing was stored twice along the way.
    assert ContactAttempt.objects.filter(campaign=campaign).count() == 2
    assert Person.objects.filter(last_name="Doorstep").count() == 1
