"""Type names for generated class bodies.

Inside a class body a field's name hides every outer name of the same spelling for
the lines after it (at runtime once assigned, and for mypy at once): a field called
`str` would break `other: str`. Generated entities and schemas therefore reach their
types through this module, imported as `_types`: no field name starts with `_`, so no
field can hide it.
"""

import datetime
import decimal
import uuid
from typing import Any

Str = str
Int = int
Float = float
Bool = bool
Decimal = decimal.Decimal
Date = datetime.date
DateTime = datetime.datetime
UUID = uuid.UUID
Json = dict[str, Any]
Names = tuple[str, ...]
