"""Progress events from a run, for a listener such as the CLI's progress bar.

Steps call `emit`; a listener registered with `subscribe` receives every event in the thread
that emitted it. The library works the same with no listener.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

Listener = Callable[[str, dict[str, Any]], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Register `listener` and return a function that removes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def emit(event: str, **data: Any) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event, data)
