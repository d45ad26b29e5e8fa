"""SIGINT, SIGTERM and SIGHUP each stop the stack; a signal never cuts a start in half."""

from __future__ import annotations

import os
import signal
import time

import pytest

from streams.stack.shutdown import STOP_SIGNALS, StopRequested, StopSignals


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: s.name)
def test_each_stop_signal_interrupts_a_wait(sig: signal.Signals) -> None:
    stops = StopSignals()
    began = time.monotonic()
    with stops.installed(), pytest.raises(StopRequested) as raised:
        os.kill(os.getpid(), sig)
        time.sleep(10)
    assert raised.value.signum == sig
    assert raised.value.signal_name == sig.name
    assert time.monotonic() - began < 5


def test_the_previous_handlers_come_back() -> None:
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    with StopSignals().installed():
        assert all(signal.getsignal(sig) != before[sig] for sig in STOP_SIGNALS)
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before


def test_a_signal_during_a_deferred_step_is_raised_when_the_step_ends() -> None:
    stops = StopSignals()
    steps = []
    with stops.installed(), pytest.raises(StopRequested):
        with stops.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run: nothing was raised inside the step
            steps.append("recorded")
        steps.append("after the step")
    assert steps == ["recorded"]


def test_a_second_signal_while_stopping_does_not_interrupt_the_stop() -> None:
    stops = StopSignals()
    stopped = []
    with stops.installed():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(10)
        except StopRequested:
            os.kill(os.getpid(), signal.SIGHUP)  # the person presses Ctrl-C, closes the terminal
            time.sleep(0.05)
            stopped.append("every process")
    assert stopped == ["every process"]
    assert stops.received == signal.SIGINT
