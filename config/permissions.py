from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from rest_framework.permissions import BasePermission

from config import sql as rawsql

# The backends whose answer ``user_has_perm`` gives in one statement: the lockout backend answers no
# permission (axes' standalone backend), ModelBackend answers from the user's and the groups' rows.
KNOWN_BACKENDS = ["config.lockout.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]


@cache
def _perm_sql(vendor: str) -> str:
    user_perms, user_groups = get_user_model().user_permissions.through, get_user_model().groups.through
    group_perms = Group.permissions.through
    t, c = rawsql.table, rawsql.column
    perm = (f"JOIN {t(Permission)} p ON p.{c(Permission, 'id')} = x.{{perm}} "
            f"JOIN {t(ContentType)} ct ON ct.{c(ContentType, 'id')} = p.{c(Permission, 'content_type')} "
            f"WHERE ct.{c(ContentType, 'app_label')} = %s AND p.{c(Permission, 'codename')} = %s")
    direct = (f"SELECT 1 FROM {t(user_perms)} x "
              + perm.format(perm=c(user_perms, "permission")) + f" AND x.{c(user_perms, 'user')} = %s")
    via_group = (f"SELECT 1 FROM {t(group_perms)} x JOIN {t(user_groups)} g ON g.{c(user_groups, 'group')} = "
                 f"x.{c(group_perms, 'group')} " + perm.format(perm=c(group_perms, "permission"))
                 + f" AND g.{c(user_groups, 'user')} = %s")
    return f"SELECT CASE WHEN EXISTS ({direct}) OR EXISTS ({via_group}) THEN 1 ELSE 0 END"


def user_has_perm(user, perm: str) -> bool:
    """``user.has_perm(perm)`` in one statement where Django's ModelBackend takes two (it loads all of the
    user's permissions, then all of the groups', on every request: the user is a new instance each
    time). The same answer: active superusers have every permission, inactive users none, others those
    granted to them or to one of their groups. With other authentication backends configured, or the
    user's permissions already loaded, it is ``user.has_perm`` itself."""
    if not (user and user.is_authenticated):
        return False
    if list(settings.AUTHENTICATION_BACKENDS) != KNOWN_BACKENDS or hasattr(user, "_perm_cache"):
        return user.has_perm(perm)
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    app_label, _, codename = perm.partition(".")
    found = rawsql.fetch(_perm_sql(rawsql.db().vendor), [app_label, codename, user.pk, app_label, codename, user.pk])
    return bool(found[0][0])


def has_perm(perm: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission (superusers have all)."""

    class _HasPerm(BasePermission):
        message = f"You need the '{perm}' permission."

        def has_permission(self, request, view) -> bool:
            return user_has_perm(request.user, perm)

    _HasPerm.__name__ = f"HasPerm_{perm.replace('.', '_')}"
    return _HasPerm
