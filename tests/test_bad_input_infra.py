"""Bad input to the hand-written infrastructure (config, assets, data,
course_models, bench_results, doctor, the package's own attribute lookup)
ends in one CourseError sentence that says what to do, or in a documented
result: never a raw traceback, a silent default or a write outside the cache.

Property tests generate wrong types, out-of-range numbers, random names and
random environment values; the explicit tests are the examples of issue 15.
"""

import io
import json
import os
import string
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import datasets
import pytest
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import assume, given
from hypothesis import strategies as st

import course_utils as cu
from course_utils import assets, bench_results, config, course_models, data
from course_utils.__main__ import main

# what a message may ask the student to do, after it says what is wrong
ACTIONS = (
    "pass ",
    "set ",
    "use ",
    "run ",
    "install",
    "see ",
    "connect",
)

# text an environment variable can hold (no NUL, no lone surrogates)
ENV_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
# anything that is not a str, an int or a bool: wrong types for every guard
NOT_TEXT_OR_INT = st.one_of(
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=4),
    st.tuples(st.integers()),
)
ANYTHING = st.one_of(NOT_TEXT_OR_INT, st.text(max_size=12), st.integers())
NOT_BOOL = st.one_of(NOT_TEXT_OR_INT, st.text(max_size=5), st.integers())
# random names: printable junk, near-misses and path tricks
NAMES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "../assets",
            "..",
            ".",
            "/etc",
            "tiny-gpt/../../x",
            "tiny_gpt",
            "Tiny-GPT",
            "wordsim",
            "SimLex999",
            "tweet-sentiment",
            "all-minilm-l6-v2",
            "gpt2",
        ]
    ),
)


def one_sentence_saying_what_to_do(message: str) -> str:
    """The message is one line, names the problem and then an action."""
    assert "\n" not in message and message.endswith((".", "?", ")")), message
    lowered = message.lower()
    assert any(action in lowered for action in ACTIONS), message
    return message


@contextmanager
def environment(**values):
    """Set (or, for None, unset) environment variables for one example.

    ``monkeypatch`` is function-scoped, so hypothesis examples use their own
    context instead of the fixture.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        assets.hub_reachable.cache_clear()
        try:
            yield patch
        finally:
            assets.hub_reachable.cache_clear()


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    """A private folder for the course cache of this module's tests."""
    return tmp_path_factory.mktemp("course-cache")


# --- environment variables ---------------------------------------------------


@PROPERTY_SETTINGS
@given(value=ENV_TEXT)
def test_any_course_fast_value_is_a_mode_or_one_sentence(value):
    with environment(COURSE_FAST=value):
        kind, result = clear_error_or_result(config.is_fast)
    word = value.strip().lower()
    if kind == "ok":
        assert result is config.FLAG_VALUES.get(word, False)
        assert word in config.FLAG_VALUES or word == ""
    else:
        assert "COURSE_FAST" in result and repr(value) in result
        one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(
    word=st.sampled_from(sorted(config.FLAG_VALUES)),
    case=st.sampled_from([str.lower, str.upper, str.title]),
    pad=st.sampled_from(["", " ", "\t", " \n"]),
)
def test_every_accepted_spelling_of_a_flag_works(word, case, pad):
    with environment(COURSE_FAST=pad + case(word) + pad):
        assert config.is_fast() is config.FLAG_VALUES[word]
        assert config.mode_name() == ("FAST" if config.is_fast() else "full")


