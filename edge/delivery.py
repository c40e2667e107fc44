"""`Delivery`: hands the worker's results to the publisher and to the observers, so that no
fault of theirs stops the worker thread."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from edge.ports import Frame, PersonVisit, Result, ResultPublisher

log = logging.getLogger(__name__)


class Delivery:
    """Called on the worker thread only. A publisher that raises keeps its own faults (the
    spool): the result is dropped, logged once until one goes through. An observer that
    raises (a page or metrics bug) is logged once and the others still see the result."""

    def __init__(self, publisher: ResultPublisher) -> None:
        self._publisher = publisher
        self._is_publish_failing = False
        self._observers: list[Callable[[Result, Frame | None], None]] = []
        self._is_observer_failing = False

    def add_observer(self, see: Callable[[Result, Frame | None], None]) -> None:
        self._observers.append(see)

    def observe(self, result: Result, frame: Frame | None) -> None:
        for see in self._observers:
            try:
                see(result, frame)
            except Exception:  # a page or metrics bug must not stop captures
                if not self._is_observer_failing:
                    log.exception("an observer of captures failed (logged once)")
                self._is_observer_failing = True

    def publish(self, result: Result, frame: Frame | None = None) -> None:
        try:
            self._publisher.publish(result, frame)
        except Exception:  # the publisher keeps its own faults; this thread must live on
            if not self._is_publish_failing:
                log.exception("could not publish a result; dropped (logged once until one "
                              "goes through)")
            self._is_publish_failing = True
            return
        self._is_publish_failing = False

    def publish_people(self, visits: Sequence[PersonVisit]) -> None:
        for visit in visits:
            try:
                self._publisher.publish_person(visit)
            except Exception:  # like `publish`: the publisher keeps its own faults
                log.exception("could not publish a person message; dropped")
