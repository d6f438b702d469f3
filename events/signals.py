"""What events announce to the apps built on them, which events itself must not know.

Sent by the services, inside the transaction that made the change, so a receiver's
writes (e.g. queued emails) commit or roll back with it. These are domain events, not
model signals: nothing is sent from save().
"""

from django.dispatch import Signal

# An event became public for the first time or again: sent with event=<the locked row>.
event_published = Signal()
