"""synthrec._malloc: freed memory kept for reuse while a model runs, only where glibc can be tuned."""
import platform

import pytest

from synthrec import _malloc

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="the allocator is tuned on glibc only")
def test_tunes_glibc_nests_and_restores(monkeypatch):
    calls = []
    libc = _malloc._libc()
    real_mallopt, real_trim = libc.mallopt, libc.malloc_trim

    class Spy:
        def mallopt(self, param, value):
            calls.append(("mallopt", param, value))
            return real_mallopt(param, value)

        def malloc_trim(self, pad):
            calls.append(("trim", pad))
            return real_trim(pad)

    monkeypatch.setattr(_malloc, "_libc", lambda: Spy())
    with _malloc.reuse_freed_memory() as outer:
        with _malloc.reuse_freed_memory() as inner:
            assert outer and inner
        assert calls == [("mallopt", _malloc._M_MMAP_THRESHOLD, _malloc._KEEP),
                         ("mallopt", _malloc._M_TRIM_THRESHOLD, _malloc._KEEP)]  # the inner block changed nothing
    assert calls[2:] == [("mallopt", _malloc._M_MMAP_THRESHOLD, _malloc._AFTER_MMAP),
                         ("mallopt", _malloc._M_TRIM_THRESHOLD, _malloc._AFTER_TRIM), ("trim", 0)]


def test_switched_off_or_elsewhere_it_does_nothing(monkeypatch):
    monkeypatch.setenv("SYNTHREC_REUSE_FREED_MEMORY", "0")
    with _malloc.reuse_freed_memory() as tuned:
        assert tuned is False
    monkeypatch.delenv("SYNTHREC_REUSE_FREED_MEMORY")
    monkeypatch.setattr(_malloc, "_libc", lambda: None)  # macOS, Windows, musl
    with _malloc.reuse_freed_memory() as tuned:
        assert tuned is False
