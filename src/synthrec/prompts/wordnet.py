"""WordNet enrichment, offline: prompts from a class's first noun synset (synonyms, hypernyms, definition).

The data is Debian's ``wordnet-base`` (WordNet 3.0 in /usr/share/wordnet), read with nltk's
``WordNetCorpusReader``. Three things stand in the way (OFFLINE.md §5), each handled here: nltk ≥3.9.3 reads only
below its "authorised roots" and refuses symlinks leaving them, so the files are copied into a cache folder that
is added to ``nltk.data.path``; Debian ships no ``lexnames`` file, so one is written; and the reader's ``map_wn``
looks for the downloadable corpus, so it is overridden. The ``wn`` package cannot read these files at all.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from ..errors import DataError
from ..labels import LabelSpace
from .basic import basic_prompt

log = logging.getLogger(__name__)

WORDNET_DIR_ENV = "SYNTHREC_WORDNET_DIR"
DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
INSTALL_HINT = "install it with `sudo apt-get install wordnet-base` (add --no-install-recommends to skip the GUI)"
_POS = ("noun", "verb", "adj", "adv")
# What WordNetCorpusReader opens when it starts; data.noun is what the prompts read.
_REQUIRED = tuple(f"index.{p}" for p in _POS) + tuple(f"{p}.exc" for p in _POS) + ("data.noun",)

# WordNet 3.0's lexicographer files, in id order (the lexnames file that Debian leaves out).
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive "
    "noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation "
    "noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception "
    "verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def wordnet_dir() -> Path:
    return Path(os.environ.get(WORDNET_DIR_ENV) or DEFAULT_WORDNET_DIR)


def wordnet_available(src: str | Path | None = None) -> bool:
    src = Path(src) if src is not None else wordnet_dir()
    return all((src / f).is_file() for f in _REQUIRED)


def _cache_root() -> Path:
    if os.environ.get("SYNTHREC_CACHE_DIR"):
        return Path(os.environ["SYNTHREC_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "synthrec"


def _populate(dst: Path, src: Path, files: list[str]) -> None:
    for f in files:
        shutil.copyfile(src / f, dst / f)  # copies the content even where the source is a symlink
    with open(dst / "lexnames", "w", encoding="utf-8") as fh:
        for i, name in enumerate(_LEXNAMES):
            fh.write(f"{i:02d}\t{name}\t{_SYNTACTIC_CATEGORY[name.split('.')[0]]}\n")


def _prepare(src: Path) -> Path:
    """A private copy of the WordNet files plus ``lexnames``, made once per source version and reused."""
    files = sorted(f.name for f in src.iterdir() if f.is_file())
    stamp = hashlib.sha256(repr([(f, (src / f).stat().st_size) for f in files]).encode()).hexdigest()[:12]
    root = _cache_root()
    target = root / f"wordnet-{stamp}"
    if (target / "lexnames").is_file():
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=root))
    except OSError:
        # No writable cache: a private temporary copy for this process.
        tmp = Path(tempfile.mkdtemp(prefix="synthrec-wordnet-"))
        atexit.register(shutil.rmtree, tmp, True)
        _populate(tmp, src, files)
        return tmp
    try:
        _populate(tmp, src, files)
        os.replace(tmp, target)  # atomic: a reader never sees a half-copied folder
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "lexnames").is_file():  # another process won the race unless this is set
            raise
    return target


@functools.lru_cache(maxsize=2)
def _open(src: str):
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class LocalWordNet(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):  # noqa: ARG002 -- no downloadable corpus to map to
            return None

    root = _prepare(Path(src))
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*multilingual.*")  # no Open Multilingual WordNet offline
        return LocalWordNet(str(root), None)


def open_wordnet(src: str | Path | None = None):
    """nltk's WordNet reader on local WordNet 3.0 files (default /usr/share/wordnet or $SYNTHREC_WORDNET_DIR)."""
    src = Path(src) if src is not None else wordnet_dir()
    if not wordnet_available(src):
        raise DataError(f"WordNet data not found in {src}", f"{INSTALL_HINT}, or set {WORDNET_DIR_ENV} to a folder "
                        "with WordNet 3.0's index.* and data.* files")
    return _open(str(src.resolve()))


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _phrase(prefix: str, word: str) -> str:
    """ "a photo of" + "apple" -> "a photo of an apple"; a prefix that already ends in an article keeps it."""
    last = prefix.split()[-1].lower() if prefix.split() else ""
    if last in {"a", "an", "the"}:
        return f"{prefix} {word}"
    return f"{prefix} {_article(word)} {word}"


def _lemma_text(name: str) -> str:
    return name.replace("_", " ")


def _short_definition(text: str, max_words: int = 20) -> str:
    text = text.split(";")[0]
    text = re.sub(r"\([^)]*\)", " ", text)  # parentheticals are asides, not what the image shows
    words = text.split()
    return " ".join(words[:max_words]).rstrip(",:")


def first_noun_synset(wn, name: str, synonyms=()):
    """The first noun synset of the name, of the name without dots ("St. Bernard"), of a synonym, or of one part
    of an "X or Y" name; None when WordNet knows none of them."""
    candidates = [name, name.replace(".", ""), *synonyms]
    candidates += [part for c in list(candidates) if " or " in c for part in c.split(" or ")]
    for c in candidates:
        key = "_".join(c.split())
        if key:
            found = wn.synsets(key, pos="n")
            if found:
                return found[0]
    return None


def wordnet_prompts(synset, name: str, prefix: str) -> list[str]:
    """Prompts in order of how closely they stick to the class: the name, its hypernyms, its definition, its
    synonyms, then its hyponyms (kinds of it). Duplicates are dropped.

    nltk returns related synsets in set order, which changes with PYTHONHASHSEED; sorting by synset name makes
    the prompts the same in every process.
    """
    def by_name(synsets):
        return sorted(synsets, key=lambda s: s.name())

    me = _phrase(prefix, name)
    out = [f"{me}."]
    for h in by_name(synset.hypernyms() + synset.instance_hypernyms()):
        out.append(f"{me}, a kind of {_lemma_text(h.lemmas()[0].name())}.")
    definition = _short_definition(synset.definition())
    if definition:
        out.append(f"{me}, {definition}.")
    for lemma in synset.lemmas():
        out.append(f"{_phrase(prefix, _lemma_text(lemma.name()))}.")
    for h in by_name(synset.hyponyms()):
        out.append(f"{_phrase(prefix, _lemma_text(h.lemmas()[0].name()))}, a kind of {name}.")
    seen: set[str] = set()
    return [p for p in out if not (p.casefold() in seen or seen.add(p.casefold()))]


def wordnet_strategy(labels: LabelSpace, cfg, seed: int, device: str) -> list[list[tuple[str, str]]]:
    """Up to ``per_class`` WordNet prompts per class; classes WordNet does not know get the basic prompt."""
    wn = open_wordnet()
    prefix = (cfg.prefix if cfg.prefix is not None else labels.domain) or "a photo of"
    out: list[list[tuple[str, str]]] = []
    for cid, name in enumerate(labels.names):
        synset = first_noun_synset(wn, name, labels.synonyms[cid] if labels.synonyms else ())
        if synset is None:
            fallback = basic_prompt(name, cfg.template, labels.domain)
            log.info("WordNet: class %d %r is not in WordNet; using the basic prompt %r", cid, name, fallback)
            out.append([(fallback, "basic")])
            continue
        out.append([(p, "wordnet") for p in wordnet_prompts(synset, name, prefix.strip())[:cfg.per_class]])
    return out
