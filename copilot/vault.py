"""Encryption of tenant API keys at rest with Fernet; several keys (newest first) allow rotation."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from copilot.errors import ConfigurationError, TenantError


class KeyVault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("no Fernet key configured (COPILOT_FERNET_KEYS)")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise ConfigurationError(f"COPILOT_FERNET_KEYS holds an invalid Fernet key: {exc}") from exc

    @classmethod
    def from_settings(cls, keys: SecretStr, environment: str, data_dir: Path) -> KeyVault:
        """Keys from the environment; outside production a key file under the data dir is made once."""
        listed = [k.strip() for k in keys.get_secret_value().split(",") if k.strip()]
        if listed:
            return cls(listed)
        if environment == "production":
            raise ConfigurationError("COPILOT_FERNET_KEYS must be set in production")
        key_file = data_dir.resolve() / "fernet.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
        return cls([key_file.read_text().strip()])

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(token.encode()).decode())
        except InvalidToken as exc:
            raise TenantError("stored API key cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt with the newest key, so old keys can be retired."""
        return self._fernet.rotate(token.encode()).decode()
