"""The README's configuration table lists every environment variable the settings read."""

import re

from tests.live import BASE_DIR


def test_every_environment_variable_of_the_settings_is_in_the_readme():
    source = (BASE_DIR / "config" / "settings.py").read_text()
    names = set(re.findall(r'env_\w+\("([A-Z0-9_]+)"', source))
    names |= {f"ANYMAIL_{key}" for key in re.findall(r'"([A-Z_]+)"', source.split("ANYMAIL = ", 1)[1].split("\n")[0])}
    assert {"DEBUG", "SECURE_SSL_REDIRECT", "ANYMAIL_API_KEY"} <= names  # the patterns still find them
    readme = (BASE_DIR / "README.md").read_text()
    assert sorted(name for name in names if f"`{name}`" not in readme) == []
