"""Public keys added at run time with ``whack --keyid ID --pubkeyrsa KEY [--addkey]``.

Each key belongs to one ID. Without ``--addkey`` a new key replaces the ID's keys, with it the
key is added beside them (pluto(8)). The IKE_AUTH code asks for the peer's key by the ID the
peer sent and uses the newest one of that ID (trying each in turn is left for later).
"""

from __future__ import annotations

from typing import Any

from pluto.connections.ids import Identity


class PublicKeyStore:
    def __init__(self) -> None:
        self._keys: dict[Identity, list[Any]] = {}

    def add(self, identity: Identity, key: Any, *, replace: bool = True) -> None:
        keys = self._keys.setdefault(identity, [])
        if replace:
            keys.clear()
        keys.append(key)

    def forget(self, identity: Identity) -> None:
        self._keys.pop(identity, None)

    def keys_for(self, identity: Identity) -> list[Any]:
        """The keys of ``identity``, newest first (IDs compare as configured IDs do)."""
        for known, keys in self._keys.items():
            if known.matches(identity):
                return list(reversed(keys))
        return []

    def find(self, identity: Identity) -> Any | None:
        keys = self.keys_for(identity)
        return keys[0] if keys else None

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys.values())


def store_of(core: Any) -> PublicKeyStore:
    """The core's key store (created with the core)."""
    return core.public_keys
