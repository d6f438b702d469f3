"""An existing database migrates in place to the apps' new layout: the models that
moved app (city follows to cities; the outbox to notifications) keep their tables
and rows, and their content types (so staff's permissions and the admin history)
follow them. Run on the test database: from the layout of main before the move,
with data in it, forward to today's migrations.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of each app before the move (main at 64b3eac).
BEFORE = [
    ("accounts", "0003_one_line_names"),
    ("events", "0014_event_texts_own_language_first"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("auth", "0012_alter_user_first_name_max_length"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_a_database_of_the_old_layout_migrates_in_place_with_its_rows():
    old = migrate(BEFORE)
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert not any(label == "cities" for label, _name in applied)
    User = old.get_model("accounts", "User")
    Follow = old.get_model("events", "CitySubscription")
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    Group = old.get_model("auth", "Group")
    ada = User.objects.create(email="ada@example.com", name="Ada")
    follow = Follow.objects.create(user=ada, city_slug="london", city_name="London")
    # The content type and permission main had made for the model (migrating this
    # database back gave them back to events).
    follows_type, _ = ContentType.objects.get_or_create(
        app_label="events", model="citysubscription"
    )
    assert not ContentType.objects.filter(app_label="cities").exists()
    view, _ = Permission.objects.get_or_create(
        content_type=follows_type,
        codename="view_citysubscription",
        defaults={"name": "Can view city subscription"},
    )
    Message = old.get_model("events", "Message")
    email = Message.objects.create(
        kind="account", to_email="ada@example.com", user=ada, dedupe_key="old:1"
    )
    outbox_type, _ = ContentType.objects.get_or_create(
        app_label="events", model="message"
    )
    assert not ContentType.objects.filter(app_label="notifications").exists()
    resend, _ = Permission.objects.get_or_create(
        content_type=outbox_type,
        codename="change_message",
        defaults={"name": "Can change email message"},
    )
    managers = Group.objects.create(name="Managers of the old layout")
    managers.permissions.add(view, resend)

    new = migrate(latest())

    Moved = new.get_model("cities", "CitySubscription")
    assert Moved._meta.db_table == "events_citysubscription"
    (row,) = Moved.objects.all()
    assert (row.pk, row.user_id, row.city_slug) == (follow.pk, ada.pk, "london")
    NewType = new.get_model("contenttypes", "ContentType")
    assert NewType.objects.get(pk=follows_type.pk).app_label == "cities"
    NewGroup = new.get_model("auth", "Group")
    kept = NewGroup.objects.get(pk=managers.pk).permissions.order_by("codename")
    assert [(p.content_type.app_label, p.codename) for p in kept] == [
        ("notifications", "change_message"),
        ("cities", "view_citysubscription"),
    ]
    Moved = new.get_model("notifications", "Message")
    assert Moved._meta.db_table == "events_message"
    (row,) = Moved.objects.all()
    assert (row.pk, row.user_id, row.dedupe_key) == (email.pk, ada.pk, "old:1")
    assert NewType.objects.get(pk=outbox_type.pk).app_label == "notifications"
