"""Errors a user can cause, each with a one-line French message that says what to do.

Entry points (CLI, chat) catch :class:`DepecheError` and show ``str(error)``
without a traceback; anything else is a bug.
"""


def printable(text: str) -> str:
    """``text`` as valid UTF-8: a file name that is not (Latin-1 bytes, read by Python as
    surrogates) gets � in place of its undecodable bytes, so it can be printed and stored."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class DepecheError(Exception):
    """Base class: the message is meant for the user, in one line (always printable)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(printable(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(DepecheError):
    """A setting in the environment is invalid."""


class EmptyQuestionError(DepecheError):
    def __init__(self) -> None:
        super().__init__("La question est vide : écrivez une question.")


class QuestionTooLongError(DepecheError):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"La question est trop longue ({length} caractères, maximum {limit}) : raccourcissez-la.")


class IndexMissingError(DepecheError):
    def __init__(self, where: object) -> None:
        super().__init__(f"Aucun index dans {where} : lancez d'abord `python -m index build`.")


class IndexCorruptedError(DepecheError):
    def __init__(self, where: object, why: str) -> None:
        super().__init__(
            f"L'index dans {where} est endommagé ({why}) : reconstruisez-le avec `python -m index rebuild`."
        )


class IndexBusyError(DepecheError):
    def __init__(self, where: object, holder: str) -> None:
        super().__init__(
            f"L'index dans {where} est en cours de mise à jour ({holder}) : réessayez quand elle sera finie."
        )


class DiskFullError(DepecheError):
    def __init__(self, where: object) -> None:
        super().__init__(
            f"Disque plein en écrivant l'index dans {where} : rien n'a été publié, l'index d'avant répond ; "
            "libérez de la place puis relancez la commande."
        )


class StoreUnavailableError(DepecheError):
    """The Milvus store could not be reached or refused a request (:mod:`rag.store.milvus`)."""

    def __init__(self, uri: str, setting: str, why: str) -> None:
        super().__init__(f"Magasin Milvus injoignable à {uri} ({setting}) : {why}.")


class ModelMismatchError(DepecheError):
    def __init__(self, built_with: str, current: str) -> None:
        super().__init__(
            f"L'index a été construit avec le modèle d'embedding {built_with}, "
            f"mais le modèle configuré est {current} : "
            "reconstruisez-le avec `python -m index rebuild`."
        )


class DocumentError(DepecheError):
    """A source file could not be read or parsed; the message names the file."""


class FeedError(DepecheError):
    """An RSS or Atom feed could not be used (unreachable, malformed, not a feed); the message
    names it, and nothing was added for it (:mod:`rag.sources.feeds`)."""


class ModelLoadError(DepecheError):
    """A model could not be found, assembled or loaded."""
