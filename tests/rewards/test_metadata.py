import pytest
from django.core.exceptions import ValidationError

from rewards.metadata import delivery, validate_metadata


@pytest.mark.parametrize(("reward_type", "metadata"), [
    ("avatar_static", {"avatar_url": "https://api.dicebear.com/9.x/bottts/svg?seed=1"}),
    ("avatar_animated", {"animated_avatar_url": "https://robohash.org/x.png"}),
    ("avatar_upload_unlock", {}),
    ("merch_coupon", {"coupon_code": "CLUB10", "expires_on": "2027-01-31"}),
    ("merch_coupon", {"coupon_code": "CLUB10"}),
    ("merch_physical", {"sku": "TS-1", "size": "XL", "colour": "red"}),
    ("merch_digital", {"download_url": "https://example.org/a.zip"}),
    ("merch_digital", {"licence_key": "ABCD-EFGH"}),
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
    ("merch_coupon", {"coupon_code": "X", "expires_on": "31/01/2027"}, "YYYY-MM-DD"),
    ("merch_physical", {"sku": "TS", "color": "red"}, "Unknown key(s) for merch_physical: color"),
    ("merch_physical", {"size": "M"}, "needs: sku"),
    ("merch_digital", {}, "download_url or licence_key"),
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
