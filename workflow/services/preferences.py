"""A user's own preferences (language of the UI and of e-mail)."""

from __future__ import annotations

from workflow.errors import ValidationFailed, refuse
from workflow.storage import users_repo
from workflow.storage.uow import UnitOfWork

LOCALES = ("zh", "en")


def set_locale(uow: UnitOfWork, user_id: int, locale: str) -> None:
    """Remember the language a user chose (zh or en) for their next login and their mail."""
    if locale not in LOCALES:
        raise ValidationFailed(refuse("invalid_choice", "语言只能是中文或英文",
                                      "the language must be zh or en", field="locale"))
    with uow:
        user = users_repo.user_by_id(uow.session, user_id)
        user.locale = locale
        uow.commit()
