"""emotion-edge: a camera frame in, the emotion of each face out, published over MQTT."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emotion-edge")
except PackageNotFoundError:  # running from a source tree that was never pip-installed
    __version__ = "0+unknown"
