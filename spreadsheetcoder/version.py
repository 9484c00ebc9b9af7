"""The package's version, read from its installed metadata: pyproject.toml is the one place it is written.

Imports nothing from the package, so any module may take the version from here without loading the
package's facade (``spreadsheetcoder/__init__.py``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("spreadsheetcoder")
except PackageNotFoundError:  # a source tree used without installing it
    __version__ = "0+unknown"
