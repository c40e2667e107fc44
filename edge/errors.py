"""One error family: what a user can get wrong, each saying what and how to fix it."""


class EdgeError(Exception):
    """Base of every error a user of emotion-edge can act on."""


class ConfigError(EdgeError, ValueError):
    """The configuration file or an environment override is invalid."""


class SourceError(EdgeError):
    """A frame source could not be opened or stopped delivering frames."""


class ModelError(EdgeError):
    """The model file, its sidecar JSON or the face cascade is missing or unusable."""


class BrokerError(EdgeError):
    """The MQTT broker settings are unusable (bad TLS files, unreadable password)."""


class SourceExhausted(SourceError):
    """A replayed video or image list has no more frames and is not looping."""


class BadFrame(SourceError):
    """One frame could not be decoded (a damaged file); the source itself still works."""
