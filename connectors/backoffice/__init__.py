"""The back-office connector: screen maps, page objects, and :func:`key_case`.

Errors raised: ConfigError (screen map or settings wrong), ApplicationError (back office
down, slow, refused the sign-in or lost the session: retry), BusinessRuleError (the back
office refused the claim, or the read-back differs: review).
"""

from connectors.backoffice.pages import (
    ACTIONS,
    BackOfficeRefused,
    ClaimEntryPage,
    ClaimRecordPage,
    ClaimSearchPage,
    LoginPage,
    SessionLost,
    SignInRefused,
)
from connectors.backoffice.screenmap import ScreenMaps, load_screen, load_screens
from connectors.backoffice.session import (
    BackOfficeSession,
    ReadBackMismatch,
    key_case,
    verify,
)

__all__ = [
    "ACTIONS",
    "BackOfficeRefused",
    "BackOfficeSession",
    "ClaimEntryPage",
    "ClaimRecordPage",
    "ClaimSearchPage",
    "LoginPage",
    "ReadBackMismatch",
    "ScreenMaps",
    "SessionLost",
    "SignInRefused",
    "key_case",
    "load_screen",
    "load_screens",
    "verify",
]
