"""exact_sandbox: a local emulator of Exact Online (OAuth2 + REST) for tests and demos."""

from .app import DEFAULT_REDIRECT_URI, Sandbox
from .clock import ManualClock, ScaledClock
from .seed import seed_guid

__all__ = ["DEFAULT_REDIRECT_URI", "ManualClock", "Sandbox", "ScaledClock", "seed_guid"]
__version__ = "0.1.0"
