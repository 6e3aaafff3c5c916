"""The Temporal activity that tells the guardian about a milestone, by email and SMS, once.

Delivery semantics, honestly: each (registration, kind, occasion, channel) is sent at most once per
journal state, and at least once overall. The journal is asked first (already sent, failed or
skipped: nothing to do), the intent is recorded, then the message goes out, then the result is
recorded. A worker that dies after the server accepted the message but before ``sent`` was
recorded re-sends on retry, with the same Message-ID / SMS message id and the same body: the
embedded SMTP sink, the SMS outbox and gateways that honour ``Idempotency-Key`` drop the
duplicate; a plain SMTP relay may deliver it twice (mail clients usually fold messages with the
same Message-ID). That window is milliseconds wide; closing it needs a receiver that deduplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messages import ActivityName
from activities.notifications.declaration import declaration_filename, render_declaration
from activities.notifications.errors import DeliveryError
from activities.notifications.gateways import SmsGateway, SmsMessage
from activities.notifications.journal import (
    FINAL_STATUSES,
    DeliveryStatus,
    NotificationJournal,
    NotificationRecord,
    mask_email,
    mask_phone,
    sha256_hex,
)
from activities.notifications.kinds import (
    ATTACHES_DECLARATION,
    Channel,
    email_message_id,
    sms_message_id,
)
from activities.notifications.links import DeclarationLinks
from activities.notifications.mail import Attachment, Mailer, compose
from activities.notifications.models import (
    ChannelOutcome,
    NotifyGuardianInput,
    NotifyGuardianResult,
)
from activities.notifications.render import (
    MessageContext,
    Renderer,
    document_label,
    vn_date,
    vn_datetime,
)
from domain.reasons import CATALOGUE

log = structlog.get_logger(__name__)

NO_EMAIL = "no email on file"
TRANSIENT_ERROR_TYPE = "NotificationDeliveryDelayed"


def message_context(input: NotifyGuardianInput, links: DeclarationLinks) -> MessageContext:
    """What the templates see of one notification: the same for the same input."""
    reason = CATALOGUE.get(input.reason_code) if input.reason_code else None
    return MessageContext(
        kind=input.kind,
        reference=input.reference,
        guardian_name=input.request.guardian.full_name,
        child_name=input.request.child.full_name,
        office_name=input.office_name,
        submitted_at=vn_datetime(input.request.submitted_at),
        link=links.url(input.registration_id, input.occurred_at),
        link_expires_at=vn_datetime(links.expires_at(input.occurred_at)),
        reason_code=input.reason_code,
        reason=reason.vi if reason else None,
        note=input.note,
        documents=tuple(document_label(name) for name in input.supplement_documents),
        due_date=vn_date(input.supplement_due) if input.supplement_due else None,
        child_account_id=input.child_account_id,
        attached=input.kind in ATTACHES_DECLARATION,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotificationActivities:
    """The notification activities; the worker registers the bound method ``notify_guardian``."""

    def __init__(
        self,
        journal: NotificationJournal,
        mailer: Mailer,
        sms_gateway: SmsGateway,
        renderer: Renderer,
        links: DeclarationLinks,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._journal = journal
        self._mailer = mailer
        self._sms = sms_gateway
        self._renderer = renderer
        self._links = links
        self._clock = clock
        """Only for the journal's sent/failed times; everything rendered uses ``occurred_at``."""

    async def close(self) -> None:
        """Close the mail connection kept between sends; the worker calls it when it stops."""
        await self._mailer.close()

    @activity.defn(name=ActivityName.NOTIFY_GUARDIAN)
    async def notify_guardian(self, input: NotifyGuardianInput) -> NotifyGuardianResult:
        """Email (with the declaration when the kind carries it) and SMS, each exactly once.

        A permanent refusal is recorded as failed and returned, not raised: a bad address must
        not fail the registration. A transient failure of either channel raises a retryable
        ``ApplicationError`` (type ``NotificationDeliveryDelayed``) after the other channel was
        tried, so Temporal retries with backoff and the channel already sent is not sent again.
        """
        context = message_context(input, self._links)
        delayed: list[str] = []
        email = await self._email(input, context, delayed)
        sms = await self._text(input, context, delayed)
        if delayed:
            raise ApplicationError(
                "notification delivery delayed: " + ", ".join(delayed),
                type=TRANSIENT_ERROR_TYPE,
            )
        return NotifyGuardianResult(
            registration_id=input.registration_id,
            kind=input.kind,
            occasion=input.occasion,
            email=email,
            sms=sms,
        )

    async def _email(
        self, input: NotifyGuardianInput, context: MessageContext, delayed: list[str]
    ) -> ChannelOutcome:
        address = input.request.guardian.email
        if address is None:
            return await self._skip(input, Channel.EMAIL, NO_EMAIL)
        status = await self._delivery_status(input, Channel.EMAIL)
        if status is not None and status in FINAL_STATUSES:
            return ChannelOutcome(channel=Channel.EMAIL, status=status, already=True)

        rendered = self._renderer.email(context)
        attachments = []
        if context.attached:
            # Laying out the PDF takes tens of milliseconds: keep it off the event loop.
            pdf = await asyncio.to_thread(
                render_declaration,
                input.request,
                registration_id=input.registration_id,
                office_name=input.office_name,
            )
            attachments.append(Attachment(declaration_filename(input.registration_id), pdf))
        message_id = email_message_id(
            input.registration_id, input.kind, self._mailer.sender, occasion=input.occasion
        )
        message = compose(
            sender=self._mailer.sender,
            to_name=input.request.guardian.full_name,
            to_address=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            date=input.occurred_at,
            attachments=attachments,
        )
        record = NotificationRecord(
            registration_id=input.registration_id,
            kind=input.kind,
            occasion=input.occasion,
            channel=Channel.EMAIL,
            template_id=rendered.template_id,
            template_version=rendered.template_version,
            recipient_masked=mask_email(address),
            body_sha256=rendered.sha256,
            attachment_sha256=sha256_hex(attachments[0].content) if attachments else None,
            message_id=message_id,
            at=self._clock(),
            subject=rendered.subject,
            body=rendered.text,
        )
        return await self._deliver(input, record, lambda: self._mailer.send(message), delayed)

    async def _text(
        self, input: NotifyGuardianInput, context: MessageContext, delayed: list[str]
    ) -> ChannelOutcome:
        status = await self._delivery_status(input, Channel.SMS)
        if status is not None and status in FINAL_STATUSES:
            return ChannelOutcome(channel=Channel.SMS, status=status, already=True)

        rendered = self._renderer.sms(context)
        message_id = sms_message_id(input.registration_id, input.kind, occasion=input.occasion)
        phone = input.request.guardian.phone
        record = NotificationRecord(
            registration_id=input.registration_id,
            kind=input.kind,
            occasion=input.occasion,
            channel=Channel.SMS,
            template_id=rendered.template_id,
            template_version=rendered.template_version,
            recipient_masked=mask_phone(phone),
            body_sha256=rendered.sha256,
            attachment_sha256=None,
            message_id=message_id,
            at=self._clock(),
            subject=None,
            body=rendered.text,
        )
        message = SmsMessage(message_id=message_id, to=phone, text=rendered.text)
        return await self._deliver(input, record, lambda: self._sms.send(message), delayed)

    async def _deliver(
        self,
        input: NotifyGuardianInput,
        record: NotificationRecord,
        send: Callable[[], Awaitable[None]],
        delayed: list[str],
    ) -> ChannelOutcome:
        fields = {
            "registration_id": str(input.registration_id),
            "kind": str(input.kind),
            "occasion": input.occasion,
            "channel": str(record.channel),
        }
        await asyncio.to_thread(self._journal.prepared, record)
        try:
            await send()
        except DeliveryError as error:
            await asyncio.to_thread(
                self._journal.failed,
                input.registration_id,
                record.delivery,
                record.channel,
                error.detail,
                error.permanent,
                self._clock(),
            )
            if error.permanent:
                log.warning("notification.failed", **fields, error=error.detail)
                return ChannelOutcome(
                    channel=record.channel,
                    status=DeliveryStatus.FAILED,
                    message_id=record.message_id,
                    detail=error.detail,
                )
            log.warning("notification.delayed", **fields, error=error.detail)
            delayed.append(f"{record.channel} {error.detail}")
            return ChannelOutcome(
                channel=record.channel,
                status=DeliveryStatus.PREPARED,
                message_id=record.message_id,
                detail=error.detail,
            )
        await asyncio.to_thread(
            self._journal.sent,
            input.registration_id,
            record.delivery,
            record.channel,
            record.message_id,
            self._clock(),
        )
        log.info("notification.sent", **fields, message_id=record.message_id)
        return ChannelOutcome(
            channel=record.channel, status=DeliveryStatus.SENT, message_id=record.message_id
        )

    async def _delivery_status(
        self, input: NotifyGuardianInput, channel: Channel
    ) -> DeliveryStatus | None:
        return await asyncio.to_thread(
            self._journal.delivery_status, input.registration_id, input.delivery, channel
        )

    async def _skip(self, input: NotifyGuardianInput, channel: Channel, why: str) -> ChannelOutcome:
        status = await self._delivery_status(input, channel)
        if status is not None and status in FINAL_STATUSES:
            return ChannelOutcome(channel=channel, status=status, already=True, detail=why)
        await asyncio.to_thread(
            self._journal.skipped,
            input.registration_id,
            input.delivery,
            channel,
            why,
            self._clock(),
        )
        log.info(
            "notification.skipped",
            registration_id=str(input.registration_id),
            kind=str(input.kind),
            occasion=input.occasion,
            channel=str(channel),
            why=why,
        )
        return ChannelOutcome(channel=channel, status=DeliveryStatus.SKIPPED, detail=why)
