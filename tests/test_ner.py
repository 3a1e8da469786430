"""course_utils.ner (generated from chapter 8/02): the WNUT-16 split, the
memorisation baseline, label alignment and tag sequences."""

import numpy as np

from course_utils import data, ner


def test_split_is_80_10_10_and_disjoint():
    wnut = data.load_wnut16()
    splits = ner.split_wnut(wnut, seed=0)
    sizes = {name: len(split) for name, split in splits.items()}
    assert sum(sizes.values()) == len(wnut)
    assert sizes["train"] == round(0.8 * len(wnut))
    again = ner.split_wnut(wnut, seed=0)
    assert again["test"]["tokens"] == splits["test"]["tokens"]


def test_align_labels_first_piece_only():
    # [CLS] Ada Love ##lace visited [SEP]: word ids None 0 1 1 2 None
    labels = ner.align_labels([1, 2, 0], [None, 0, 1, 1, 2, None])
    assert labels == [-100, 1, 2, -100, 0, -100]
    assert ner.IGNORE_INDEX == -100


def test_memorisation_baseline():
    memory = ner.memorise_tags(
        [["London", "calling"], ["london", "bridge"], ["Paris"]],
        [["B-geo-loc", "O"], ["B-geo-loc", "O"], ["O"]],
    )
    assert memory["london"] == "B-geo-loc"
    tagged = ner.tag_from_memory(memory, [["LONDON", "Rome"]])
    assert tagged == [["B-geo-loc", "O"]]


def test_to_tag_sequences_keeps_labelled_positions():
    names = ["O", "B-person", "I-person"]
    logits = np.zeros((1, 4, 3))
    logits[0, 1, 1] = logits[0, 2, 2] = logits[0, 3, 0] = 1.0
    labels = np.array([[-100, 1, -100, 0]])
    pred, gold = ner.to_tag_sequences(logits, labels, names)
    assert pred == [["B-person", "O"]] and gold == [["B-person", "O"]]
