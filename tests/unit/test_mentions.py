"""@-mentions in a comment: which usernames a comment names."""

from workflow.services.comments import mentioned_names


def test_a_comment_names_each_mentioned_user_once_in_order() -> None:
    assert mentioned_names("@hubei_reviewer2 请看，@mofcom 也看；@hubei_reviewer2") == [
        "hubei_reviewer2", "mofcom"]


def test_an_email_address_or_a_trailing_full_stop_is_not_part_of_a_mention() -> None:
    assert mentioned_names("发给 zhang@example.gov.cn 并抄送 @mofcom.") == ["mofcom"]
