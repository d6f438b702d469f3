"""A rendered row as a MIME message: text, HTML with its inline images, and the
calendar invitation; and the HTML as a browser can show it (the admin's previews)."""

import base64
import secrets
from collections.abc import Sequence
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from django.core.mail import EmailMultiAlternatives

from notifications import kinds
from notifications.models import Message


class EmailWithInlineImages(EmailMultiAlternatives):
    """An email whose HTML shows images by cid: URL.

    The HTML alternative and its images travel together in one multipart/related
    part (RFC 2387), so mail clients show the images in place, not as attachments:
    multipart/alternative holds text/plain and multipart/related (text/html and the
    images); other attachments (the invitation) stay outside, as before.

    Each multipart part gets its boundary here, a random 128-bit token. Left to
    itself, the email package picks a boundary and compiles a new regular expression
    per part to check the body for it, which was a tenth of a worker's time per
    message (and flushed the re module's cache); a token of that size cannot turn up
    in a body by chance.
    """

    def __init__(self, *args, inline_images: Sequence[MIMEImage] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def message(self):
        msg = super().message()
        if self.inline_images:
            _relate_html(msg, self.inline_images)
        for part in msg.walk():
            if part.is_multipart():
                part.set_boundary(f"==turnout-{secrets.token_hex(16)}==")
        return msg


def _relate_html(msg, images: Sequence[MIMEImage]) -> None:
    for part in msg.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        children = part.get_payload()
        for index, child in enumerate(children):
            if child.get_content_type() == "text/html":
                related = MIMEMultipart("related", type="text/html")
                related.attach(child)
                for image in images:
                    related.attach(image)
                children[index] = related
                return


def as_email(message: Message, connection) -> EmailMultiAlternatives:
    """The rendered row as a MIME message: text, HTML (with the images it shows
    inline, e.g. a ticket's QR code) and the invitation."""
    email = EmailWithInlineImages(
        subject=message.subject,
        body=message.body_text,
        to=[message.to_email],
        headers={"X-Turnout-Message": str(message.pk), **message.headers},
        connection=connection,
        inline_images=kinds.get(message.kind).inline_images(message, message.body_html),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.ics:
        method = next(
            line.split(":", 1)[1]
            for line in message.ics.splitlines()
            if line.startswith("METHOD:")
        )
        part = MIMEText(message.ics, "calendar", "utf-8")
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        email.attach(part)
    return email


def html_for_browser(html: str, images: Sequence[MIMEImage]) -> str:
    """The HTML with each inline image as a data: URL: a browser cannot resolve the
    cid: URLs an email uses."""
    for image in images:
        cid = f"cid:{image['Content-ID'].strip('<>')}"
        data = base64.b64encode(image.get_payload(decode=True)).decode()
        html = html.replace(cid, f"data:{image.get_content_type()};base64,{data}")
    return html
