"""course_utils.tokenization and course_utils.widgets: the offline GPT-2
tokenizer equals tiktoken's, the measures are right on hand-countable cases, bad
input gets one clear sentence; plus the checks chapter 5 makes."""

import pytest

import course_utils as cu
from course_utils import tokenization, widgets
from course_utils.errors import CourseError

VARIED = [
    "Hello world",
    " leading space",
    "trailing space ",
    "two  spaces\n\nnew lines\t tab\r\n",
    "   ",
    "",
    "Café déjà vu, naïve résumé ÆØÅ ß",
    "Hugging Face 🤗 emoji 👩‍👩‍👧 family, flags 🇫🇷",
    "语言模型很强大。",
    "日本語のテキスト",
    "It's we'll they've I'M you'D",
    "1234567 numbers 3.14159 and 1,000,000",
    "x = f(y) ** 2  # code\n    return x",
    "a" * 200,
    "!!!???...",
    "https://example.com/path?q=1&r=2",
    "e-mail: someone@example.org",
    "Ελληνικά και русский текст",
    "العربية",
    "\u200b zero width \ufeff bom",
    "tab\tseparated\tvalues",
]


@pytest.fixture(scope="module")
def gpt2():
    return tokenization.gpt2_tokenizer(use_hub=False)


@pytest.fixture(scope="module")
def reference():
    return tokenization.gpt2_tiktoken()


def test_gpt2_offline_equals_tiktoken_on_varied_text(gpt2, reference):
    for text in VARIED:
        assert gpt2(text, add_special_tokens=False)[
            "input_ids"
        ] == reference.encode(text), repr(text)


def test_gpt2_offline_equals_tiktoken_on_wikipedia_and_tweets(gpt2, reference):
    texts = [t[:3000] for t in cu.data.load_wikipedia()["text"][:15]]
    texts += cu.data.load_tweets()["text"][:300]
    for text in texts:
        assert gpt2(text, add_special_tokens=False)[
            "input_ids"
        ] == reference.encode(text), repr(text[:60])


def test_gpt2_vocabulary_and_special_token(gpt2):
    assert len(gpt2) == 50257
    assert gpt2.eos_token == "<|endoftext|>" and gpt2.eos_token_id == 50256
    assert (
        gpt2.encode("Hello<|endoftext|>")[-1] == 50256
    )  # the special token is one token
    assert gpt2.tokenize(" world") == ["Ġworld"] and gpt2.tokenize("\n") == [
        "Ċ"
    ]


def test_gpt2_round_trip_and_no_unknown(gpt2):
    for text in VARIED:
        ids = gpt2.encode(text)
        assert gpt2.decode(ids) == text, repr(text)
    assert tokenization.unk_rate(gpt2, [t for t in VARIED if t]) == 0.0


def test_gpt2_is_cached_and_independent(gpt2):
    other = tokenization.gpt2_tokenizer(use_hub=False)
    other.pad_token = other.eos_token
    other.padding_side = "left"
    assert (
        gpt2.pad_token is None and gpt2.padding_side == "right"
    )  # changing one copy leaves the other alone
    assert other("a b")["input_ids"] == gpt2("a b")["input_ids"]


def test_fertility_and_unk_rate_on_countable_cases():
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "a": 1, "b": 2, "c": 3}
    chars = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    chars.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),  # then one token per character
            pre_tokenizers.Split(Regex("."), behavior="isolated"),
        ]
    )
    texts = ["ab c", "abx"]  # 3 words, 6 characters, one unknown (x)
    assert tokenization.count_units(texts, "word") == 3
    assert tokenization.count_units(texts, "char") == 6
    assert tokenization.fertility(chars, texts) == pytest.approx(6 / 3)
    assert tokenization.fertility(chars, texts, unit="char") == pytest.approx(
        1.0
    )
    assert tokenization.unk_rate(chars, texts) == pytest.approx(1 / 6)


def test_fertility_of_bert_excludes_special_tokens():
    from transformers import AutoTokenizer

    bert = AutoTokenizer.from_pretrained(
        cu.resolve_checkpoint("all-MiniLM-L6-v2")
    )
    assert tokenization.fertility(bert, "the cat sat") == pytest.approx(
        1.0
    )  # no [CLS]/[SEP]
    assert tokenization.fertility(bert, "tokenization") == pytest.approx(
        2.0
    )  # token ##ization
    assert tokenization.unk_rate(bert, "snow☃man melts") == pytest.approx(
        1 / 3
    )  # [UNK] melt ##s
    # chapter 5's claim: the English WordPiece vocabulary loses much of Chinese
    # text
    reviews = cu.data.load_chinese_reviews()["text"][:300]
    assert tokenization.unk_rate(bert, reviews) > 0.3


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "non-empty list of strings"),
        ([1, 2], "non-empty list of strings"),
    ],
)
def test_bad_texts_get_one_sentence(gpt2, bad, message):
    with pytest.raises(CourseError, match=message):
        tokenization.fertility(gpt2, bad)