@PROPERTY_SETTINGS
@given(value=ENV_TEXT)
def test_any_course_offline_value_is_a_flag_or_one_sentence(value):
    def no_network(*args, **kwargs):
        raise OSError("the test has no network")

    with environment(
        COURSE_OFFLINE=value, HF_HUB_OFFLINE=None, COURSE_HUB=None
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(assets.socket, "create_connection", no_network)
            kind, result = clear_error_or_result(assets.hub_reachable)
    if kind == "ok":
        assert result is False
        assert value.strip().lower() in {*config.FLAG_VALUES, ""}
    else:
        one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(value=ENV_TEXT)
def test_any_course_hub_value_is_a_mode_or_one_sentence(value):
    with environment(COURSE_HUB=value):
        kind, result = clear_error_or_result(assets.hub_mode)
    if kind == "ok":
        assert result == (value.strip().lower() or "auto")
        assert result in assets.HUB_MODES
    else:
        one_sentence_saying_what_to_do(result)


# components for generated cache paths: no "/" so that nothing escapes
PATH_PART = st.text(
    string.ascii_letters + string.digits + "-_. ~$", min_size=1, max_size=8
).filter(lambda part: part.strip(". ") != "")


@PROPERTY_SETTINGS
@given(
    prefix=st.sampled_from(["ROOT/", "~/", "$CACHE_ROOT/", "", "./", "x/"]),
    parts=st.lists(PATH_PART, min_size=1, max_size=3),
)
def test_any_cache_value_is_an_absolute_folder_or_one_sentence(
    cache_root, prefix, parts
):
    """Relative paths are refused; ``~`` and variables are expanded; the
    folder is made under the private root and nowhere else."""
    home = cache_root / "home"
    value = prefix.replace("ROOT", str(cache_root)) + "/".join(parts)
    with environment(COURSE_CACHE=value, HOME=str(home)) as patch:
        patch.setenv("CACHE_ROOT", str(cache_root))
        kind, result = clear_error_or_result(config.cache_dir)
    if kind == "ok":
        assert result.is_absolute() and result.is_dir()
        assert str(result).startswith(str(cache_root))
    else:
        one_sentence_saying_what_to_do(result)
        assert prefix in ("", "./", "x/") or "$" in value, result


# --- seeds, timers, the package's attributes ---------------------------------


@PROPERTY_SETTINGS
@given(seed=st.one_of(ANYTHING, st.booleans(), st.integers(2**31, 2**80)))
def test_set_seed_takes_a_non_negative_int_below_2_to_the_32(seed):
    kind, result = clear_error_or_result(lambda: config.set_seed(seed))
    valid = type(seed) is int and 0 <= seed < 2**32
    assert (kind == "ok") == valid, (seed, result)
    if kind == "error":
        one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(seed=st.one_of(NOT_TEXT_OR_INT, st.text(max_size=3), st.booleans()))
def test_start_notebook_refuses_a_seed_that_is_not_an_int(seed):
    one_sentence_saying_what_to_do(clear_error(lambda: cu.start_notebook(seed)))


@PROPERTY_SETTINGS
@given(label=ANYTHING, verbose=st.one_of(st.booleans(), NOT_BOOL))
def test_timer_takes_a_str_label_and_a_bool(label, verbose):
    def run():
        with config.timer(label, verbose=verbose) as record:
            pass
        return record["seconds"]

    kind, result = clear_error_or_result(run)
    valid = isinstance(label, str) and isinstance(verbose, bool)
    assert (kind == "ok") == valid, (label, verbose, result)


@PROPERTY_SETTINGS
@given(name=NAMES)
def test_an_unknown_package_attribute_is_one_sentence(name):
    known = name.isidentifier() and hasattr(cu, name)
    assume(not known and not name.startswith("__"))
    message = clear_error(lambda: getattr(cu, name))
    one_sentence_saying_what_to_do(message)
    assert not hasattr(cu, name)  # still an AttributeError for hasattr


# --- assets ------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(name=st.one_of(NAMES, NOT_TEXT_OR_INT, st.integers()))
def test_asset_lookups_by_any_name(name):
    for lookup in (assets.get_asset, assets.asset_path):
        kind, result = clear_error_or_result(lambda: lookup(name))
        assert (kind == "ok") == (
            isinstance(name, str) and name in assets.ASSETS
        )
        if kind == "error":
            one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(name=st.one_of(NAMES, NOT_TEXT_OR_INT))
def test_hub_revisions_and_checkpoints_by_any_name(name):
    kind, result = clear_error_or_result(lambda: assets.hub_revision(name))
    if kind == "ok":
        assert name in assets.HUB_REVISIONS and len(result) == 40
    else:
        one_sentence_saying_what_to_do(result)
    with environment(HF_HUB_OFFLINE="1"):
        kind, result = clear_error_or_result(
            lambda: assets.resolve_checkpoint(name)
        )
    if kind == "ok":
        assert os.path.isdir(result)
    else:
        one_sentence_saying_what_to_do(result)


# --- data loaders ------------------------------------------------------------


@PROPERTY_SETTINGS
@given(name=st.one_of(NAMES, NOT_TEXT_OR_INT))
def test_word_similarity_by_any_name(name):
    assume(name not in data.WORD_SIMILARITY_SETS)  # those load (tested below)
    message = clear_error(lambda: data.load_word_similarity(name))
    one_sentence_saying_what_to_do(message)


@PROPERTY_SETTINGS
@given(
    max_sentences=st.one_of(
        st.none(),
        st.integers(-3, 4),
        st.booleans(),
        st.floats(),
        st.text(max_size=3),
    )
)
def test_peoples_daily_takes_none_or_a_positive_int(max_sentences):
    kind, result = clear_error_or_result(
        lambda: data.load_peoples_daily(max_sentences=max_sentences)
    )
    valid = max_sentences is None or (
        type(max_sentences) is int and max_sentences >= 1
    )
    assert (kind == "ok") == valid, (max_sentences, result)
    if kind == "ok":
        assert isinstance(result, datasets.Dataset)
        assert max_sentences is None or len(result) == max_sentences
    else:
        one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(
    value=NOT_BOOL,
    min_chars=st.one_of(
        NOT_TEXT_OR_INT,
        st.text(max_size=3),
        st.booleans(),
        st.integers(max_value=-1),
    ),
)
def test_loader_options_of_the_wrong_type_are_one_sentence(value, min_chars):
    for call in (
        lambda: data.load_tweets(drop_duplicates=value),
        lambda: data.load_chinese_reviews(drop_duplicates=value),
        lambda: data.load_wikipedia(min_chars=min_chars),
    ):
        one_sentence_saying_what_to_do(clear_error(call))


# --- course models -----------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    name=st.one_of(NAMES, NOT_TEXT_OR_INT), fast=st.sampled_from([None, True])
)
def test_course_models_refuse_unknown_names_before_touching_disk(
    cache_root, name, fast
):
    assume(not isinstance(name, str) or name not in course_models.RECIPES)
    cache = cache_root / "models-test"
    with environment(COURSE_CACHE=str(cache)):
        for call in (
            lambda: course_models.checkpoint_dir(name, fast),
            lambda: course_models.is_built(name, fast),
            lambda: course_models.save(name, lambda folder: None, fast),
            lambda: course_models.ensure(name),
        ):
            one_sentence_saying_what_to_do(clear_error(call))
    assert not (cache / "models").exists()


