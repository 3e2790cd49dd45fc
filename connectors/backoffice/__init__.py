"""The back-office connector: screen maps, page objects, and :func:`key_case`.

Errors raised: ConfigError (screen map or settings wrong, a screen not showing what its map
names, sign-in refused), ApplicationError (back office down, slow, answering HTTP 5xx or
showing an error page, or lost the session: retry), BusinessRuleError (the back office
refused the case, or the read-back differs: review).
"""

from connectors.backoffice.lanes import SessionLanes, keeping_sessions, key_case, lanes_for
from connectors.backoffice.ledger import Ledger, SubmitUnconfirmed
from connectors.backoffice.pages import (
    ACTIONS,
    BackOfficeRefused,
    EntryPage,
    LoginPage,
    Navigator,
    RecordPage,
    SearchPage,
    SessionLost,
    SignInRefused,
)
from connectors.backoffice.retry import key_with_retries, retrying
from connectors.backoffice.screenmap import Route, ScreenMaps, load_screen, load_screens
from connectors.backoffice.session import (
    BackOfficeSession,
    ReadBackMismatch,
    backoffice_password,
    case_values,
    verify,
)

__all__ = [
    "ACTIONS",
    "BackOfficeRefused",
    "BackOfficeSession",
    "EntryPage",
    "Ledger",
    "LoginPage",
    "Navigator",
    "ReadBackMismatch",
    "RecordPage",
    "Route",
    "ScreenMaps",
    "SearchPage",
    "SessionLanes",
    "SessionLost",
    "SignInRefused",
    "SubmitUnconfirmed",
    "backoffice_password",
    "case_values",
    "keeping_sessions",
    "key_case",
    "key_with_retries",
    "lanes_for",
    "load_screen",
    "load_screens",
    "retrying",
    "verify",
]
