"""`evidence claims`: the claim ledger, each claim's evidence and design, and every kind of problem."""

import json

import pytest

from evidence.claims.design import classify_design
from evidence.claims.ledger import parse_ledger
from evidence.errors import BadInputError


def test_the_seed_article_has_no_problems_and_honest_warnings(run, seed):
    result = run("--library", seed, "claims", seed / "articles" / "nerve-pain.md", "--json")
    assert result.exit_code == 0, result.stdout
    report = result.json()
    assert [c["id"] for c in report["claims"]] == [
        "nerve-repair",
        "pain-relief",
        "neuroplasticity",
        "autonomic-balance",
    ]
    assert report["problems"] == []
    warnings = {c["id"]: " ".join(c["warnings"]) for c in report["claims"]}
    assert "only on narrative reviews" in warnings["nerve-repair"]
    assert "position papers or guidelines" in warnings["pain-relief"]
    assert "single work" in warnings["autonomic-balance"]


def test_the_seed_works_get_the_designs_their_abstracts_describe(run, seed):
    report = run("--library", seed, "claims", "--json").json()
    designs = {s["key"]: s["design"] for c in report["claims"] for s in c["supports"]}
    assert designs == {
        "mehta2013neuropathic": "systematic review or meta-analysis",
        "yang2023application": "narrative review",
        "fan2017acupuncture": "position paper or guideline",
        "dorsher2011acupuncture": "narrative review",
        "hamvas2023acupuncture": "systematic review or meta-analysis",
    }


def test_every_kind_of_problem_is_reported_with_its_line(run, seed):
    ledger = (seed / "claims.toml").read_text()
    ledger += (
        '\n[claims.orphan]\ntext = "A claim no article makes."\n'
        '[[claims.orphan.support]]\nkey = "hamvas2023acupuncture"\n'
        '\n[claims.unbacked]\ntext = "A claim with only background."\n'
        '[[claims.unbacked.support]]\nkey = "mehta2013neuropathic"\nstance = "background"\n'
        '\n[claims.refuted]\ntext = "A contradicted claim."\n'
        '[[claims.refuted.support]]\nkey = "hamvas2023acupuncture"\nstance = "contradicts"\n'
        '\n[claims.ghost]\ntext = "Backed by a work the library lacks."\n'
        '[[claims.ghost.support]]\nkey = "nobody2001"\n'
    )
    (seed / "claims.toml").write_text(ledger)
    article = seed / "draft.md"
    article.write_text(
        "[Acupuncture raises parasympathetic tone]{.claim #autonomic-balance} [@hamvas2023acupuncture; "
        "@fan2017acupuncture].\n"
        "[This one is not in the ledger]{.claim #unknown-claim} [@yang2023application].\n"
        "[Only background]{.claim #unbacked} [@mehta2013neuropathic].\n"
        "[Contradicted]{.claim #refuted} [@hamvas2023acupuncture].\n"
        "[Ghost]{.claim #ghost}.\n"
        "Also cited: [@dorsher2011acupuncture].\n"
    )
    result = run("--library", seed, "claims", article, "--json")
    assert result.exit_code == 1
    problems = [(p["line"], p["file"], p["message"]) for p in result.json()["problems"]]
    text = "\n".join(f"{line} {file} {message}" for line, file, message in problems)
    assert "1  claim #autonomic-balance cites fan2017acupuncture, but claims.toml does not link it" in text
    assert "2  the claim #unknown-claim is not in claims.toml" in text
    assert "3  claim #unbacked has no supporting work" in text
    assert "4  claim #refuted has no supporting work" in text
    assert "is contradicted by hamvas2023acupuncture" in text
    assert "claims.toml claim #ghost lists 'nobody2001', which is not in references.bib" in text
    assert "6  dorsher2011acupuncture is cited but backs no claim" not in text  # it backs claims in the ledger
    assert "claims.toml claims.toml has the claim #orphan, which no article makes" in text


