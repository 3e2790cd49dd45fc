"""A batch keys in the signed-in sessions it keeps open (``keying_sessions``), and a
crashed browser is replaced by a new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.backoffice import keeping_sessions, key_case, lanes_for, retrying
from flows.process import process_folder, subscribe
from rekey.errors import ApplicationError
from rekey.pipeline import Outcome
from tests.test_backoffice import make_case


@pytest.mark.usefixtures("prefect_harness")
def test_a_batch_keys_in_the_sessions_it_keeps_open(inbox: Path, backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path, folder_workers=2, keying_sessions=1)
    opened: list[int | None] = []

    def seen(outcome: Outcome) -> None:  # called inside the batch, as each document ends
        kept = lanes_for(settings)
        opened.append(kept.sessions_opened if kept else None)

    unsubscribe = subscribe(seen)
    try:
        outcomes = process_folder(inbox, settings)
    finally:
        unsubscribe()
    keyed = [o for o in outcomes if o.state == "done"]
    assert len(keyed) == 3
    assert None not in opened and max(opened) == 1  # 3 claims, 2 workers, one browser
    assert lanes_for(settings) is None  # closed when the batch ended


def test_a_crashed_browser_is_replaced_for_the_retry(backoffice, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path)
    with keeping_sessions(settings, 1) as kept:
        first = key_case(make_case("lane-1"), settings)
        lane = kept.lanes[0]
        lane.call(lambda: lane._session._browser.close())  # the browser dies between cases
        case = make_case("lane-2")
        with pytest.raises(ApplicationError):
            key_case(case, settings)
        second = retrying(lambda: key_case(case, settings), attempts=2)
        assert kept.sessions_opened == 2
    assert first.verified and second.verified
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
