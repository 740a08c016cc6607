from rest_framework.permissions import BasePermission


def has_perm(perm: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission (superusers have all)."""

    class _HasPerm(BasePermission):
        message = f"You need the '{perm}' permission."

        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))

    _HasPerm.__name__ = f"HasPerm_{perm.replace('.', '_')}"
    return _HasPerm