def test_a_claim_whose_only_support_is_retracted_is_a_problem(run, seed):
    doi = "10.1016/j.ctim.2022.102905"
    record = {
        "doi": doi,
        "fetched": "2026-11-28T00:00:00+00:00",
        "source": "test",
        "message": {
            "DOI": doi,
            "title": ["x"],
            "type": "journal-article",
            "updated-by": [
                {
                    "DOI": "10.1016/j.ctim.2024.000001",
                    "type": "retraction",
                    "label": "Retraction",
                    "source": "publisher",
                }
            ],
        },
    }
    (seed / "records" / "10.1016%2Fj.ctim.2022.102905.json").write_text(json.dumps(record))
    result = run("--library", seed, "claims", seed / "articles" / "nerve-pain.md", "--json")
    assert result.exit_code == 1
    messages = [p["message"] for p in result.json()["problems"]]
    assert messages == ["claim #autonomic-balance rests only on retracted work (hamvas2023acupuncture retracted)"]


def test_cited_works_that_back_no_claim_are_reported(run, seed):
    ledger = (seed / "claims.toml").read_text().replace('key = "mehta2013neuropathic"', 'key = "yang2023application"')
    (seed / "claims.toml").write_text(ledger)
    result = run("--library", seed, "claims", seed / "articles" / "nerve-pain.md", "--json")
    assert result.exit_code == 1
    problem = result.json()["problems"][0]
    assert problem["message"] == "mehta2013neuropathic is cited but backs no claim in claims.toml"
    assert problem["line"] == 16


def test_a_broken_ledger_is_refused_with_its_line():
    with pytest.raises(BadInputError, match="line 2"):
        parse_ledger('[claims.a]\ntext = "unterminated\n')
    with pytest.raises(BadInputError, match="stance 'agrees'"):
        parse_ledger('[claims.a]\ntext = "x"\n[[claims.a.support]]\nkey = "k"\nstance = "agrees"\n')


@pytest.mark.parametrize(
    ("title", "abstract", "design"),
    [
        ("Acupuncture for low back pain: a randomized controlled trial", "", "randomised trial"),
        (
            "Effects of X",
            "We conducted a systematic review and meta-analysis of 12 trials.",
            "systematic review or meta-analysis",
        ),
        ("Clinical practice guideline for neuropathic pain", "", "position paper or guideline"),
        ("Electroacupuncture promotes axon regrowth in rats", "", "experimental or animal work"),
        ("A cohort of 200 patients with neuropathy", "", "other clinical study"),
        ("Why we still argue", "This is not a systematic review but an essay.", "unknown"),
    ],
)
def test_study_designs_are_read_from_the_wording(title, abstract, design):
    assert classify_design(title, abstract) == design


def test_suggest_ranks_the_work_whose_sentences_say_the_claim(run, seed):
    result = run("--library", seed, "suggest", "acupuncture raises parasympathetic tone", "--json")
    assert result.exit_code == 0, result.stderr
    top = result.json()["hits"][0]
    assert top["key"] == "hamvas2023acupuncture"
    assert "**parasympathetic**" in top["passage"] and top["design"] == "systematic review or meta-analysis"


