"""The status rules of a part, written out by hand from the domain (../shared/domain/imagin.md), not read from
core.statuses.TRANSITIONS: a change to the table that the domain does not call for fails here.

What the domain says, and the cells below follow:
- the intervenant says the mission was done or not done, may change their mind, then validates (submits) it:
  only before validation, or when the DEC asks for a complement;
- the DEC validates, rejects or asks for a complement of a submitted part, and may reopen a validated or
  rejected one; a validated part (and only a validated one) is sent to payment ("transmis à la liquidation"),
  after which nothing changes;
- the DEC may cancel (freeze) any part not yet sent to payment, and restore it as it was;
- a part without costs ("pas de frais") has no life at all.
"""

from __future__ import annotations

import pytest

from core.errors import IllegalTransition
from core.statuses import ACTIONS, PartStatus, next_status

REFUSED = "."
S = PartStatus
STATUS = {  # short names of the statuses, for the table
    "none": S.NO_COSTS,  # pas de frais
    "later": S.NOT_YET_DONE,  # mission non encore effectuée
    "done": S.DONE,  # mission effectuée
    "notdone": S.NOT_DONE,  # mission non effectuée
    "tovalid": S.TO_VALIDATE,  # à valider
    "info": S.INFO_REQUESTED,  # complément demandé
    "rejected": S.REJECTED,  # non validé
    "valid": S.VALIDATED,  # validé
    "paid": S.SENT_TO_PAYMENT,  # transmis à la liquidation
    "cancel": S.CANCELLED,  # annulé
}
ACTION = {
    "done": "declare_done",
    "notdone": "declare_not_done",
    "submit": "submit",
    "valid": "validate",
    "reject": "reject",
    "info": "request_info",
    "pay": "send_to_payment",
    "reopen": "reopen",
    "cancel": "cancel",
}
# One row per status: the status each action leads to ("." = refused).
CASES = """
from/action    done   notdone  submit   valid  reject    info  pay    reopen   cancel
none           .      .        .        .      .         .     .      .        .
later          done   notdone  .        .      .         .     .      .        cancel
done           .      notdone  tovalid  .      .         .     .      .        cancel
notdone        done   .        tovalid  .      .         .     .      .        cancel
tovalid        .      .        .        valid  rejected  info  .      .        cancel
info           .      notdone  tovalid  .      .         .     .      .        cancel
rejected       .      .        .        .      .         .     .      tovalid  cancel
valid          .      .        .        .      .         .     paid   tovalid  cancel
paid           .      .        .        .      .         .     .      .        .
cancel         .      .        .        .      .         .     .      .        .
"""
_ROWS = [line.split() for line in CASES.strip().splitlines()]
COLUMNS = [ACTION[a] for a in _ROWS[0][1:]]
TABLE = {(STATUS[row[0]], action): row[i + 1] for row in _ROWS[1:] for i, action in enumerate(COLUMNS)}


def test_the_cases_cover_every_status_and_action() -> None:
    assert {status for status, _ in TABLE} == set(PartStatus)
    assert set(COLUMNS) | {"restore"} == ACTIONS


@pytest.mark.parametrize(("start", "action"), sorted(TABLE), ids=[f"{s}-{a}" for s, a in sorted(TABLE)])
def test_each_case(start: PartStatus, action: str) -> None:
    expected = TABLE[(start, action)]
    if expected == REFUSED:
        with pytest.raises(IllegalTransition, match="Impossible de") as refused:
            next_status(start, action)
        assert start.label in refused.value.message  # says in French which status forbids it
    else:
        assert next_status(start, action) is STATUS[expected]


@pytest.mark.parametrize("before", sorted(PartStatus))
def test_restore_gives_back_the_status_before_cancelling(before: PartStatus) -> None:
    if TABLE[(before, "cancel")] == REFUSED:
        return
    assert next_status(PartStatus.CANCELLED, "restore", previous=before) is before
    with pytest.raises(IllegalTransition):  # only a cancelled part is restored
        next_status(before, "restore", previous=before)


def _walk(start: PartStatus, *actions: str) -> PartStatus:
    status = start
    for action in actions:
        status = next_status(status, action)
    return status


def test_stories_of_a_part() -> None:
    paid = ("declare_done", "submit", "validate", "send_to_payment")
    assert _walk(S.NOT_YET_DONE, *paid) is S.SENT_TO_PAYMENT
    assert _walk(S.NOT_YET_DONE, "declare_not_done", "submit") is S.TO_VALIDATE  # "not done" is validated too
    assert _walk(S.NOT_YET_DONE, "declare_done", "declare_not_done", "declare_done") is S.DONE  # a change of mind
    assert _walk(S.TO_VALIDATE, "request_info", "submit", "reject", "reopen", "validate") is S.VALIDATED
    for too_early in ("validate", "send_to_payment"):  # the DEC decides on submitted parts only
        with pytest.raises(IllegalTransition):
            _walk(S.NOT_YET_DONE, "declare_done", too_early)
    for after_payment in ("reopen", "cancel", "declare_not_done"):  # paid: nothing moves any more
        with pytest.raises(IllegalTransition):
            _walk(S.NOT_YET_DONE, *paid, after_payment)


def test_restore_needs_a_cancelled_part_and_its_previous_status() -> None:
    with pytest.raises(IllegalTransition):
        next_status(PartStatus.DONE, "restore", previous=PartStatus.DONE)
    with pytest.raises(IllegalTransition):
        next_status(PartStatus.CANCELLED, "restore", previous=None)


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        next_status(PartStatus.DONE, "teleport")
