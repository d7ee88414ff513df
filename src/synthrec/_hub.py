"""Is a Hugging Face hub id usable here, without downloading it? For the checks before any expensive work."""
from __future__ import annotations

import logging
import os
from typing import Sequence

from .errors import ModelLoadError

log = logging.getLogger(__name__)


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def check_hub_model(repo_id: str, filenames: Sequence[str], what: str, revision: str | None = None) -> None:
    """Raise :class:`ModelLoadError` unless ``repo_id`` is a valid id that is cached (offline) or exists on the hub
    (online). ``filenames``: files one of which a cached copy must hold. A network failure online is only logged:
    loading will tell."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ModelLoadError(f"{what} {repo_id!r} is neither an existing folder nor a valid hub id",
                             "check it for typos (hub ids look like owner/name; folders must exist)") from None
    if offline():
        if not any(isinstance(try_to_load_from_cache(repo_id, f, revision=revision), str) for f in filenames):
            raise ModelLoadError(f"{what} {repo_id!r} is not in the local Hugging Face cache and offline mode is on "
                                 "(HF_HUB_OFFLINE=1)", f"download it once with network access (`huggingface-cli "
                                 f"download {repo_id}`), or give a local folder")
        return
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().model_info(repo_id, revision=revision, timeout=15)
    except GatedRepoError:
        raise ModelLoadError(f"{what} {repo_id!r} is gated on the hub", "accept its licence on the hub and run "
                             "`huggingface-cli login`") from None
    except RepositoryNotFoundError:
        raise ModelLoadError(f"{what} {repo_id!r} does not exist on the Hugging Face hub (or is private)",
                             "check the id for typos, or run `huggingface-cli login` for a private model") from None
    except RevisionNotFoundError:
        raise ModelLoadError(f"{what} {repo_id!r} has no revision {revision!r}", "check the revision") from None
    except Exception as exc:  # network trouble: not a problem of the config
        log.warning("could not reach the hub to check %s %s (%s); loading it will tell", what, repo_id,
                    type(exc).__name__)