@PROPERTY_SETTINGS
@given(fast=NOT_BOOL.filter(lambda v: v is not None), rebuild=NOT_BOOL)
def test_course_model_options_of_the_wrong_type(cache_root, fast, rebuild):
    with environment(COURSE_CACHE=str(cache_root / "options")):
        for call in (
            lambda: course_models.checkpoint_dir("tiny-gpt", fast),
            lambda: course_models.save("tiny-gpt", lambda folder: None, fast),
            lambda: course_models.save("tiny-gpt", rebuild, False),
            lambda: course_models.ensure("tiny-gpt", rebuild=rebuild),
        ):
            one_sentence_saying_what_to_do(clear_error(call))
    assert not (cache_root / "options" / "models").exists()


# --- benchmark figures and the command line ----------------------------------


@PROPERTY_SETTINGS
@given(prefix=st.one_of(st.text(max_size=8), NOT_TEXT_OR_INT, st.integers()))
def test_bench_table_takes_a_str_prefix(prefix):
    kind, result = clear_error_or_result(lambda: bench_results.table(prefix))
    assert (kind == "ok") == isinstance(prefix, str)
    if kind == "ok":
        assert all(name.startswith(prefix) for name in result.get("figure", []))
    else:
        one_sentence_saying_what_to_do(result)


@PROPERTY_SETTINGS
@given(
    argv=st.one_of(
        st.lists(st.text(max_size=8), max_size=3),
        st.text(max_size=8),
        NOT_TEXT_OR_INT.filter(lambda v: not isinstance(v, (list, tuple))),
    )
)
def test_the_command_line_refuses_what_it_does_not_know(argv):
    # the real command runs the doctor: tested in test_doctor.py
    assume(not (isinstance(argv, list) and argv[:1] == ["doctor"]))

    def run():
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                return main(argv)
        except SystemExit as done:  # argparse: usage or help, documented
            return ("exit", done.code)

    kind, result = clear_error_or_result(run)
    if kind == "ok":
        assert result in (("exit", 2), ("exit", 0)), result
    else:
        one_sentence_saying_what_to_do(result)


# --- the examples of issue 15, one by one ------------------------------------


@pytest.mark.parametrize("value", ["fast", "2", "enabled"])
def test_issue_course_fast_values_no_longer_select_full_mode(
    monkeypatch, value
):
    monkeypatch.setenv("COURSE_FAST", value)
    message = clear_error(config.is_fast)
    assert message.startswith(f"COURSE_FAST={value!r} is not a yes/no value")
    one_sentence_saying_what_to_do(message)
    clear_error(lambda: config.pick(1, 2))


def test_issue_cache_with_a_tilde_goes_home(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COURSE_CACHE", "~/x")
    assert config.cache_dir() == tmp_path / "home" / "x"
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("value", ["x", "./cache", "~nosuchuser123/x"])
def test_issue_cache_refuses_a_relative_path(monkeypatch, tmp_path, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_CACHE", value)
    message = clear_error(config.cache_dir)
    assert "is not an absolute path" in message
    assert list(tmp_path.iterdir()) == []


def test_issue_cache_refuses_a_file_and_a_folder_everyone_writes(
    monkeypatch, tmp_path
):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "file"))
    assert "is a file, not a folder" in clear_error(config.cache_dir)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("COURSE_CACHE", str(shared))
    message = clear_error(config.cache_dir)
    assert "writable by every user" in message
    one_sentence_saying_what_to_do(message)


