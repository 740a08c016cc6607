"""Starting points for new rewards, one per type (the admin's "add from preset" links and the demo)."""

PRESETS: dict[str, dict] = {
    "avatar_static": {
        "name": "Robot avatar", "type": "avatar_static", "cost_points": 50,
        "image_url": "https://api.dicebear.com/9.x/bottts/svg?seed=plaudit",
        "metadata": {"avatar_url": "https://api.dicebear.com/9.x/bottts/svg?seed=plaudit"},
    },
    "avatar_animated": {
        "name": "Animated robot avatar", "type": "avatar_animated", "cost_points": 150,
        "image_url": "https://robohash.org/plaudit.png?set=set3",
        "metadata": {"animated_avatar_url": "https://robohash.org/plaudit.png?set=set3"},
    },
    "avatar_upload_unlock": {
        "name": "Upload your own avatar", "type": "avatar_upload_unlock", "cost_points": 200, "metadata": {},
    },
    "merch_coupon": {
        "name": "10 % off in the club shop", "type": "merch_coupon", "cost_points": 120, "stock": 100,
        "metadata": {"coupon_code": "CLUB10", "expires_at": "2027-12-31", "discount": "10 %"},
    },
    "merch_physical": {
        "name": "Club T-shirt", "type": "merch_physical", "cost_points": 500, "stock": 20,
        "metadata": {"sku": "TSHIRT-NAVY-M", "size": "M", "color": "navy"},
    },
    "merch_digital": {
        "name": "Wallpaper pack", "type": "merch_digital", "cost_points": 80,
        "metadata": {"download_url": "https://example.org/downloads/wallpapers.zip"},
    },
    "custom": {
        "name": "Meet the team after the match", "type": "custom", "cost_points": 1000, "stock": 5,
        "metadata": {"where": "Gate B, 30 minutes after the final whistle"},
    },
}