def test_bad_unit_and_empty_text(gpt2):
    with pytest.raises(CourseError, match="unit must be 'word' or 'char'"):
        tokenization.fertility(gpt2, "some text", unit="sentence")
    with pytest.raises(CourseError, match="no words or characters"):
        tokenization.fertility(gpt2, "   ")
    with pytest.raises(CourseError, match="Expected a transformers tokenizer"):
        tokenization.fertility(object(), "some text")


def test_bpe_toy_corpus_agrees_with_the_library():
    """The chapter's claim: our BPE loop and tokenizers' BpeTrainer learn the
    same merges on the toy corpus."""
    toy = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    library = tokenization.train_library_bpe(toy, 10)
    assert tokenization.learn_bpe(toy, 10) == tokenization.bpe_merges(library)
    assert tokenization.learn_bpe(toy, 10)[:2] == [
        ("e", "s"),
        ("es", "t"),
    ]  # Sennrich et al.'s first merges
    assert tokenization.learn_bpe({"ab": 3, "c": 1}, 5) == [
        ("a", "b")
    ]  # stops when no pair is left
    assert tokenization.merge_pair(list("aaab"), ("a", "a")) == ["aa", "a", "b"]


def test_tokenizer_explorer_renders_and_updates(gpt2):
    from transformers import AutoTokenizer

    bert = AutoTokenizer.from_pretrained(
        cu.resolve_checkpoint("all-MiniLM-L6-v2")
    )
    explorer = widgets.tokenizer_explorer(
        {"BERT": bert, "GPT-2": gpt2}, text="Hello tokenizers"
    )
    box, table = explorer.children
    assert (
        "Ġtoken" in table.value
        and "##izer" in table.value
        and "<b>GPT-2</b>" in table.value
    )
    bundle = explorer._repr_mimebundle_()
    assert (
        "text/html" in bundle and "Ġtoken" in bundle["text/html"]
    )  # the static fallback
    box.value = "Goodbye"
    assert "Ġtoken" not in table.value and "Good" in table.value


def test_tokenizer_explorer_needs_tokenizers():
    with pytest.raises(CourseError, match="needs a dict"):
        widgets.tokenizer_explorer({})


def test_gpt2_build_is_cached_on_disk_and_survives_a_broken_file(
    monkeypatch, tmp_path, reference
):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    tokenization._offline_gpt2_backend.cache_clear()
    try:
        built = tokenization.gpt2_tokenizer(use_hub=False)
        cached = tmp_path / "gpt2-packaged-tokenizer.json"
        assert cached.exists()
        tokenization._offline_gpt2_backend.cache_clear()
        from_file = tokenization.gpt2_tokenizer(use_hub=False)
        cached.write_text(
            "{ not json"
        )  # a truncated file is rebuilt, not an error
        tokenization._offline_gpt2_backend.cache_clear()
        rebuilt = tokenization.gpt2_tokenizer(use_hub=False)
        for tok in (built, from_file, rebuilt):
            assert tok("Tokenizers, 🤗!", add_special_tokens=False)[
                "input_ids"
            ] == reference.encode("Tokenizers, 🤗!")
    finally:
        tokenization._offline_gpt2_backend.cache_clear()


def test_gpt2_ranks_never_use_a_planted_tiktoken_cache(monkeypatch, tmp_path):
    """tiktoken's load_tiktoken_bpe caches under $TMPDIR/data-gym-cache (or
    TIKTOKEN_CACHE_DIR) and reads the copy back without a check; our reader
    must take the packaged file only, and write nothing there."""
    import hashlib

    from tiktoken.load import load_tiktoken_bpe

    from course_utils.assets import asset_path

    path = str(asset_path("gpt2-bpe-ranks"))
    cache = tmp_path / "cache"
    cache.mkdir()
    planted = cache / hashlib.sha1(path.encode()).hexdigest()
    planted.write_bytes(b"IQ== 0\n")  # a one-token table: "!" -> 0
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    # the attack works on tiktoken's reader: the planted table comes back
    assert load_tiktoken_bpe(path) == {b"!": 0}
    ranks = tokenization.gpt2_ranks()
    assert len(ranks) == 50256 and ranks[b"!"] == 0 and ranks[b" the"] == 262
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    tokenization.gpt2_ranks()
    tokenization.gpt2_tiktoken().encode("no cache, please")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not (tmp_path / "data-gym-cache").exists()


def test_gpt2_ranks_refuse_a_changed_file(monkeypatch, tmp_path):
    fake = tmp_path / "gpt2.tiktoken"
    fake.write_bytes(b"IQ== 0\n")
    monkeypatch.setattr(tokenization, "asset_path", lambda name: fake)
    with pytest.raises(CourseError, match="not the expected file"):
        tokenization.gpt2_ranks()


def test_gpt2_tokenizer_forced_hub_offline_gets_one_sentence(monkeypatch):
    monkeypatch.setattr(tokenization, "hub_reachable", lambda: False)
    with pytest.raises(CourseError, match="Hub is not reachable"):
        tokenization.gpt2_tokenizer(use_hub=True)
