"""Loads the Open Models Developer Tour demo. Running it again duplicates nothing."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from events import services
from events.models import Event, EventSeries

DESCRIPTION = (
    "An evening with the people who build, fine-tune and ship open models: two short "
    "talks, live demos from local teams, and plenty of time to meet each other.\n\n"
    "Doors open 30 minutes before the start. Food and drinks are on us."
)


@dataclass(frozen=True)
class DemoEvent:
    slug: str
    city: str
    country: str
    zone: str
    venue: str
    address: str
    days_from_today: int
    capacity: int
    status: str = Event.Status.PUBLISHED
    title: str = ""
    attendees: int = 0
    # The event's own language, and its title and description in it; English is
    # added as a translation (so readers of other languages see English).
    language: str = "en"
    own_title: str = ""
    own_description: str = ""


DEMO_EVENTS = [
    DemoEvent(
        "sf-preview",
        "San Francisco",
        "US",
        "America/Los_Angeles",
        "The Foundry SoMa",
        "1425 Folsom St\nSan Francisco, CA 94103",
        -21,
        40,
        title="Open Models Preview Night — San Francisco",
    ),
    DemoEvent(
        "sf-launch",
        "San Francisco",
        "US",
        "America/Los_Angeles",
        "Moscone Center West, Room 2001",
        "800 Howard St\nSan Francisco, CA 94103",
        14,
        120,
        attendees=3,
    ),
    DemoEvent(
        "london",
        "London",
        "GB",
        "Europe/London",
        "The Trampery Old Street",
        "239 Old St\nLondon EC1V 9EY",
        28,
        80,
    ),
    DemoEvent(
        "paris",
        "Paris",
        "FR",
        "Europe/Paris",
        "Station F — Forum",
        "5 Parvis Alan Turing\n75013 Paris",
        35,
        100,
    ),
    DemoEvent(
        "berlin",
        "Berlin",
        "DE",
        "Europe/Berlin",
        "Factory Berlin Görlitzer Park",
        "Lohmühlenstraße 65\n12435 Berlin",
        49,
        3,
        attendees=5,
    ),
    DemoEvent(
        "bangalore",
        "Bangalore",
        "IN",
        "Asia/Kolkata",
        "NASSCOM CoE",
        "Domlur, Indiranagar\nBengaluru, Karnataka 560071",
        63,
        150,
    ),
    DemoEvent(
        "tokyo",
        "Tokyo",
        "JP",
        "Asia/Tokyo",
        "Shibuya Stream Hall",
        "3-21-3 Shibuya, Shibuya-ku\nTokyo 150-0002",
        77,
        90,
        language="ja",
        own_title="オープンモデル開発者ツアー — 東京",
        own_description=(
            "オープンモデルを作り、調整し、届ける人たちの夜。短いトーク2本、"
            "地元チームのライブデモ、そして交流の時間。\n\n"
            "開始30分前に開場します。軽食とドリンクをご用意しています。"
        ),
    ),
    DemoEvent(
        "sao-paulo",
        "São Paulo",
        "BR",
        "America/Sao_Paulo",
        "Cubo Itaú",
        "Av. Dr. Gastão Vidigal, 1132\nSão Paulo — SP, 05314-000",
        91,
        110,
        language="pt-br",
        own_title="Tour de Desenvolvedores de Modelos Abertos — São Paulo",
        own_description=(
            "Uma noite com quem constrói, ajusta e entrega modelos abertos: duas "
            "palestras curtas, demos ao vivo de times locais e muito tempo para "
            "conhecer gente.\n\nAs portas abrem 30 minutos antes. Comida e bebida "
            "por nossa conta."
        ),
    ),
    DemoEvent(
        "seoul",
        "Seoul",
        "KR",
        "Asia/Seoul",
        "D.CAMP Seonneung",
        "Teheran-ro 423\nGangnam-gu, Seoul",
        120,
        80,
        status=Event.Status.DRAFT,
    ),
]


def _local_evening(days_from_today: int, zone: str) -> tuple[datetime, datetime]:
    """18:00 to 21:00 in the event's zone, days_from_today days from today there."""
    tz = ZoneInfo(zone)
    day = timezone.now().astimezone(tz).date() + timedelta(days=days_from_today)
    starts = datetime.combine(day, time(18, 0), tzinfo=tz)
    return starts, starts + timedelta(hours=3)


class Command(BaseCommand):
    help = "Loads the Open Models Developer Tour demo data (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        series, _ = EventSeries.objects.update_or_create(
            slug="open-models-tour",
            defaults={
                "name": "Open Models Developer Tour",
                "home_city": "San Francisco",
                "description": "A free evening for developers building with open models, "
                "starting in San Francisco and travelling the world.",
            },
        )
        for demo in DEMO_EVENTS:
            starts_at, ends_at = _local_evening(demo.days_from_today, demo.zone)
            # Existing events are left as they are, so edits made in the admin survive.
            english = demo.title or f"Open Models Developer Tour — {demo.city}"
            texts = {"en": (english, DESCRIPTION)}
            if demo.language != "en":
                texts[demo.language] = (demo.own_title, demo.own_description)
            fields = {
                "series": series,
                "language": demo.language,
                "city": demo.city,
                "country": demo.country,
                "venue_name": demo.venue,
                "venue_address": demo.address,
                "timezone": demo.zone,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "status": demo.status,
            }
            event = Event.objects.filter(slug=demo.slug).first()
            created = event is None
            if created:
                event = Event(slug=demo.slug, capacity=demo.capacity, **fields)
                if demo.status == Event.Status.PUBLISHED:
                    event.published_at = timezone.now()  # as publish_event records it
                for language, (title, description) in texts.items():
                    event.set_current_language(language)
                    event.title, event.description = title, description
                event.set_current_language(demo.language)
                event.save()
            # Attendees join only a new event: an old one may have started by now.
            for n in range(1, demo.attendees * created + 1):
                attendee = self._attendee(
                    f"{demo.slug}-{n}@example.com", f"Demo attendee {n}"
                )
                services.register(event=event, user=attendee)
            verb = "created" if created else "kept"
            self.stdout.write(f"{verb}: {event.title} ({event.get_status_display()})")
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

    def _attendee(self, email: str, name: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, name=name)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user
