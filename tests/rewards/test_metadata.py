import pytest
from django.core.exceptions import ValidationError

from rewards.metadata import delivery, validate_metadata


@pytest.mark.parametrize(("reward_type", "metadata"), [
    ("avatar_static", {"avatar_url": "https://api.dicebear.com/9.x/bottts/svg?seed=1"}),
    ("avatar_animated", {"animated_avatar_url": "https://robohash.org/x.png"}),
    ("avatar_upload_unlock", {}),
    ("merch_coupon", {"coupon_code": "CLUB10", "expires_at": "2027-01-31"}),
    ("merch_coupon", {"coupon_code": "CLUB10"}),
    ("merch_physical", {"sku": "TS-1", "size": "XL", "color": "red"}),
    ("merch_digital", {"download_url": "https://example.org/a.zip"}),
    ("merch_digital", {"license_key": "ABCD-EFGH"}),
    ("custom", {"anything": ["goes", 1]}),
])
def test_valid_metadata_is_accepted(reward_type, metadata):
    assert validate_metadata(reward_type, metadata) == metadata


@pytest.mark.parametrize(("reward_type", "metadata", "complaint"), [
    ("avatar_static", {}, "needs: avatar_url"),
    ("avatar_static", {"avatar_url": "http://api.dicebear.com/x"}, "https URL"),
    ("avatar_static", {"avatar_url": "https://evil.example/x.png"}, "must be on one of"),
    ("avatar_animated", {"avatar_url": "https://robohash.org/x.png"}, "Unknown key"),
    ("merch_coupon", {"coupon_code": ""}, "non-empty text"),
    ("merch_coupon", {"coupon_code": "X", "expires_at": "31/01/2027"}, "date or date-time"),
    ("merch_coupon", {"coupon_code": "X", "expires_at": "2027-13-45T00:00:00"}, "date or date-time"),
    ("merch_coupon", {"coupon_code": "X", "discount": -5}, "positive number"),
    ("merch_coupon", {"coupon_code": "X", "discount": True}, "text or a positive number"),
    ("merch_coupon", {"coupon_code": "X", "note": ["a"]}, "non-empty text"),
    ("merch_physical", {"sku": "TS", "colour": "red", "color": "red"}, "the same key"),
    ("merch_physical", {"sku": "TS", "colour_": "red"}, "Unknown key(s) for merch_physical: colour_"),
    ("merch_physical", {"size": "M"}, "needs: sku"),
    ("merch_digital", {}, "download_url or license_key"),
    ("merch_digital", {"download_url": "ftp://example.org/a"}, "https URL"),
    ("merch_physical", ["sku"], "JSON object"),
    ("teleport", {}, "Unknown reward type"),
])
def test_invalid_metadata_names_the_problem(reward_type, metadata, complaint):
    with pytest.raises(ValidationError) as info:
        validate_metadata(reward_type, metadata)
    assert complaint in str(info.value)


def test_delivery_reveals_codes_only_for_coupon_and_digital_rewards():
    assert delivery("merch_coupon", {"coupon_code": "C"}) == {"coupon_code": "C"}
    assert delivery("merch_physical", {"sku": "S"}) == {}


@pytest.mark.parametrize(("reward_type", "metadata"), [
    # The club specification's own examples, verbatim.
    ("merch_coupon", {"coupon_code": "FAN2025", "expires_at": "2025-12-31T23:59:59Z", "discount": "20%",
                      "note": "Valid in the fan shop only"}),
    ("merch_coupon", {"coupon_code": "FAN10", "discount": 10}),
    ("merch_physical", {"sku": "SCARF-01", "size": "L", "color": "red"}),
    ("merch_digital", {"download_url": "https://example.org/w.zip", "license_key": "XXXX-YYYY"}),
])
def test_the_specifications_keys_are_accepted_verbatim(reward_type, metadata):
    assert validate_metadata(reward_type, metadata) == metadata


def test_plaudits_earlier_spellings_are_stored_under_the_specifications_keys():
    assert validate_metadata("merch_physical", {"sku": "S", "colour": "navy"}) == {"sku": "S", "color": "navy"}
    assert validate_metadata("merch_digital", {"licence_key": "K"}) == {"license_key": "K"}
    assert validate_metadata("merch_coupon", {"coupon_code": "C", "expires_on": "2027-01-31"}) == {
        "coupon_code": "C", "expires_at": "2027-01-31"}
