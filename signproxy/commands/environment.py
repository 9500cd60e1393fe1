"""Where the variables come from: the env file (``--env-file`` or ``./.env``) and the process.

The only module that reads the process environment and ``.env`` files; everything else gets the
merged mapping (tests pass plain dicts).
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from signproxy.errors import ConfigError
from signproxy.settings.config import merge_sources

DEFAULT_ENV_FILE = Path(".env")


def read_environment(env_file: Path | None) -> dict[str, str]:
    """The env file's variables overlaid by the process environment's.

    Raises:
        ConfigError: ``--env-file`` names a file that does not exist; the env file cannot be
            read or is not UTF-8; a setting and its ``_FILE`` form are both in the environment.
    """
    if env_file is not None and not env_file.is_file():
        raise ConfigError("--env-file", "the file does not exist")
    path = env_file or DEFAULT_ENV_FILE
    try:
        file_values = dotenv_values(path) if path.is_file() else {}
    except (OSError, UnicodeError) as exc:
        # The type only: the message may quote the file's bytes.
        raise ConfigError(
            "--env-file" if env_file is not None else str(DEFAULT_ENV_FILE),
            f"cannot be read ({type(exc).__name__}; it must be a readable UTF-8 file)",
        ) from None
    return merge_sources(file_values, os.environ)


def watched_env_file(env_file: Path | None) -> Path | None:
    """The env file a reload re-reads: ``--env-file``, else ``./.env`` when it exists."""
    if env_file is not None:
        return env_file
    return DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.is_file() else None
