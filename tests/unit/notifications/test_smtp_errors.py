import aiosmtplib
import pytest
from aiosmtplib import SMTPRecipientRefused

from activities.notifications.mail import classify_smtp_error

ADDRESS = "an.nguyen@example.vn"


def refused(code: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [SMTPRecipientRefused(code, f"mailbox {ADDRESS} unavailable", ADDRESS)]
    )


@pytest.mark.parametrize(
    ("error", "permanent", "detail"),
    [
        (refused(550), True, "smtp 550"),
        (refused(553), True, "smtp 553"),
        (refused(450), False, "smtp 450"),
        (aiosmtplib.SMTPDataError(554, "rejected as spam"), True, "smtp 554"),
        (aiosmtplib.SMTPDataError(451, "try again later"), False, "smtp 451"),
        # Session errors (syntax, sequence): the connection's state, not a verdict on the message.
        (refused(503), False, "smtp 503"),
        (aiosmtplib.SMTPDataError(503, "bad sequence of commands"), False, "smtp 503"),
        (aiosmtplib.SMTPDataError(500, "command unrecognized"), False, "smtp 500"),
        (aiosmtplib.SMTPDataError(504, "parameter not implemented"), False, "smtp 504"),
        (aiosmtplib.SMTPDataError(505, "some relays' refusal"), True, "smtp 505"),
        (
            aiosmtplib.SMTPSenderRefused(550, "sender not allowed", "no-reply@x.vn"),
            False,
            "smtp 550",
        ),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False, "smtp 535"),
        (aiosmtplib.SMTPConnectError("refused"), False, "SMTPConnectError"),
        (aiosmtplib.SMTPServerDisconnected("gone"), False, "SMTPServerDisconnected"),
        (aiosmtplib.SMTPReadTimeoutError("slow"), False, "SMTPReadTimeoutError"),
    ],
)
def test_only_a_refusal_of_the_recipient_or_the_message_is_permanent(
    error: aiosmtplib.SMTPException, permanent: bool, detail: str
) -> None:
    classified = classify_smtp_error(error)

    assert (classified.permanent, classified.detail) == (permanent, detail)


def test_the_classified_error_does_not_quote_the_servers_text() -> None:
    classified = classify_smtp_error(refused(550))

    assert ADDRESS not in str(classified)
