import pytest

from synthrec.errors import LabelSpaceError
from synthrec.labels import LabelSpace, safe_dirname, unique_dirnames


def test_from_names_round_trip(tmp_path):
    ls = LabelSpace.from_names(["cat", "dog", "sea or lake"], domain="a photo of")
    ls.save(tmp_path / "labels.json")
    back = LabelSpace.load(tmp_path / "labels.json")
    assert back.names == ls.names and back.domain == "a photo of"
    assert [c["id"] for c in back.to_json()["classes"]] == [0, 1, 2]


@pytest.mark.parametrize("names, needle", [
    ([], "empty"),
    (["cat"], "one class"),
    (["cat", ""], "empty name"),
    (["cat", "Cat"], "appears twice"),
    (["cat", " dog"], "spaces"),
])
def test_bad_class_lists(names, needle):
    with pytest.raises(LabelSpaceError) as err:
        LabelSpace.from_names(names)
    assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "..", ".hidden", "x\\y", "über/../cat"])
def test_unsafe_names_never_become_paths(name):
    d = safe_dirname(name)
    assert "/" not in d and "\\" not in d and ".." not in d and not d.startswith(".") and d


def test_dirnames_unique_after_sanitising():
    folders = unique_dirnames(["a/b", "a_b", "a?b"])
    assert len(set(folders)) == 3


def test_from_file_text_and_yaml(tmp_path):
    (tmp_path / "c.txt").write_text("# comment\ncat\n\ndog\n")
    assert LabelSpace.from_file(tmp_path / "c.txt").names == ("cat", "dog")
    (tmp_path / "c.yaml").write_text("classes:\n  - cat\n  - {name: dog, synonyms: [puppy]}\ndomain: a photo of\n")
    ls = LabelSpace.from_file(tmp_path / "c.yaml")
    assert ls.names == ("cat", "dog") and ls.synonyms[1] == ("puppy",) and ls.domain == "a photo of"
    with pytest.raises(LabelSpaceError, match="does not exist"):
        LabelSpace.from_file(tmp_path / "missing.txt")


def test_from_image_folder(tmp_path):
    for c in ["b", "a"]:
        (tmp_path / c).mkdir()
    assert LabelSpace.from_image_folder(tmp_path).names == ("a", "b")
    with pytest.raises(LabelSpaceError, match="does not exist"):
        LabelSpace.from_image_folder(tmp_path / "nope")