def test_issue_peoples_daily_with_zero_sentences():
    message = clear_error(lambda: data.load_peoples_daily(max_sentences=0))
    assert message == (
        "max_sentences must be at least 1, got 0; pass an int >= 1."
    )
    assert len(data.load_peoples_daily(max_sentences=1)) == 1


def test_issue_word_similarity_with_a_wrong_data_set():
    message = clear_error(lambda: data.load_word_similarity("tweet-sentiment"))
    assert "'tweet-sentiment' is not a word-similarity set" in message
    assert "did you mean 'simlex999'" in clear_error(
        lambda: data.load_word_similarity("simlex")
    )
    assert data.load_word_similarity("simlex999").num_rows == 999


def test_issue_set_seed_with_a_str():
    message = clear_error(lambda: cu.set_seed("0"))
    assert message == "seed must be an int, not a str ('0'); pass an int."


def test_issue_ensure_with_a_path_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    message = clear_error(lambda: course_models.ensure("../assets"))
    assert "no course model called '../assets'" in message
    assert "did you mean 'tiny-gpt'" in clear_error(
        lambda: course_models.ensure("tiny-gtp")
    )
    assert list(tmp_path.iterdir()) == []


def test_issue_save_validates_the_name_before_it_removes_anything(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    precious = tmp_path / "cache" / "assets"
    precious.mkdir(parents=True)
    (precious / "keep.txt").write_text("x")
    written = []
    for name in ("../assets", "..", "", "models/../../assets"):
        clear_error(lambda: course_models.save(name, written.append, False))
    assert written == [] and (precious / "keep.txt").exists()
    # a name that a recipe table holds by mistake still cannot escape
    toy = course_models.Recipe("chapter 0 (a test)", lambda d, f: None)
    monkeypatch.setitem(course_models.RECIPES, "../assets", toy)
    message = clear_error(
        lambda: course_models.save("../assets", written.append, False)
    )
    assert "points outside the course cache" in message
    assert written == [] and (precious / "keep.txt").exists()


def test_issue_unknown_names_suggest_the_closest_one():
    assert "did you mean 'wordsim353'" in clear_error(
        lambda: assets.asset_path("wordsim")
    )
    assert "did you mean 'all-MiniLM-L6-v2'" in clear_error(
        lambda: assets.resolve_checkpoint("all-minilm-l6-v2")
    )
    assert "did you mean 'openai-community/gpt2'" in clear_error(
        lambda: assets.hub_revision("openai/gpt2")
    )
    assert "did you mean 'data'" in clear_error(lambda: cu.dat)
    assert "did you mean 'assets'" in clear_error(
        lambda: getattr(cu, "../assets")
    )


def test_a_corrupt_benchmark_file_is_one_sentence(monkeypatch, tmp_path):
    path = tmp_path / "results.json"
    monkeypatch.setattr(bench_results, "RESULTS", path)
    for text in ("{not json", "[1, 2]"):
        path.write_text(text)
        message = clear_error(bench_results.load)
        assert "run `python benchmarks/run.py" in message
    path.write_text(json.dumps({"ch01/x": {"value": 1}}))
    assert bench_results.table("ch01/")["figure"].tolist() == ["ch01/x"]


def test_the_doctor_reports_a_bad_variable_instead_of_crashing(
    monkeypatch, capsys
):
    from course_utils import doctor

    monkeypatch.setattr(doctor, "_check_model_loads", lambda: [])
    monkeypatch.setattr(doctor, "_check_assets", lambda: [])
    monkeypatch.setenv("COURSE_FAST", "fast")
    monkeypatch.setenv("COURSE_HUB", "offlin")
    assets.hub_reachable.cache_clear()
    try:
        assert doctor.run_doctor() == 1
    finally:
        assets.hub_reachable.cache_clear()
    out = capsys.readouterr().out
    assert "[FAIL] execution mode" in out and "COURSE_FAST='fast'" in out
    assert "[FAIL] Hugging Face Hub" in out and "COURSE_HUB='offlin'" in out


def test_nothing_in_the_infrastructure_leaves_temp_folders_or_skips_pins():
    """Section 4: no bare mkdtemp, and every Hub download is pinned."""
    import inspect

    modules = [config, assets, data, course_models, bench_results, cu]
    for module in modules:
        source = inspect.getsource(module)
        assert "mkdtemp" not in source and "gettempdir" not in source, module
    source = inspect.getsource(assets._download)
    assert "revision=revision" in source
