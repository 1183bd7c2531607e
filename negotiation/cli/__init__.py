"""The ``negotiation`` command.

The modules imported here are quick to import and register their commands on
``main``; ``main`` loads the slower ones (timeline and report, watch, project
and sources, demo, the signed checkpoints, db roles) only when one of their
commands is asked for.
"""

from . import time as _time_commands  # noqa: F401  (registers story, retract and correct on ``main``)
from . import move as _move_commands  # noqa: F401  (registers export and copy on ``main``)
from . import questions as _question_commands  # noqa: F401  (registers measures, deadlines, views and details)
from . import diff as _diff_command  # noqa: F401  (registers diff)
from .main import main

__all__ = ["main"]
