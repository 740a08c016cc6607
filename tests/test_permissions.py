"""config.permissions.user_has_perm: the same answer as Django's ``user.has_perm`` (ModelBackend), in
one statement instead of two (issue 15: the events endpoint's per-request cost)."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.permissions import user_has_perm

PERM = "engagement.record_action"


def fresh(user):
    """A new instance, as every request has (no permission cache from an earlier check)."""
    return type(user).objects.get(pk=user.pk)


def answers(user, perm=PERM):
    fast = user_has_perm(fresh(user), perm)
    assert fast == fresh(user).has_perm(perm), "user_has_perm must agree with user.has_perm"
    return fast


@pytest.fixture
def record_action():
    return Permission.objects.get(content_type__app_label="engagement", codename="record_action")


def test_granted_directly_or_through_a_group_and_nothing_else(make_user, record_action):
    direct, grouped, plain = make_user("direct"), make_user("grouped"), make_user("plain")
    direct.user_permissions.add(record_action)
    group = Group.objects.create(name="websites")
    group.permissions.add(record_action)
    grouped.groups.add(group)
    make_user("other").user_permissions.add(record_action)  # someone else's grant counts for no one else
    assert (answers(direct), answers(grouped), answers(plain)) == (True, True, False)
    assert answers(direct, "engagement.ban_member") is False


def test_the_app_label_counts_not_only_the_codename(make_user):
    elsewhere = ContentType.objects.get_for_model(Group)
    twin = Permission.objects.create(content_type=elsewhere, codename="record_action", name="same codename")
    user = make_user("twin")
    user.user_permissions.add(twin)
    assert answers(user) is False
    assert answers(user, "auth.record_action") is True


def test_inactive_users_have_none_and_active_superusers_all(make_user, record_action):
    inactive = make_user("gone", is_active=False)
    inactive.user_permissions.add(record_action)
    boss = make_user("boss", is_superuser=True)
    assert answers(inactive) is False
    assert answers(boss) is True and answers(boss, "engagement.no_such_permission") is True
    assert user_has_perm(AnonymousUser(), PERM) is False


def test_one_statement_where_django_sends_two(make_user, record_action):
    user = make_user("direct")
    user.user_permissions.add(record_action)
    with CaptureQueriesContext(connection) as ours:
        assert user_has_perm(fresh_user := fresh(user), PERM)
    with CaptureQueriesContext(connection) as django:
        assert fresh(user).has_perm(PERM)
    assert len(ours) == 2 and len(django) == 3, "one to load the user in each, then 1 against 2"
    assert not hasattr(fresh_user, "_perm_cache")


def test_other_backends_get_django_s_own_answer(make_user, record_action, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    user = make_user("direct")
    user.user_permissions.add(record_action)
    with CaptureQueriesContext(connection) as sent:
        assert user_has_perm(fresh(user), PERM)
    assert len(sent) == 3
