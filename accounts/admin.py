from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts import privacy
from accounts.models import User
from config.admin_guards import GuardedAdminMixin


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"  # noqa: DJ007 -- the ModelAdmin chooses what is shown


@admin.register(User)
class UserAdmin(GuardedAdminMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("email", "name", "language", "timezone", "is_staff", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")
    search_fields = ("email", "name")
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("name", "language", "timezone")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    # Deleting, one or many (the delete page and the bulk action), goes through the
    # service: seats pass to the waitlist, past registrations stay without the
    # person, their queued emails are skipped.
    def delete_model(self, request, obj):
        privacy.delete_account(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            privacy.delete_account(user=user)


# Other apps' admins get the same guards as ours (config.admin_guards): declared
# filters only, no 500 on bad query strings; an authenticator's secret is shown to
# nobody.
def _guarded(model, admin_class, **overrides):
    admin.site.unregister(model)
    guarded = type(admin_class.__name__, (GuardedAdminMixin, admin_class), overrides)
    admin.site.register(model, guarded)


_guarded(Group, GroupAdmin)
_guarded(EmailAddress, EmailAddressAdmin)
_guarded(
    Authenticator,
    AuthenticatorAdmin,
    # A lost phone is handled by deleting its authenticator; nobody reads or edits
    # the secret.
    exclude=("data",),
    readonly_fields=("user", "type", "created_at", "last_used_at"),
    has_add_permission=lambda self, request: False,
)
