"""The ``negotiation`` command."""

from . import time as _time_commands  # noqa: F401  (registers story, retract and correct on ``main``)
from . import move as _move_commands  # noqa: F401  (registers export and copy on ``main``)
from . import views as _view_commands  # noqa: F401  (registers timeline and report on ``main``)
from . import follow as _follow_commands  # noqa: F401  (registers watch, project and sources on ``main``)
from . import demo as _demo_command  # noqa: F401  (registers demo on ``main``)
from . import questions as _question_commands  # noqa: F401  (registers measures, deadlines, views and details)
from . import roles as _role_commands  # noqa: F401  (registers db roles)
from . import trust as _trust_commands  # noqa: F401  (registers checkpoint, verify-checkpoint, public-key)
from .main import main

__all__ = ["main"]
