"""One offline check: fail fast, with one sentence, where the internet is needed but absent.

Everything in the book that downloads (a LAION checkpoint, a hub sentence encoder, the
Neglected Tails metrics file, a torchvision dataset) calls :func:`require_internet`
first and raises :class:`OfflineError` when it cannot: within seconds and in one
sentence, instead of a long retry and a traceback. The lab and ci profiles never
download. Only the standard library is used.

Offline mode is on when ``HF_HUB_OFFLINE`` is set to anything but ``0``/``false``/empty
(as ``make test`` does): then nothing is probed and every check fails at once.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request

__all__ = ["HUB_URL", "OfflineError", "offline_mode", "require_internet"]

HUB_URL = "https://huggingface.co"
"""What :func:`require_internet` probes by default: the Hugging Face hub."""

_HINT = "run it where there is internet (the wild profile on Colab), or with UIM_PROFILE=lab"


class OfflineError(RuntimeError):
    """Something that needs the internet was requested on a machine without it."""


def offline_mode() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for offline mode (set, and not ``0``/``false``)."""
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() not in ("0", "", "false")


def require_internet(what: str, url: str | None = None, timeout: float = 3.0, hint: str = _HINT) -> None:
    """Fail fast, with one sentence, if ``url`` (default: the Hugging Face hub) does not answer.

    The probe is one HTTP ``HEAD`` request (through the configured proxy, if any); any
    HTTP answer, even an error status, counts as online. Name resolution and the request
    run in a helper thread that is abandoned after ``timeout`` seconds, so a dead or
    filtering network cannot hang the caller. (A bare TCP connect is not enough: some
    sandboxes accept every connection and never answer.) In offline mode
    (:func:`offline_mode`) nothing is probed.

    Parameters
    ----------
    what : str
        What needs the internet, as the subject of the sentence (``"The encoder 'x'"``).
    url : str, optional
        What to probe; default :data:`HUB_URL`.
    timeout : float
        Seconds to wait for an answer, > 0.
    hint : str
        What to do instead, the end of the sentence.

    Raises
    ------
    OfflineError
        In offline mode, or if no HTTP answer arrives within ``timeout`` seconds.
    ValueError
        If ``timeout`` is not a positive number.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    url = url or HUB_URL
    if offline_mode():
        raise OfflineError(f"{what} needs the internet, but offline mode is on (HF_HUB_OFFLINE is set); {hint}.")
    err = _probe(url, timeout)
    if err is not None:
        raise OfflineError(f"{what} needs the internet, but {url} could not be reached within {timeout:g} s "
                           f"({type(err).__name__}); {hint}.")


def _probe(url: str, timeout: float) -> BaseException | None:
    """``None`` if ``url`` answers a ``HEAD`` request within ``timeout`` s, else the error."""
    outcome: dict[str, BaseException | None] = {"error": TimeoutError("no answer")}

    def probe() -> None:
        try:
            req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "uim_utils"})
            with urllib.request.urlopen(req, timeout=timeout):
                pass
            outcome["error"] = None
        except urllib.error.HTTPError:
            outcome["error"] = None  # the server answered: we are online
        except BaseException as exc:
            outcome["error"] = exc

    th = threading.Thread(target=probe, daemon=True)
    th.start()
    th.join(timeout + 0.5)
    return outcome["error"]
