"""The state machine: every legal transition and every illegal one."""

import itertools

import pytest

from core.errors import IllegalTransition
from core.statuses import ACTIONS, CANCELLABLE, TRANSITIONS, PartStatus, next_status

LEGAL = sorted(TRANSITIONS.items(), key=str)
ILLEGAL = [
    (status, action)
    for status, action in itertools.product(PartStatus, sorted(ACTIONS - {"cancel", "restore"}))
    if (status, action) not in TRANSITIONS
]


@pytest.mark.parametrize(
    ("start", "action", "target"), [(s, a, t) for (s, a), t in LEGAL], ids=[f"{s}-{a}" for (s, a), _ in LEGAL]
)
def test_legal_transition(start: PartStatus, action: str, target: PartStatus) -> None:
    assert next_status(start, action) is target


@pytest.mark.parametrize(("start", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_illegal_transition_is_refused_in_french(start: PartStatus, action: str) -> None:
    with pytest.raises(IllegalTransition) as err:
        next_status(start, action)
    assert start.label in err.value.message
    assert "Impossible de" in err.value.message


@pytest.mark.parametrize("start", sorted(PartStatus))
def test_cancel_and_restore(start: PartStatus) -> None:
    if start in CANCELLABLE:
        assert next_status(start, "cancel") is PartStatus.CANCELLED
        assert next_status(PartStatus.CANCELLED, "restore", previous=start) is start
    else:
        with pytest.raises(IllegalTransition):
            next_status(start, "cancel")


def test_restore_needs_a_cancelled_part() -> None:
    with pytest.raises(IllegalTransition):
        next_status(PartStatus.DONE, "restore", previous=PartStatus.DONE)
    with pytest.raises(IllegalTransition):
        next_status(PartStatus.CANCELLED, "restore", previous=None)


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        next_status(PartStatus.DONE, "teleport")


def test_payment_only_after_validation() -> None:
    payable_from = {s for (s, a) in TRANSITIONS if a == "send_to_payment"}
    assert payable_from == {PartStatus.VALIDATED}
