"""Cities' part of a person's data (accounts.privacy): the cities they follow."""

from datetime import datetime

from accounts import privacy
from accounts.models import User
from cities.models import CitySubscription


def export(user: User, now: datetime) -> dict:
    return {
        "city_follows": [
            {"city": name, "city_slug": slug, "followed_at": privacy.iso(at)}
            for name, slug, at in CitySubscription.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("city_name", "city_slug", "created_at")
        ]
    }


def erase(user: User) -> dict[str, int]:
    deleted, _ = CitySubscription.objects.filter(user=user).delete()
    return {"city_follows": deleted}


def register() -> None:
    privacy.register(privacy.Holder(name="cities", export=export, erase=erase))