def test_suggest_link_records_support_and_keeps_the_ledgers_comments(run, seed):
    before = (seed / "claims.toml").read_text()
    result = run(
        "--library", seed, "suggest", "--claim", "autonomic-balance", "--link", "dorsher2011acupuncture", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json()["linked"] == ["dorsher2011acupuncture"]
    after = (seed / "claims.toml").read_text()
    assert after.startswith(before.split("[claims.autonomic-balance]")[0])  # comments and earlier claims untouched
    ledger = parse_ledger(after)
    assert [s.key for s in ledger["autonomic-balance"].supports] == ["hamvas2023acupuncture", "dorsher2011acupuncture"]
    again = run(
        "--library", seed, "suggest", "--claim", "autonomic-balance", "--link", "dorsher2011acupuncture", "--json"
    )
    assert again.json()["linked"] == []


def test_suggest_from_python_gives_the_same_ranking(seed):
    from evidence import Library

    hits = Library.open(seed).suggest("nerve growth factor regeneration", limit=3)
    assert hits[0].key == "yang2023application"


def test_linking_a_work_whose_passage_appears_to_contradict_asks_instead_of_recording_support(run, seed, monkeypatch):
    import evidence.cli.commands as commands

    args = ["--library", seed, "suggest", "acupuncture lowers vagal activity", "--claim", "vagal-low"]
    shown = run(*args, "--json")
    hamvas = next(hit for hit in shown.json()["hits"] if hit["key"] == "hamvas2023acupuncture")
    assert hamvas["stance_hint"] == "contradicts" and "passage: " in hamvas["stance_cue"]
    refused = run(*args, "--link", "hamvas2023acupuncture")  # no terminal to ask on: told to choose
    assert refused.exit_code == 2 and "appears to contradict" in refused.stderr and "--stance" in refused.stderr
    assert "vagal-low" not in (seed / "claims.toml").read_text()
    monkeypatch.setattr(commands, "interactive", lambda: True)
    asked = run(*args, "--link", "hamvas2023acupuncture", stdin=b"contradicts\n")
    assert asked.exit_code == 0, asked.stderr
    assert "Record it as" in asked.stderr
    ledger = (seed / "claims.toml").read_text()
    assert "vagal-low" in ledger and 'stance = "contradicts"' in ledger


def test_an_explicit_stance_is_recorded_without_asking(run, seed):
    args = ["--library", seed, "suggest", "acupuncture lowers vagal activity", "--claim", "vagal-low"]
    result = run(*args, "--link", "hamvas2023acupuncture", "--stance", "background")
    assert result.exit_code == 0, result.stderr
    assert 'stance = "background"' in (seed / "claims.toml").read_text()


def test_claims_warns_when_a_supporting_passage_appears_to_contradict_the_claim(run, seed):
    args = ["--library", seed, "suggest", "acupuncture lowers vagal activity", "--claim", "vagal-low"]
    assert run(*args, "--link", "hamvas2023acupuncture", "--stance", "supports").exit_code == 0
    result = run("--library", seed, "claims", "--json")
    claim = next(c for c in result.json()["claims"] if c["id"] == "vagal-low")
    assert any("hamvas2023acupuncture appears to contradict the claim" in w for w in claim["warnings"])
    others = [w for c in result.json()["claims"] if c["id"] != "vagal-low" for w in c["warnings"]]
    assert not any("appears to contradict" in w for w in others)  # the seed's own passages raise no hint


def test_show_and_claims_read_only_the_works_they_name_while_the_file_is_unchanged(run, seed, monkeypatch):
    before = run("--library", seed, "claims", "--json").json()
    run("--library", seed, "search", "acupuncture")  # the entry map recorded, as any search leaves it

    def no_full_read(self):
        raise AssertionError("the whole references.bib was parsed")

    monkeypatch.setattr("evidence.store.folder.Store.load_bib", no_full_read)
    shown = run("--library", seed, "show", "hamvas2023acupuncture", "--json")
    assert shown.exit_code == 0 and shown.json()["design"] == "systematic review or meta-analysis"
    assert run("--library", seed, "claims", "--json").json() == before


def test_claims_after_a_hand_edit_show_the_work_as_edited(run, seed):
    run("--library", seed, "search", "acupuncture")
    bib = seed / "references.bib"
    bib.write_text(bib.read_text().replace("Acupuncture increases parasympathetic tone", "Edited title: tone"))
    claims = run("--library", seed, "claims", "--json").json()["claims"]
    titles = {s["key"]: s["title"] for claim in claims for s in claim["supports"]}
    assert titles["hamvas2023acupuncture"].startswith("Edited title: tone")
    assert (
        run("--library", seed, "show", "hamvas2023acupuncture", "--json")
        .json()["fields"]["title"]
        .startswith("Edited title")
    )
