"""Reward pictures by upload (Pillow-validated, size-limited, through the storage API) and image URLs
relative to the site."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from rewards.models import Reward

pytestmark = pytest.mark.django_db
ADMIN_REWARDS = "/api/v1/admin/engagement/rewards"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def png(size=(8, 8), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, fmt)
    return buffer.getvalue()


def test_an_uploaded_picture_is_stored_and_served_by_a_relative_url(admin_api, make_reward, tmp_path):
    reward = make_reward("custom")
    upload = SimpleUploadedFile("scarf.png", png(), content_type="image/png")
    response = admin_api.post(f"{ADMIN_REWARDS}/{reward.pk}/image", {"image": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    url = response.json()["image_url"]
    assert url.startswith("/media/rewards/") and url.endswith(".png")
    assert (tmp_path / url.removeprefix("/media/")).read_bytes() == png()
    assert Reward.objects.get().image_url == url


@pytest.mark.parametrize(("content", "name", "status", "code"), [
    (b"GIF89a but not really", "x.gif", 400, "image_not_image"),
    (png(fmt="BMP"), "x.bmp", 415, "image_bad_type"),
    (png(size=(1200, 1200), fmt="BMP"), "big.bmp", 413, "image_too_large"),
])
def test_bad_uploads_are_refused_with_a_code(admin_api, make_reward, settings, content, name, status, code):
    settings.REWARDS_IMAGE_MAX_BYTES = 1024 * 1024
    reward = make_reward("custom")
    upload = SimpleUploadedFile(name, content)
    response = admin_api.post(f"{ADMIN_REWARDS}/{reward.pk}/image", {"image": upload}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Reward.objects.get().image_url == reward.image_url


def test_image_urls_may_be_relative_to_the_site_but_not_anything(admin_api, make_reward):
    reward = make_reward("custom")
    url = f"{ADMIN_REWARDS}/{reward.pk}"
    assert admin_api.patch(url, {"image_url": "/static/rewards/scarf.png"}, format="json").status_code == 200
    for bad in ("//evil.example/x.png", "http://plain.example/x.png", "javascript:alert(1)", "/a/../b.png",
                "rewards/x.png"):
        response = admin_api.patch(url, {"image_url": bad}, format="json")
        assert response.status_code == 400 and "image_url" in response.json()["errors"], bad
    assert Reward.objects.get().image_url == "/static/rewards/scarf.png"


def test_the_admin_form_takes_an_upload(admin_user, make_reward):
    reward = make_reward("custom", stock=None)
    client = Client()
    client.force_login(admin_user)
    form = {"name": reward.name, "type": "custom", "cost_points": "10", "cost_type": "points", "metadata": "{}",
            "description": "", "image_url": "", "stock": "", "active": "on",
            "image_upload": SimpleUploadedFile("p.png", png(), content_type="image/png")}
    response = client.post(f"/admin/rewards/reward/{reward.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Reward.objects.get().image_url.startswith("/media/rewards/")
    form["image_upload"] = SimpleUploadedFile("p.png", b"not an image")
    refused = client.post(f"/admin/rewards/reward/{reward.pk}/change/", form)
    assert refused.status_code == 200 and "not an image we can read" in refused.content.decode()
